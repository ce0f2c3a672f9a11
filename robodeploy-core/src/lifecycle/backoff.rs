//! Exponential restart backoff and the early-exit window that detects crash loops.

use std::time::Duration;

use crate::time::Time;

use super::LifecycleConfig;

/// Exponential backoff: `initial`, then ×`factor` per restart, capped, until [`Backoff::reset`].
///
/// ```
/// use robodeploy_core::lifecycle::Backoff;
/// use std::time::Duration;
/// let mut b = Backoff::new(Duration::from_secs(1), 2, Duration::from_secs(5));
/// let delays: Vec<u64> = (0..5).map(|_| b.next_delay().as_secs()).collect();
/// assert_eq!(delays, [1, 2, 4, 5, 5]);
/// b.reset();
/// assert_eq!(b.next_delay(), Duration::from_secs(1));
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Backoff {
    initial: Duration,
    factor: u32,
    cap: Duration,
    last: Option<Duration>,
}

impl Backoff {
    /// A backoff that has not delayed anything yet.
    pub fn new(initial: Duration, factor: u32, cap: Duration) -> Self {
        Backoff {
            initial: initial.min(cap),
            factor,
            cap,
            last: None,
        }
    }

    /// The backoff a [`LifecycleConfig`] describes.
    pub fn from_config(c: &LifecycleConfig) -> Self {
        Backoff::new(c.initial_backoff, c.backoff_factor, c.max_backoff)
    }

    /// The delay before the next restart; each call grows it until the cap.
    pub fn next_delay(&mut self) -> Duration {
        let d = match self.last {
            None => self.initial,
            Some(prev) => prev
                .checked_mul(self.factor)
                .map_or(self.cap, |d| d.min(self.cap)),
        };
        self.last = Some(d);
        d
    }

    /// The last delay handed out since the last reset.
    pub fn last_delay(&self) -> Option<Duration> {
        self.last
    }

    /// Starts again from the initial delay.
    pub fn reset(&mut self) {
        self.last = None;
    }
}

/// The times of the most recent early exits, in a ring of fixed capacity (the crash-loop
/// threshold), so recording one never allocates.
#[derive(Clone, Debug)]
pub(crate) struct EarlyExits {
    times: Vec<Time>,
    next: usize,
    window: Duration,
}

impl EarlyExits {
    pub(crate) fn new(threshold: u32, window: Duration) -> Self {
        EarlyExits {
            times: Vec::with_capacity(threshold as usize),
            next: 0,
            window,
        }
    }

    /// Records an early exit at `now`; returns how many early exits fall within the window.
    pub(crate) fn record(&mut self, now: Time) -> u32 {
        if self.times.len() < self.times.capacity() {
            self.times.push(now);
        } else {
            self.times[self.next] = now;
            self.next = (self.next + 1) % self.times.len();
        }
        let window = self.window;
        self.times
            .iter()
            .filter(|t| now.since(**t) <= window)
            .count() as u32
    }

    /// Whether `count` early exits make a crash loop.
    pub(crate) fn is_loop(&self, count: u32) -> bool {
        count as usize >= self.times.capacity()
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.times.is_empty()
    }

    pub(crate) fn clear(&mut self) {
        self.times.clear();
        self.next = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn early_exits_outside_the_window_do_not_count() {
        let mut e = EarlyExits::new(3, Duration::from_secs(10));
        assert_eq!(e.record(Time::from_millis(0)), 1);
        assert_eq!(e.record(Time::from_millis(5_000)), 2);
        assert_eq!(e.record(Time::from_millis(10_001)), 2);
        assert!(!e.is_loop(2));
        assert_eq!(e.record(Time::from_millis(12_000)), 3);
        assert!(e.is_loop(3));
        e.clear();
        assert_eq!(e.record(Time::from_millis(13_000)), 1);
    }

    #[test]
    fn backoff_never_exceeds_the_cap_even_with_huge_factors() {
        let mut b = Backoff::new(Duration::from_secs(3), 16, Duration::from_secs(7));
        for _ in 0..100 {
            assert!(b.next_delay() <= Duration::from_secs(7));
        }
        assert_eq!(b.last_delay(), Some(Duration::from_secs(7)));
    }
}
