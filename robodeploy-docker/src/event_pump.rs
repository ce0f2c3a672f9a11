//! One task per runtime that follows the engine's event stream and fans it out.
//!
//! The stream is opened with `since` set to the newest instant already handled, so a stream that
//! breaks (engine restarted, TCP link lost) is reopened without losing what happened meanwhile:
//! the engine replays its recent events and the translator drops the ones already reported.
//! While the engine cannot be reached the pump retries with a backoff (100 ms doubling to 5 s).
//! A link that dies silently (no FIN, a robot dropping off Wi-Fi) is noticed by a ping after
//! 30 s without events; a failed ping reopens the stream.
//!
//! Every subscriber gets every event, in order; a subscriber whose buffer is full holds the pump
//! back rather than losing events; dropped subscribers are forgotten.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bollard::query_parameters::EventsOptions;
use futures_util::StreamExt;
use robodeploy_core::runtime::{RuntimeEvent, RuntimeEventKind};
use tokio::sync::mpsc;

use crate::client::Client;
use crate::events::{EventTranslator, Step};

/// Buffered events per subscriber.
pub(crate) const SUBSCRIBER_BUFFER: usize = 1024;
const BACKOFF_START: Duration = Duration::from_millis(100);
const BACKOFF_CAP: Duration = Duration::from_secs(5);
const IDLE_PING: Duration = Duration::from_secs(30);

/// What the runtime and its pump share.
#[derive(Default)]
pub(crate) struct Subscribers {
    senders: Mutex<Vec<mpsc::Sender<RuntimeEvent>>>,
    /// Containers this runtime is stopping, so their `kill` is not taken for a manual stop.
    pub(crate) stopping: Mutex<HashSet<String>>,
}

impl Subscribers {
    /// Adds a subscriber.
    pub(crate) fn subscribe(&self) -> mpsc::Receiver<RuntimeEvent> {
        let (tx, rx) = mpsc::channel(SUBSCRIBER_BUFFER);
        lock(&self.senders).push(tx);
        rx
    }

    /// Notes that this runtime is about to stop `id`.
    pub(crate) fn mark_stopping(&self, id: &str) {
        lock(&self.stopping).insert(id.to_owned());
    }

    async fn publish(&self, event: RuntimeEvent) {
        let senders: Vec<_> = lock(&self.senders).clone();
        for tx in &senders {
            // A closed receiver is pruned below; its error is not the others' concern.
            let _ = tx.send(event.clone()).await;
        }
        lock(&self.senders).retain(|tx| !tx.is_closed());
    }
}

/// A poisoned lock only means another thread panicked while holding it; the sets stay valid.
fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Follows the engine's events from `since_nanos` (engine time) until aborted.
pub(crate) async fn run(client: Arc<Client>, subscribers: Arc<Subscribers>, since_nanos: i64) {
    let mut translator = EventTranslator::default();
    let mut since = since_nanos;
    let mut backoff = BACKOFF_START;
    let filters = HashMap::from([
        ("type".to_owned(), vec!["container".to_owned()]),
        (
            "label".to_owned(),
            vec![format!(
                "{}=true",
                robodeploy_core::runtime::labels::MANAGED
            )],
        ),
    ]);
    loop {
        if let Ok(docker) = client.get().await {
            let options = EventsOptions {
                since: Some(format!(
                    "{}.{:09}",
                    since.div_euclid(1_000_000_000),
                    since.rem_euclid(1_000_000_000)
                )),
                until: None,
                filters: Some(filters.clone()),
            };
            let mut stream = docker.events(Some(options));
            loop {
                let next = tokio::time::timeout(IDLE_PING, stream.next()).await;
                let msg = match next {
                    Ok(Some(Ok(msg))) => msg,
                    Ok(Some(Err(e))) => {
                        tracing::warn!(error = %e, "docker event stream broke; reopening");
                        break;
                    }
                    Ok(None) => {
                        tracing::warn!("docker event stream ended; reopening");
                        break;
                    }
                    Err(_idle) => {
                        if docker.ping().await.is_err() {
                            break;
                        }
                        continue;
                    }
                };
                backoff = BACKOFF_START;
                let step = {
                    let stopping = lock(&subscribers.stopping);
                    translator.handle(&msg, &stopping)
                };
                since = since.max(translator.newest_nanos());
                match step {
                    Step::Nothing => {}
                    Step::Emit(event) => {
                        if matches!(event.kind, RuntimeEventKind::Exited { .. }) {
                            lock(&subscribers.stopping).remove(&event.instance.0);
                        }
                        subscribers.publish(event).await;
                    }
                    Step::Started { id, at } => {
                        lock(&subscribers.stopping).remove(&id);
                        let count = docker
                            .inspect_container(&id, None)
                            .await
                            .ok()
                            .and_then(|c| c.restart_count)
                            .and_then(|c| u32::try_from(c).ok());
                        for event in translator.started(id, at, count) {
                            subscribers.publish(event).await;
                        }
                    }
                }
            }
        }
        tokio::time::sleep(backoff).await;
        backoff = (backoff * 2).min(BACKOFF_CAP);
    }
}
