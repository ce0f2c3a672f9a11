//! The simulator's event queue: a two-level timing wheel over millisecond times.
//!
//! A simulation only ever schedules events at or after the current instant, and nearly all of
//! them within minutes of it (a deployment step, an offline period, a rollback). The queue
//! exploits both:
//!
//! | level | holds | granularity | span |
//! |---|---|---|---|
//! | fine wheel | the current epoch's events | 1 ms per slot | one epoch = 1,024 ms |
//! | coarse wheel | the next epochs' events | 1 epoch per slot | 2,047 epochs (about 35 min) |
//! | overflow | anything later | a binary heap | unbounded |
//!
//! An event is written at most three times over its life (coarse slot, fine slot, out), in 12
//! bytes (the slot gives its epoch), so a push or pop costs a few instructions and a bit scan.
//! The radix heap this replaced could move an event once per bit of its distance from the
//! clock (up to 17 times for a two-minute step) and scanned each bucket it emptied for its
//! minimum: on a million-robot rollout it was 45 % of the simulator's instructions.
//!
//! Events at the same instant come out in the order they were scheduled (first in, first out):
//! a coarse slot is emptied into the fine wheel, in order, before anything else can be scheduled
//! directly into the fine wheel for that epoch, and the overflow is drained into the coarse
//! wheel, in (time, order scheduled), as soon as its events come within the coarse span, before
//! anything else can be scheduled directly there. A run is therefore reproducible.

use std::cmp::Reverse;
use std::collections::BinaryHeap;

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

/// An [`Entry`] in a wheel slot: 12 bytes instead of 24. The slot's epoch gives the rest of its
/// time, so only the millisecond within the epoch is kept.
#[derive(Clone, Copy, Debug)]
struct Slotted {
    robot: u32,
    token: u32,
    /// `at % FINE`.
    ms: u16,
    kind: Kind,
    step: u8,
}

impl Slotted {
    fn new(e: Entry) -> Slotted {
        Slotted {
            robot: e.robot,
            token: e.token,
            ms: (e.at as usize & (FINE - 1)) as u16,
            kind: e.kind,
            step: e.step,
        }
    }

    fn entry(self, epoch: u64) -> Entry {
        Entry {
            at: epoch << FINE_BITS | u64::from(self.ms),
            robot: self.robot,
            token: self.token,
            kind: self.kind,
            step: self.step,
        }
    }
}

/// log2 of the milliseconds in an epoch (the fine wheel's slots).
const FINE_BITS: u32 = 10;
const FINE: usize = 1 << FINE_BITS;
/// Slots of the coarse wheel (epochs); events up to `COARSE - 1` epochs ahead go there.
const COARSE: usize = 2048;

/// A fixed set of slot numbers with a fast "first at or after".
#[derive(Debug)]
struct Bits {
    words: Vec<u64>,
}

impl Bits {
    fn new(n: usize) -> Bits {
        Bits {
            words: vec![0; n.div_ceil(64)],
        }
    }

    fn set(&mut self, i: usize) {
        self.words[i / 64] |= 1 << (i % 64);
    }

    fn clear(&mut self, i: usize) {
        self.words[i / 64] &= !(1 << (i % 64));
    }

    /// The first set slot at or after `from`, without wrapping.
    #[inline]
    fn first_from(&self, from: usize) -> Option<usize> {
        let mut w = from / 64;
        let mut word = *self.words.get(w)? & (u64::MAX << (from % 64));
        loop {
            if word != 0 {
                return Some(w * 64 + word.trailing_zeros() as usize);
            }
            w += 1;
            word = *self.words.get(w)?;
        }
    }
}

/// An overflow entry, ordered by time and then by the order it was scheduled.
#[derive(Debug)]
struct Far {
    at: u64,
    seq: u64,
    entry: Entry,
}

impl PartialEq for Far {
    fn eq(&self, other: &Far) -> bool {
        (self.at, self.seq) == (other.at, other.seq)
    }
}

impl Eq for Far {}

