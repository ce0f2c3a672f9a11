//! Events of instances the engine does not know: those of a start whose answer has not come back
//! (a process that exits at once can be heard of before its start returns), and the last words
//! of instances the engine let go (the `Removed` of one it replaced or deprovisioned). The first
//! kind is fed to its instance when the start answers; nothing claims the second, so every
//! entry is dropped [`EarlyEvents::KEPT`] after its first event: a long-running engine whose
//! executables restart all day keeps a few minutes of them, not all of them.

use std::collections::HashMap;
use std::time::Duration;

use crate::runtime::{InstanceId, RuntimeEvent};
use crate::time::Time;

use super::message::RuntimeKey;

/// Which instance of which runtime.
type Key = (RuntimeKey, InstanceId);

/// Unclaimed events, by instance.
#[derive(Default)]
pub(crate) struct EarlyEvents {
    by_instance: HashMap<Key, (Time, Vec<RuntimeEvent>)>,
}

impl EarlyEvents {
    /// How long the events of an unknown instance wait for its start to answer. A start
    /// answered later than this, after its instance already exited, is not told of the exit
    /// (the next inspection of the instance is).
    pub(crate) const KEPT: Duration = Duration::from_secs(300);
    /// Events kept per instance.
    const PER_INSTANCE: usize = 16;
    /// Instances kept; past it (a runtime flooding events of strangers) all are dropped.
    const INSTANCES: usize = 4096;

    /// Keeps `event` of the unknown instance `key`, heard at `now`.
    pub(crate) fn keep(&mut self, key: Key, event: RuntimeEvent, now: Time) {
        let (_, events) = self.by_instance.entry(key).or_insert((now, Vec::new()));
        if events.len() < Self::PER_INSTANCE {
            events.push(event);
        }
        if self.by_instance.len() > Self::INSTANCES {
            self.by_instance = HashMap::new();
        }
    }

    /// The events kept for `key`, which the engine now knows.
    pub(crate) fn take(&mut self, key: &Key) -> Option<Vec<RuntimeEvent>> {
        self.by_instance.remove(key).map(|(_, events)| events)
    }

    /// Drops the entries first heard [`KEPT`](Self::KEPT) or more before `now`, and gives back
    /// the room of a table left mostly empty.
    pub(crate) fn expire(&mut self, now: Time) {
        let kept = i64::try_from(Self::KEPT.as_millis()).unwrap_or(i64::MAX);
        let oldest = now.plus_millis(-kept);
        self.by_instance.retain(|_, (first, _)| *first > oldest);
        if self.by_instance.capacity() > 64
            && self.by_instance.len() < self.by_instance.capacity() / 4
        {
            self.by_instance.shrink_to_fit();
        }
    }

    /// How many instances have events kept.
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.by_instance.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::runtime::RuntimeEventKind;

    fn key(name: &str) -> Key {
        (RuntimeKey::Device("r1".into()), InstanceId(name.into()))
    }

    fn removed(name: &str, at: Time) -> RuntimeEvent {
        RuntimeEvent {
            instance: InstanceId(name.into()),
            at,
            kind: RuntimeEventKind::Removed,
        }
    }

    #[test]
    fn an_unclaimed_instance_is_dropped_once_kept_long_enough_and_a_claimed_one_fed() {
        let mut early = EarlyEvents::default();
        let t0 = Time::from_millis(1_000_000);
        early.keep(key("old"), removed("old", t0), t0);
        let t1 = t0.plus_millis(60_000);
        early.keep(key("new"), removed("new", t1), t1);
        early.keep(key("new"), removed("new", t1), t1);
        // Just short of the bound for the first: both stay.
        early.expire(t0.plus_millis(299_999));
        assert_eq!(early.len(), 2);
        early.expire(t0.plus_millis(300_000));
        assert_eq!(early.len(), 1);
        assert!(early.take(&key("old")).is_none());
        assert_eq!(early.take(&key("new")).map(|e| e.len()), Some(2));
        assert_eq!(early.len(), 0);
    }

    #[test]
    fn an_instance_keeps_its_first_sixteen_events_and_a_flood_of_strangers_is_dropped() {
        let mut early = EarlyEvents::default();
        let t = Time::from_millis(5);
        for _ in 0..20 {
            early.keep(key("a"), removed("a", t), t);
        }
        assert_eq!(early.take(&key("a")).map(|e| e.len()), Some(16));
        for i in 0..=EarlyEvents::INSTANCES {
            early.keep(key(&format!("s{i}")), removed("s", t), t);
        }
        assert_eq!(early.len(), 0);
    }
}
