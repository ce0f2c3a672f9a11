//! The simulator's event queue: a radix heap (Ahuja, Mehlhorn, Orlin and Tarjan) over
//! millisecond times.
//!
//! A simulation only ever schedules events at or after the current instant, which is the one
//! condition a radix heap needs. Pushing is O(1); popping moves each event down at most 64
//! buckets over its life, in practice a few. A binary heap of a hundred thousand in-flight
//! robots costs several cache misses per operation; this is what lets a million-robot rollout
//! run in well under a second. Events at the same instant come out in a fixed (last in, first
//! out) order, so a run is reproducible.

/// What a scheduled event does.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Kind {
    /// The robot finished step `step` of its attempt.
    StepDone,
    /// The robot failed at step `step`.
    StepFailed,
    /// The robot dropped offline.
    WentOffline,
    /// The robot is back online.
    CameOnline,
    /// The robot's rollback succeeded.
    RollbackDone,
    /// The robot's rollback failed.
    RollbackFailed,
    /// The job's preparation finished.
    Prepared,
    /// The simulated user resumes the job.
    Resume,
    /// The simulated user cancels the job.
    Cancel,
}

/// One scheduled event.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Entry {
    pub(crate) at: u64,
    pub(crate) robot: u32,
    /// The robot's token when scheduled; a later token means the event is stale.
    pub(crate) token: u32,
    pub(crate) kind: Kind,
    pub(crate) step: u8,
}

/// Events keyed by time, popped earliest first.
#[derive(Debug)]
pub(crate) struct EventQueue {
    buckets: Vec<Vec<Entry>>,
    /// Bit i set when bucket i is not empty: finding the first is one instruction.
    occupied: u128,
    last: u64,
    len: usize,
}

fn bucket(at: u64, last: u64) -> usize {
    (u64::BITS - (at ^ last).leading_zeros()) as usize
}

impl EventQueue {
    pub(crate) fn new() -> EventQueue {
        EventQueue {
            buckets: vec![Vec::new(); 65],
            occupied: 0,
            last: 0,
            len: 0,
        }
    }

    /// Schedules `entry`; its time must not be before the last popped.
    pub(crate) fn push(&mut self, mut entry: Entry) {
        entry.at = entry.at.max(self.last);
        let b = bucket(entry.at, self.last);
        self.buckets[b].push(entry);
        self.occupied |= 1 << b;
        self.len += 1;
    }

    /// The earliest scheduled time.
    pub(crate) fn peek_time(&mut self) -> Option<u64> {
        if self.occupied & 1 == 0 {
            if self.occupied == 0 {
                return None;
            }
            let i = self.occupied.trailing_zeros() as usize;
            let mut moving = std::mem::take(&mut self.buckets[i]);
            self.occupied &= !(1 << i);
            self.last = moving.iter().map(|e| e.at).min()?;
            for e in moving.drain(..) {
                let b = bucket(e.at, self.last);
                self.buckets[b].push(e);
                self.occupied |= 1 << b;
            }
            // Keep the emptied bucket's allocation for its next use.
            self.buckets[i] = moving;
        }
        Some(self.last)
    }

    /// Removes and returns the earliest event.
    pub(crate) fn pop(&mut self) -> Option<Entry> {
        self.peek_time()?;
        self.len -= 1;
        let entry = self.buckets[0].pop();
        if self.buckets[0].is_empty() {
            self.occupied &= !1;
        }
        entry
    }

    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.len
    }

    pub(crate) fn heap_bytes(&self) -> usize {
        self.buckets.capacity() * std::mem::size_of::<Vec<Entry>>()
            + self
                .buckets
                .iter()
                .map(|b| b.capacity() * std::mem::size_of::<Entry>())
                .sum::<usize>()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::SplitMix64;

    fn entry(at: u64, robot: u32) -> Entry {
        Entry {
            at,
            robot,
            token: 0,
            kind: Kind::StepDone,
            step: 0,
        }
    }

    #[test]
    fn pops_in_time_order_under_interleaved_pushes() {
        let mut q = EventQueue::new();
        let mut g = SplitMix64::new(3);
        let mut reference = std::collections::BinaryHeap::new();
        let mut now = 0;
        for i in 0..20_000u32 {
            if g.below(3) > 0 || q.len() == 0 {
                let at = now + g.below(5_000);
                q.push(entry(at, i));
                reference.push(std::cmp::Reverse(at));
            } else {
                let e = q.pop().unwrap();
                assert_eq!(Some(std::cmp::Reverse(e.at)), reference.pop());
                assert!(e.at >= now);
                now = e.at;
            }
        }
        while let Some(e) = q.pop() {
            assert_eq!(Some(std::cmp::Reverse(e.at)), reference.pop());
        }
        assert!(reference.is_empty());
        assert_eq!(q.len(), 0);
    }
}
