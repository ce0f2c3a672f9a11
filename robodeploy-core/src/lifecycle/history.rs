//! The bounded record of what happened to a deployment: phase changes, errors raised and cleared,
//! exits and restarts.
//!
//! It is a ring of [`LifecycleConfig::history_capacity`](super::LifecycleConfig::history_capacity)
//! entries allocated up front: recording never allocates (entries whose reason carries text clone
//! it, which only failures do), and the oldest entries go first. [`History::dropped`] says how many.

use crate::model::{ErrorCode, Phase, Reason};
use crate::time::Time;

use super::{DependencyIndex, ExecutableIndex};

/// What an error is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorSource {
    /// One executable.
    Executable(ExecutableIndex),
    /// One dependency (`DEP_E156`).
    Dependency(DependencyIndex),
}

/// One thing worth remembering.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum HistoryEvent {
    /// The phase changed.
    Phase {
        /// Before.
        from: Phase,
        /// After.
        to: Phase,
    },
    /// An error appeared.
    ErrorRaised {
        /// What it is about.
        source: ErrorSource,
        /// The code.
        code: ErrorCode,
        /// Why, as the status showed it.
        reason: Option<Reason>,
    },
    /// An error went away because its cause did.
    ErrorCleared {
        /// What it was about.
        source: ErrorSource,
        /// The code.
        code: ErrorCode,
    },
    /// An executable exited on its own.
    Exited {
        /// The executable.
        exe: ExecutableIndex,
        /// Its exit code.
        exit_code: i32,
        /// Whether before the minimum uptime.
        early: bool,
    },
    /// An executable was restarted.
    Restarted {
        /// The executable.
        exe: ExecutableIndex,
        /// Restarts added to its count (1 when commanded; the runtime's increase when observed).
        count: u32,
        /// Whether the runtime restarted it by itself (observed) rather than on command.
        observed: bool,
    },
}

/// A [`HistoryEvent`] and when it happened.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HistoryEntry {
    /// When.
    pub at: Time,
    /// What.
    pub event: HistoryEvent,
}

/// The ring of recent [`HistoryEntry`]s, oldest first.
///
/// Entries live in one buffer allocated up front; once it is full, a new entry overwrites the
/// oldest in place (no shifting, no allocation) and `start` moves on.
#[derive(Clone, Debug)]
pub struct History {
    /// The entries; when full, the oldest is at `start` and the ring wraps around.
    entries: Vec<HistoryEntry>,
    /// Where the oldest entry is once the buffer is full (0 until then).
    start: usize,
    capacity: usize,
    dropped: u64,
}

impl History {
    pub(crate) fn new(capacity: usize) -> Self {
        History {
            entries: Vec::with_capacity(capacity),
            start: 0,
            capacity,
            dropped: 0,
        }
    }

    #[inline(always)]
    pub(crate) fn push(&mut self, at: Time, event: HistoryEvent) {
        let entry = HistoryEntry { at, event };
        if self.entries.len() < self.capacity {
            self.entries.push(entry);
            return;
        }
        // Full (or a capacity of 0, where everything is dropped): replace the oldest.
        self.dropped += 1;
        if let Some(oldest) = self.entries.get_mut(self.start) {
            *oldest = entry;
            self.start += 1;
            if self.start == self.capacity {
                self.start = 0;
            }
        }
    }

    /// The entries kept, oldest first.
    pub fn iter(&self) -> impl DoubleEndedIterator<Item = &HistoryEntry> + '_ {
        let (newer, older) = self.entries.split_at(self.start);
        older.iter().chain(newer)
    }

    /// How many entries are kept.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether nothing was recorded (or everything dropped).
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// How many entries were dropped to make room.
    pub fn dropped(&self) -> u64 {
        self.dropped
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_oldest_entries_go_first_and_are_counted() {
        let mut h = History::new(2);
        for i in 0..3 {
            h.push(
                Time::from_millis(i),
                HistoryEvent::Exited {
                    exe: ExecutableIndex(0),
                    exit_code: i as i32,
                    early: false,
                },
            );
        }
        let at: Vec<i64> = h.iter().map(|e| e.at.as_millis()).collect();
        assert_eq!(at, [1, 2]);
        assert_eq!(h.dropped(), 1);
        assert_eq!(h.len(), 2);
        let back: Vec<i64> = h.iter().rev().map(|e| e.at.as_millis()).collect();
        assert_eq!(back, [2, 1]);
    }

    #[test]
    fn a_ring_that_wrapped_many_times_keeps_the_newest_in_order() {
        let mut h = History::new(3);
        for i in 0..10 {
            h.push(
                Time::from_millis(i),
                HistoryEvent::Exited {
                    exe: ExecutableIndex(0),
                    exit_code: 0,
                    early: false,
                },
            );
        }
        let at: Vec<i64> = h.iter().map(|e| e.at.as_millis()).collect();
        assert_eq!(at, [7, 8, 9]);
        assert_eq!(h.dropped(), 7);
        let mut none = History::new(0);
        none.push(
            Time::EPOCH,
            HistoryEvent::Phase {
                from: Phase::InProgress,
                to: Phase::Provisioning,
            },
        );
        assert!(none.is_empty());
        assert_eq!(none.dropped(), 1);
    }
}