impl PartialOrd for Far {
    fn partial_cmp(&self, other: &Far) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Far {
    fn cmp(&self, other: &Far) -> std::cmp::Ordering {
        (self.at, self.seq).cmp(&(other.at, other.seq))
    }
}

/// Events keyed by time, popped earliest first (first in, first out at the same instant).
#[derive(Debug)]
pub(crate) struct EventQueue {
    /// The current epoch's events by millisecond (`at % FINE`).
    fine: Vec<Vec<Slotted>>,
    fine_bits: Bits,
    /// Entries of the earliest fine slot already popped.
    head: usize,
    /// The fine slot of `last` while it is in the current epoch (0 after moving to an epoch):
    /// no fine slot before it holds anything.
    cursor: usize,
    /// Later epochs' events by epoch (`epoch % COARSE`), for epochs `epoch + 1 .. epoch + COARSE`.
    coarse: Vec<Vec<Slotted>>,
    coarse_bits: Bits,
    /// Emptied coarse slot allocations, for reuse.
    spare: Vec<Vec<Slotted>>,
    far: BinaryHeap<Reverse<Far>>,
    far_seq: u64,
    /// The current epoch (`at >> FINE_BITS` of the fine wheel's events).
    epoch: u64,
    /// The earliest time scheduled, as of the last peek; nothing is scheduled before it.
    last: u64,
    len: usize,
}

impl EventQueue {
    pub(crate) fn new() -> EventQueue {
        EventQueue {
            fine: vec![Vec::new(); FINE],
            fine_bits: Bits::new(FINE),
            head: 0,
            cursor: 0,
            coarse: vec![Vec::new(); COARSE],
            coarse_bits: Bits::new(COARSE),
            spare: Vec::new(),
            far: BinaryHeap::new(),
            far_seq: 0,
            epoch: 0,
            last: 0,
            len: 0,
        }
    }

    /// Schedules `entry`; a time before the last peeked is taken as that time.
    pub(crate) fn push(&mut self, mut entry: Entry) {
        entry.at = entry.at.max(self.last);
        self.len += 1;
        self.place(entry);
    }

    /// Puts an entry in the wheel (or the overflow) its epoch belongs to.
    fn place(&mut self, entry: Entry) {
        let epoch = entry.at >> FINE_BITS;
        if epoch == self.epoch {
            let slot = (entry.at as usize) & (FINE - 1);
            self.fine[slot].push(Slotted::new(entry));
            self.fine_bits.set(slot);
        } else if epoch - self.epoch < COARSE as u64 {
            let slot = (epoch as usize) & (COARSE - 1);
            let events = &mut self.coarse[slot];
            if events.capacity() == 0
                && let Some(spare) = self.spare.pop()
            {
                *events = spare;
            }
            events.push(Slotted::new(entry));
            self.coarse_bits.set(slot);
        } else {
            self.far.push(Reverse(Far {
                at: entry.at,
                seq: self.far_seq,
                entry,
            }));
            self.far_seq += 1;
        }
    }

    /// The earliest scheduled time.
    #[inline]
    pub(crate) fn peek_time(&mut self) -> Option<u64> {
        // Nothing in the fine wheel is before the cursor: every time scheduled is at least
        // `last`, whose slot the cursor is.
        let slot = match self.fine_bits.first_from(self.cursor) {
            Some(slot) => slot,
            None => {
                self.advance()?;
                self.fine_bits.first_from(0)?
            }
        };
        self.cursor = slot;
        self.last = (self.epoch << FINE_BITS) | slot as u64;
        Some(self.last)
    }

    /// The fine wheel is empty: moves to the next epoch with events and spreads them over it.
    #[inline(never)]
    fn advance(&mut self) -> Option<()> {
        let here = (self.epoch as usize) & (COARSE - 1);
        // The coarse wheel holds epochs `epoch + 1 ..`: look after `here`, then wrap around.
        let next = match self.coarse_bits.first_from(here + 1) {
            Some(slot) => Some(self.epoch + (slot - here) as u64),
            None => self
                .coarse_bits
                .first_from(0)
                .map(|slot| self.epoch + (slot + COARSE - here) as u64),
        };
        let next = match next {
            Some(epoch) => epoch,
            None => self.far.peek()?.0.at >> FINE_BITS,
        };
        self.epoch = next;
        self.cursor = 0;
        // Overflow events now within the coarse span go to the wheels before anything is
        // scheduled there directly, earliest (then first scheduled) first.
        while let Some(Reverse(far)) = self.far.peek() {
            if (far.at >> FINE_BITS) - self.epoch >= COARSE as u64 {
                break;
            }
            if let Some(Reverse(far)) = self.far.pop() {
                self.place(far.entry);
            }
        }
        let slot = (next as usize) & (COARSE - 1);
        let mut moving = std::mem::take(&mut self.coarse[slot]);
        self.coarse_bits.clear(slot);
        for entry in moving.drain(..) {
            let fine = usize::from(entry.ms);
            self.fine[fine].push(entry);
            self.fine_bits.set(fine);
        }
        // Keep the emptied allocation for the next coarse slot to be used (a slot is used about
        // once per span, so keeping it there would hold memory for every epoch of a long run).
        self.spare.push(moving);
        Some(())
    }

