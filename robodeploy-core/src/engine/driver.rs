//! The driver task: the one owner of every machine. Events in, commands out, sleep until the
//! earliest timer, repeat (quinn's `ConnectionDriver` is the anchor).
//!
//! Runtime calls never run on the driver: each command is handed to a task whose completion
//! comes back as an [`Internal`] message, so a slow or unreachable runtime never stalls another
//! device's deployments.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;

use tokio::sync::{broadcast, mpsc, watch};
use tokio::time::{Instant, sleep_until};

use crate::lifecycle::{ExecutableIndex, SharedComponents};
use crate::model::{DeploymentId, Fleet, JobId};
use crate::runtime::{Capabilities, InstanceId, Runtime, RuntimeEvent};
use crate::store::{Store, WriteBatch};
use crate::time::Time;

use super::catalog::Catalog;
use super::clock::Clock;
use super::deployment::DeploymentEntry;
use super::devices::DeviceRegistry;
use super::job::JobEntry;
use super::recover::Recovery;
use super::request::{Internal, Request, RuntimeKey};
use super::{EngineConfig, EngineEvent};

/// At most this many runtime reports are handled before the machines settle and their
/// decisions are written: one store transaction per burst, while a long burst still lets
/// decisions (and API requests) through.
const INTERNAL_BATCH: usize = 1024;

/// A runtime the driver talks to, with what it knows of its health.
pub(crate) struct RuntimeSlot {
    pub(crate) runtime: Arc<dyn Runtime>,
    pub(crate) caps: Capabilities,
    pub(crate) online: bool,
    pub(crate) checking: bool,
    /// Set once the runtime's events are streamed into the driver: turns `true` after the
    /// first subscription attempt. `None` until something of ours may run there.
    pub(crate) streaming: Option<watch::Receiver<bool>>,
}

/// Waits until a runtime's event stream is set up (or its first attempt failed), so nothing
/// a call starts can end before the driver listens.
pub(crate) async fn streaming(ready: Option<watch::Receiver<bool>>) {
    if let Some(mut ready) = ready {
        let _ = ready.wait_for(|subscribed| *subscribed).await;
    }
}

/// What a client request token created.
#[derive(Clone, Copy, Debug)]
pub(crate) enum TokenTarget {
    Deployment(DeploymentId),
    Job(JobId),
}

/// Timer keys.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) enum TimerKey {
    Deployment(DeploymentId),
    Job(JobId),
}

pub(crate) struct Driver {
    pub(crate) clock: Clock,
    pub(crate) config: EngineConfig,
    pub(crate) store: Arc<dyn Store>,
    pub(crate) catalog: Catalog,
    pub(crate) devices: DeviceRegistry,
    pub(crate) fleets: BTreeMap<String, Fleet>,
    pub(crate) runtimes: HashMap<RuntimeKey, RuntimeSlot>,
    pub(crate) deployments: BTreeMap<DeploymentId, DeploymentEntry>,
    pub(crate) names: HashMap<String, DeploymentId>,
    /// The live deployments that depend on each deployment name.
    pub(crate) dependents: HashMap<String, BTreeSet<DeploymentId>>,
    pub(crate) instances: HashMap<(RuntimeKey, InstanceId), (DeploymentId, ExecutableIndex)>,
    /// Events for instances whose start has not been answered yet (a process that exits at once).
    pub(crate) early_events: HashMap<(RuntimeKey, InstanceId), Vec<RuntimeEvent>>,
    pub(crate) shared: BTreeMap<String, SharedComponents>,
    pub(crate) jobs: BTreeMap<JobId, JobEntry>,
    /// The deployment of each application on each robot, as jobs left it.
    pub(crate) installed: HashMap<(String, String), DeploymentId>,
    pub(crate) tokens: HashMap<String, TokenTarget>,
    pub(crate) internal_tx: mpsc::UnboundedSender<Internal>,
    pub(crate) events: broadcast::Sender<EngineEvent>,
    pub(crate) dirty: BTreeSet<DeploymentId>,
    pub(crate) dirty_jobs: BTreeSet<JobId>,
    timers: BTreeSet<(Time, TimerKey)>,
    timer_of: HashMap<TimerKey, Time>,
    next_health: Instant,
    pub(crate) shutdown_waiters: Vec<super::request::Reply<()>>,
    pub(crate) shutting_down: bool,
    /// Set by [`Engine::detach`](super::Engine::detach): exit at once, stopping nothing.
    pub(crate) detach_waiter: Option<super::request::Reply<()>>,
    /// What the machines decided in this round, written before it is carried out.
    pub(crate) pending_writes: WriteBatch,
    /// Commands decided in this round, carried out once their decisions are stored.
    pub(crate) ready: Vec<Ready>,
    /// What the store held at start and is not brought back yet.
    pub(crate) recovery: Recovery,
    /// Live deployments' settled statuses, read by the API handles.
    pub(crate) board: Arc<super::board::StatusBoard>,
    /// Answers to this turn's API requests, sent once the turn has settled: a caller that
    /// hears back reads its own writes ([`super::board`]).
    answers: Vec<Box<dyn FnOnce() + Send>>,
}

