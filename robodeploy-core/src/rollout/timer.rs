//! The rollout's timers: two per-robot deadline queues and one job timer.
//!
//! Every per-robot deadline is `now + a constant` (the robot timeout for a robot in flight, the
//! offline deadline for a deferred one), and `now` never goes backwards, so deadlines are created
//! in order. A FIFO queue is therefore already sorted: arming is a push, the next deadline is the
//! front, and firing is a pop — O(1) where a heap would be O(log n). Entries are never removed
//! when a robot finishes early; the rollout checks an entry is still live when it reaches the
//! front (the robot is still in that phase with that deadline) and drops it otherwise.

use std::collections::VecDeque;

use crate::time::Time;

/// Deadlines in creation order, each naming a robot.
#[derive(Clone, Debug, Default)]
pub(crate) struct DeadlineQueue {
    entries: VecDeque<(Time, u32)>,
}

impl DeadlineQueue {
    pub(crate) fn with_capacity(n: usize) -> DeadlineQueue {
        DeadlineQueue {
            entries: VecDeque::with_capacity(n),
        }
    }

    /// Arms a deadline; it must not be earlier than any armed before.
    pub(crate) fn push(&mut self, deadline: Time, robot: u32) {
        debug_assert!(self.entries.back().is_none_or(|&(d, _)| d <= deadline));
        self.entries.push_back((deadline, robot));
    }

    /// The earliest armed deadline (live or not).
    pub(crate) fn front(&self) -> Option<(Time, u32)> {
        self.entries.front().copied()
    }

    pub(crate) fn pop(&mut self) -> Option<(Time, u32)> {
        self.entries.pop_front()
    }

    /// Drops dead entries from the front so [`front`](Self::front) names a live deadline.
    pub(crate) fn prune(&mut self, mut live: impl FnMut(Time, u32) -> bool) {
        while let Some(&(d, r)) = self.entries.front() {
            if live(d, r) {
                break;
            }
            self.entries.pop_front();
        }
    }

    pub(crate) fn clear(&mut self) {
        self.entries.clear();
    }

    /// Heap bytes held.
    pub(crate) fn heap_bytes(&self) -> usize {
        self.entries.capacity() * std::mem::size_of::<(Time, u32)>()
    }
}

/// Which timer fired, in the order ties are broken (a robot timeout before an offline deadline
/// before the soak, at the same instant).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Timer {
    RobotTimeout,
    OfflineDeadline,
    Soak,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prune_drops_only_dead_fronts() {
        let mut q = DeadlineQueue::default();
        let t = Time::from_millis;
        for (d, r) in [(10, 0), (20, 1), (30, 2)] {
            q.push(t(d), r);
        }
        q.prune(|_, r| r != 0);
        assert_eq!(q.front(), Some((t(20), 1)));
        q.prune(|_, r| r != 2);
        assert_eq!(
            q.front(),
            Some((t(20), 1)),
            "a dead entry behind a live one waits its turn"
        );
        assert_eq!(q.pop(), Some((t(20), 1)));
        q.prune(|_, r| r != 2);
        assert_eq!(q.front(), None);
    }
}