    /// Removes and returns the earliest event.
    #[inline]
    pub(crate) fn pop(&mut self) -> Option<Entry> {
        let at = self.peek_time()?;
        let slot = (at as usize) & (FINE - 1);
        let events = &mut self.fine[slot];
        let entry = events[self.head].entry(self.epoch);
        self.head += 1;
        if self.head == events.len() {
            events.clear();
            self.head = 0;
            self.fine_bits.clear(slot);
        }
        self.len -= 1;
        Some(entry)
    }

    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.len
    }

    pub(crate) fn heap_bytes(&self) -> usize {
        let slots = |wheel: &Vec<Vec<Slotted>>| {
            wheel.capacity() * std::mem::size_of::<Vec<Slotted>>()
                + wheel
                    .iter()
                    .map(|b| b.capacity() * std::mem::size_of::<Slotted>())
                    .sum::<usize>()
        };
        slots(&self.fine)
            + slots(&self.coarse)
            + slots(&self.spare)
            + (self.fine_bits.words.capacity() + self.coarse_bits.words.capacity()) * 8
            + self.far.capacity() * std::mem::size_of::<Reverse<Far>>()
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

    /// Pushes and pops at random against a reference ordered by (time, order pushed): the queue
    /// must give exactly its sequence, first in first out at the same instant.
    fn check_against_reference(seed: u64, horizon: u64, ops: u32) {
        let mut q = EventQueue::new();
        let mut g = SplitMix64::new(seed);
        let mut reference = std::collections::BTreeSet::new();
        let mut now = 0;
        for i in 0..ops {
            if g.below(3) > 0 || q.len() == 0 {
                // Some events at the current instant, many within the horizon, a few far out.
                let at = match g.below(10) {
                    0 => now,
                    1 => now + g.below(horizon * 1_000),
                    _ => now + g.below(horizon),
                };
                q.push(entry(at, i));
                reference.insert((at, i));
            } else {
                let e = q.pop().unwrap();
                assert_eq!(Some((e.at, e.robot)), reference.pop_first());
                assert!(e.at >= now);
                now = e.at;
            }
        }
        while let Some(e) = q.pop() {
            assert_eq!(Some((e.at, e.robot)), reference.pop_first());
        }
        assert!(reference.is_empty());
        assert_eq!(q.len(), 0);
    }

    #[test]
    fn pops_in_time_order_first_in_first_out_under_interleaved_pushes() {
        check_against_reference(3, 5_000, 20_000);
        check_against_reference(4, 200_000, 20_000);
        check_against_reference(5, 3_000_000, 20_000);
        check_against_reference(6, 7, 20_000);
    }

    #[test]
    fn a_wheel_entry_is_half_an_entry() {
        assert_eq!(std::mem::size_of::<Entry>(), 24);
        assert_eq!(std::mem::size_of::<Slotted>(), 12);
        let e = Entry {
            at: 5 * FINE as u64 + 7,
            robot: 9,
            token: 3,
            kind: Kind::WentOffline,
            step: 4,
        };
        assert_eq!(Slotted::new(e).entry(5), e);
    }

    #[test]
    fn an_event_in_the_past_comes_out_at_the_last_peeked_time() {
        let mut q = EventQueue::new();
        q.push(entry(5_000, 1));
        q.push(entry(9_000, 2));
        assert_eq!(q.pop().map(|e| (e.at, e.robot)), Some((5_000, 1)));
        q.push(entry(10, 3));
        assert_eq!(q.pop().map(|e| (e.at, e.robot)), Some((5_000, 3)));
        assert_eq!(q.pop().map(|e| (e.at, e.robot)), Some((9_000, 2)));
        assert_eq!(q.pop(), None);
        q.push(entry(u64::MAX, 4));
        q.push(entry(u64::MAX - 1, 5));
        assert_eq!(q.pop().map(|e| e.robot), Some(5));
        assert_eq!(q.pop().map(|e| e.robot), Some(4));
        assert_eq!(q.peek_time(), None);
    }
}