/// A command whose decision is being stored.
pub(crate) enum Ready {
    Deployment(DeploymentId, crate::lifecycle::Command),
    Job(JobId, crate::rollout::Command),
}

impl Driver {
    pub(crate) fn new(
        config: EngineConfig,
        store: Arc<dyn Store>,
        internal_tx: mpsc::UnboundedSender<Internal>,
        events: broadcast::Sender<EngineEvent>,
    ) -> Self {
        let clock = Clock::new();
        Driver {
            clock,
            // A runtime is taken as reachable when it is attached; the first checks come one
            // interval later.
            next_health: Instant::now() + config.health_interval,
            config,
            store,
            catalog: Catalog::default(),
            devices: DeviceRegistry::default(),
            fleets: BTreeMap::new(),
            runtimes: HashMap::new(),
            deployments: BTreeMap::new(),
            dependents: HashMap::new(),
            names: HashMap::new(),
            instances: HashMap::new(),
            early_events: HashMap::new(),
            shared: BTreeMap::new(),
            jobs: BTreeMap::new(),
            installed: HashMap::new(),
            tokens: HashMap::new(),
            internal_tx,
            events,
            dirty: BTreeSet::new(),
            dirty_jobs: BTreeSet::new(),
            timers: BTreeSet::new(),
            timer_of: HashMap::new(),
            shutdown_waiters: Vec::new(),
            shutting_down: false,
            detach_waiter: None,
            pending_writes: WriteBatch::default(),
            ready: Vec::new(),
            recovery: Recovery::default(),
            board: Arc::new(super::board::StatusBoard::new(clock)),
            answers: Vec::new(),
        }
    }

    pub(crate) fn now(&self) -> Time {
        self.clock.now()
    }

