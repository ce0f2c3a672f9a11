//! The fixed timer table of one executable (quinn-proto's `connection/timer.rs` is the anchor):
//! one slot per kind of timer, no heap of closures.

use crate::time::Time;

/// The kinds of timer an executable can have armed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Timer {
    /// Engine-enforced restart after a backoff delay.
    Restart = 0,
    /// Running long enough to reset the backoff and end a crash loop.
    Healthy = 1,
    /// A `Stop` that is still unanswered counts as failed.
    StopDeadline = 2,
}

/// When each timer of an executable fires, if armed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct TimerTable {
    slots: [Option<Time>; 3],
}

impl TimerTable {
    pub(crate) fn set(&mut self, timer: Timer, at: Time) {
        self.slots[timer as usize] = Some(at);
    }

    pub(crate) fn get(&self, timer: Timer) -> Option<Time> {
        self.slots[timer as usize]
    }

    pub(crate) fn stop(&mut self, timer: Timer) {
        self.slots[timer as usize] = None;
    }

    pub(crate) fn stop_all(&mut self) {
        self.slots = [None; 3];
    }

    /// The earliest armed timer.
    pub(crate) fn next(&self) -> Option<Time> {
        self.slots.iter().flatten().min().copied()
    }

    /// Whether any timer is due at `now`.
    #[inline]
    pub(crate) fn any_due(&self, now: Time) -> bool {
        self.slots.iter().any(|s| s.is_some_and(|at| at <= now))
    }

    /// Disarms and returns `timer` when it is due at `now`.
    pub(crate) fn take_due(&mut self, timer: Timer, now: Time) -> bool {
        match self.slots[timer as usize] {
            Some(at) if at <= now => {
                self.slots[timer as usize] = None;
                true
            }
            _ => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_earliest_armed_timer_is_next_and_fires_once() {
        let mut t = TimerTable::default();
        assert_eq!(t.next(), None);
        t.set(Timer::Healthy, Time::from_millis(50));
        t.set(Timer::Restart, Time::from_millis(20));
        assert_eq!(t.next(), Some(Time::from_millis(20)));
        assert!(!t.any_due(Time::from_millis(19)));
        assert!(!t.take_due(Timer::Restart, Time::from_millis(19)));
        assert!(t.any_due(Time::from_millis(20)));
        assert!(t.take_due(Timer::Restart, Time::from_millis(20)));
        assert!(!t.take_due(Timer::Restart, Time::from_millis(21)));
        assert_eq!(t.next(), Some(Time::from_millis(50)));
        t.stop_all();
        assert_eq!(t.next(), None);
    }
}
