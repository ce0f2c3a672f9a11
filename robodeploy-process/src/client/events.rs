//! Fan-out of runtime events to every subscriber.
//!
//! Each subscriber gets an unbounded queue drained into its bounded receiver by a small task,
//! so a slow subscriber never blocks the runtime or the other subscribers and never loses an
//! event; a subscriber that dropped its receiver is forgotten at the next event.

use std::sync::Mutex;

use robodeploy_core::runtime::{EventReceiver, InstanceId, RuntimeEvent, RuntimeEventKind};
use robodeploy_core::time::Time;
use tokio::sync::mpsc;

/// Capacity of a subscriber's receiver (its queue behind it is unbounded).
const RECEIVER_CAPACITY: usize = 1024;

/// The subscribers of one runtime.
#[derive(Debug, Default)]
pub(crate) struct Fanout {
    subscribers: Mutex<Vec<mpsc::UnboundedSender<RuntimeEvent>>>,
}

impl Fanout {
    /// A new subscription, receiving every event emitted from now on.
    pub(crate) fn subscribe(&self) -> EventReceiver {
        let (queue_tx, mut queue_rx) = mpsc::unbounded_channel();
        let (tx, rx) = mpsc::channel(RECEIVER_CAPACITY);
        tokio::spawn(async move {
            while let Some(event) = queue_rx.recv().await {
                if tx.send(event).await.is_err() {
                    break;
                }
            }
        });
        self.lock().push(queue_tx);
        rx
    }

    /// Delivers an event to every live subscriber.
    pub(crate) fn emit(&self, instance: &str, at: Time, kind: RuntimeEventKind) {
        let event = RuntimeEvent {
            instance: InstanceId(instance.to_owned()),
            at,
            kind,
        };
        self.lock().retain(|s| s.send(event.clone()).is_ok());
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<mpsc::UnboundedSender<RuntimeEvent>>> {
        // A panic while holding this lock cannot leave the list inconsistent.
        self.subscribers
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn every_subscriber_gets_every_event_in_order() {
        let fanout = Fanout::default();
        let mut a = fanout.subscribe();
        let mut b = fanout.subscribe();
        for i in 0..3000 {
            fanout.emit(
                &format!("i{i}"),
                Time::from_millis(i),
                RuntimeEventKind::Started,
            );
        }
        for rx in [&mut a, &mut b] {
            for i in 0..3000 {
                let ev = rx.recv().await.unwrap();
                assert_eq!(ev.instance.0, format!("i{i}"));
                assert_eq!(ev.at, Time::from_millis(i));
            }
        }
    }

    #[tokio::test]
    async fn a_dropped_subscriber_is_forgotten() {
        let fanout = Fanout::default();
        let a = fanout.subscribe();
        let mut b = fanout.subscribe();
        drop(a);
        // The forwarding task notices the closed receiver at its next send.
        fanout.emit("x", Time::EPOCH, RuntimeEventKind::Started);
        assert_eq!(b.recv().await.unwrap().instance.0, "x");
        tokio::task::yield_now().await;
        fanout.emit("y", Time::EPOCH, RuntimeEventKind::Started);
        fanout.emit("z", Time::EPOCH, RuntimeEventKind::Started);
        assert_eq!(b.recv().await.unwrap().instance.0, "y");
        assert_eq!(fanout.lock().len(), 1);
    }
}