    /// Runs until shutdown completes, a detach is asked for, or every API handle is dropped
    /// (which detaches: executables keep running, DESIGN §3.3).
    pub(crate) async fn run(
        mut self,
        mut requests: mpsc::UnboundedReceiver<Request>,
        mut internal: mpsc::UnboundedReceiver<Internal>,
    ) {
        let mut orphaned = false;
        loop {
            self.settle();
            for answer in std::mem::take(&mut self.answers) {
                answer();
            }
            // A shutdown under way goes on without handles (it was asked for); otherwise the
            // last handle gone means detach.
            if self.detach_waiter.is_some() || (orphaned && !self.shutting_down) {
                break;
            }
            if self.shutting_down && self.deployments.is_empty() {
                for w in self.shutdown_waiters.drain(..) {
                    let _ = w.send(Ok(()));
                }
                break;
            }
            let wake = self.next_wake();
            tokio::select! {
                biased;
                msg = internal.recv() => match msg {
                    Some(msg) => {
                        self.handle_internal(msg);
                        // Group commit: what else has arrived is handled before the next settle,
                        // so a burst (a runtime's inventory adopted, many exits at once) is
                        // decided and written in one store transaction, not one per message.
                        for _ in 1..INTERNAL_BATCH {
                            let Ok(msg) = internal.try_recv() else { break };
                            self.handle_internal(msg);
                        }
                    }
                    None => break,
                },
                req = requests.recv(), if !orphaned => match req {
                    Some(req) => self.handle_request(req),
                    // Every handle is gone: nobody can ask for anything again. What was written
                    // is settled on the next turn, then the driver lets go as a detach does.
                    None => orphaned = true,
                },
                () = sleep_until(wake) => self.handle_timers(),
            }
        }
        let reply = self.detach_waiter.take();
        if reply.is_some() || (orphaned && !self.shutting_down) {
            // Scripts of a job in flight would report to nobody: stop them. Executables stay.
            for job in self.jobs.values_mut() {
                for run in &mut job.runs {
                    if let Some(task) = run.task.take() {
                        task.abort();
                    }
                }
            }
            // The runtimes are released before the caller hears back.
            drop(self);
            if let Some(reply) = reply {
                let _ = reply.send(Ok(()));
            }
        }
    }

    fn next_wake(&self) -> Instant {
        let timer = self
            .timers
            .first()
            .map(|(t, _)| self.clock.instant_at(*t))
            .unwrap_or_else(|| Instant::now() + std::time::Duration::from_secs(3600));
        timer.min(self.next_health)
    }

    fn handle_timers(&mut self) {
        let now = self.now();
        while let Some(&(t, key)) = self.timers.first() {
            if t > now {
                break;
            }
            self.timers.pop_first();
            self.timer_of.remove(&key);
            match key {
                TimerKey::Deployment(id) => {
                    if let Some(d) = self.deployments.get_mut(&id) {
                        d.machine.handle_timeout(now);
                        self.dirty.insert(id);
                    }
                }
                TimerKey::Job(id) => {
                    if let Some(j) = self.jobs.get_mut(&id) {
                        j.rollout.apply(now, crate::rollout::Input::Timeout, None);
                        self.dirty_jobs.insert(id);
                    }
                }
            }
        }
        if Instant::now() >= self.next_health {
            self.next_health = Instant::now() + self.config.health_interval;
            self.check_health();
        }
    }

    /// Re-arms the timer of a machine.
    pub(crate) fn set_timer(&mut self, key: TimerKey, at: Option<Time>) {
        if let Some(old) = self.timer_of.remove(&key) {
            self.timers.remove(&(old, key));
        }
        if let Some(t) = at {
            self.timers.insert((t, key));
            self.timer_of.insert(key, t);
        }
    }

    /// Processes everything marked dirty until nothing is: the machines decide (commands,
    /// timers, status publication, dependency propagation, job bookkeeping), their decisions are
    /// written to the store in one batch (write-ahead), then their commands are carried out.
    /// Carrying out a job's commands can make more decisions: the loop runs until none remain.
    pub(crate) fn settle(&mut self) {
        loop {
            loop {
                if let Some(id) = self.dirty.pop_first() {
                    self.settle_deployment(id);
                    continue;
                }
                if let Some(id) = self.dirty_jobs.pop_first() {
                    self.settle_job(id);
                    continue;
                }
                break;
            }
            self.flush_writes();
            if self.ready.is_empty() {
                break;
            }
            for r in std::mem::take(&mut self.ready) {
                match r {
                    Ready::Deployment(id, c) => self.execute(id, c),
                    Ready::Job(id, c) => self.execute_job_command(id, c),
                }
            }
        }
    }

    /// Writes the round's decisions. A store that fails is logged and the engine carries on:
    /// robots keep being supervised, and what was not written is written with the next round.
    pub(crate) fn flush_writes(&mut self) {
        if self.pending_writes.is_empty() {
            return;
        }
        let batch = std::mem::take(&mut self.pending_writes);
        // The batch is kept until it lands: a failed one is written again, whole and first,
        // with the next round's (a job's journal must have no gap).
        if let Err(e) = self.store.write(batch.clone()) {
            tracing::warn!(error = %e, "the store failed; this round's decisions are not durable yet");
            let mut again = batch;
            again.writes.append(&mut self.pending_writes.writes);
            self.pending_writes = again;
        }
    }

    fn handle_internal(&mut self, msg: Internal) {
        match msg {
            Internal::Runtime(key, event) => self.handle_runtime_event(key, event),
            Internal::Op(id, exe, result) => self.handle_op(id, exe, result),
            Internal::Health(key, ok) => self.handle_health(key, ok),
            Internal::Robot(job, robot, attempt, update) => {
                self.handle_robot_update(job, robot, attempt, update)
            }
            Internal::Inventory(key, instances) => self.handle_inventory(key, instances),
        }
    }

    /// Answers an API request once this turn has settled.
    pub(crate) fn answer<T: Send + 'static>(
        &mut self,
        reply: super::request::Reply<T>,
        result: Result<T, super::EngineError>,
    ) {
        self.answers.push(Box::new(move || {
            let _ = reply.send(result);
        }));
    }

    pub(crate) fn publish(&self, event: EngineEvent) {
        // No subscriber is fine.
        let _ = self.events.send(event);
    }

    /// Starts health checks of every runtime not already being checked.
    fn check_health(&mut self) {
        for (key, slot) in self.runtimes.iter_mut() {
            if slot.checking {
                continue;
            }
            slot.checking = true;
            let rt = slot.runtime.clone();
            let tx = self.internal_tx.clone();
            let key = key.clone();
            tokio::spawn(async move {
                let ok = rt.health().await.is_ok();
                let _ = tx.send(Internal::Health(key, ok));
            });
        }
    }

    /// Registers a runtime. Its events are streamed only once something of ours may run on
    /// it ([`Driver::stream_events`]): a fleet of idle robots costs no subscriptions.
    pub(crate) fn attach_runtime(&mut self, key: RuntimeKey, runtime: Arc<dyn Runtime>) {
        let caps = runtime.capabilities();
        self.runtimes.insert(
            key.clone(),
            RuntimeSlot {
                runtime,
                caps,
                online: true,
                checking: false,
                streaming: None,
            },
        );
        self.runtime_attached(key);
    }

    /// Streams a runtime's events into the driver, if not already; returns what a call on the
    /// runtime awaits ([`streaming`]) before it acts.
    pub(crate) fn stream_events(&mut self, key: &RuntimeKey) -> Option<watch::Receiver<bool>> {
        let slot = self.runtimes.get_mut(key)?;
        if let Some(ready) = &slot.streaming {
            return Some(ready.clone());
        }
        let (ready_tx, ready) = watch::channel(false);
        slot.streaming = Some(ready.clone());
        let tx = self.internal_tx.clone();
        let rt = slot.runtime.clone();
        let k = key.clone();
        tokio::spawn(async move {
            // A runtime that cannot stream events now is retried: it may be unreachable.
            loop {
                let subscribed = rt.events().await;
                // Calls waiting for the stream go on after the first attempt, whatever it gave:
                // an unreachable runtime fails them on its own.
                let _ = ready_tx.send(true);
                match subscribed {
                    Ok(mut rx) => {
                        while let Some(ev) = rx.recv().await {
                            if tx.send(Internal::Runtime(k.clone(), ev)).is_err() {
                                return;
                            }
                        }
                        if tx.is_closed() {
                            return;
                        }
                    }
                    Err(_) => {
                        if tx.is_closed() {
                            return;
                        }
                    }
                }
                tokio::time::sleep(std::time::Duration::from_millis(500)).await;
            }
        });
        Some(ready)
    }
}
