//! The driver task: the one owner of the engine's state, and the only part that acts. Events
//! in (API requests, runtime answers, timers), the state decides, its effects out: runtime
//! calls spawned, writes stored, events published, timers armed; sleep until the earliest
//! timer, repeat (quinn's `ConnectionDriver` is the anchor).
//!
//! Runtime calls never run on the driver: each is handed to a task ([`super::tasks`]) whose
//! completion comes back as an [`Internal`] message, so a slow or unreachable runtime never
//! stalls another device's deployments.

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;

use tokio::sync::{broadcast, mpsc, watch};
use tokio::task::AbortHandle;
use tokio::time::{Instant, sleep_until};

use crate::model::JobId;
use crate::store::{Store, WriteBatch};
use crate::time::Time;

use super::board::StatusBoard;
use super::clock::Clock;
use super::effect::TimerKey;
use super::effect::{BoardChange, Call, Effect};
use super::message::{Internal, Reply, Request, RuntimeKey};
use super::state::State;
use super::tasks;
use super::{EngineConfig, EngineEvent};

/// At most this many runtime reports are handled before the machines settle and their
/// decisions are written: one store transaction per burst, while a long burst still lets
/// decisions (and API requests) through.
const INTERNAL_BATCH: usize = 1024;

pub(crate) struct Driver {
    pub(crate) state: State,
    pub(crate) store: Arc<dyn Store>,
    internal_tx: mpsc::UnboundedSender<Internal>,
    events: broadcast::Sender<EngineEvent>,
    /// The runtimes whose events are streamed into the driver, each with its stream being set
    /// up (`true` after the first subscription attempt). A runtime is streamed only once
    /// something of ours may run there: a fleet of idle robots costs no subscriptions.
    streams: HashMap<RuntimeKey, watch::Receiver<bool>>,
    /// The tasks running job robots' steps.
    tasks: HashMap<(JobId, u32), AbortHandle>,
    timers: BTreeSet<(Time, TimerKey)>,
    timer_of: HashMap<TimerKey, Time>,
    next_health: Instant,
    pub(crate) shutdown_waiters: Vec<Reply<()>>,
    /// Set by [`Engine::detach`](super::Engine::detach): exit at once, stopping nothing.
    pub(crate) detach_waiter: Option<Reply<()>>,
    /// Decisions whose write failed, written again first with the next turn's.
    unwritten: WriteBatch,
    /// Live deployments' settled statuses, read by the API handles.
    pub(crate) board: Arc<StatusBoard>,
    /// Answers to this turn's API requests, sent once the turn has settled: a caller that
    /// hears back reads its own writes ([`super::board`]).
    answers: Vec<Box<dyn FnOnce() + Send>>,
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
            // A runtime is taken as reachable when it is attached; the first checks come one
            // interval later.
            next_health: Instant::now() + config.health_interval,
            state: State::new(config, clock),
            store,
            internal_tx,
            events,
            streams: HashMap::new(),
            tasks: HashMap::new(),
            timers: BTreeSet::new(),
            timer_of: HashMap::new(),
            shutdown_waiters: Vec::new(),
            detach_waiter: None,
            unwritten: WriteBatch::default(),
            board: Arc::new(StatusBoard::new(clock)),
            answers: Vec::new(),
        }
    }

    /// Loads the store into the state, and brings back the devices a factory makes runtimes
    /// for (recovery).
    pub(crate) fn load(
        &mut self,
        factory: Option<&dyn super::RuntimeFactory>,
    ) -> Result<(), crate::store::StoreError> {
        self.state.load(self.store.as_ref(), factory)
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
            if self.detach_waiter.is_some() || (orphaned && !self.state.shutting_down) {
                break;
            }
            if self.state.shutting_down && self.state.deployments.is_empty() {
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
        if reply.is_some() || (orphaned && !self.state.shutting_down) {
            // Scripts of a job in flight would report to nobody: stop them. Executables stay.
            for (_, task) in self.tasks.drain() {
                task.abort();
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
            .map(|(t, _)| self.state.clock.instant_at(*t))
            .unwrap_or_else(|| Instant::now() + std::time::Duration::from_secs(3600));
        timer.min(self.next_health)
    }

    fn handle_timers(&mut self) {
        let now = self.state.now();
        while let Some(&(t, key)) = self.timers.first() {
            if t > now {
                break;
            }
            self.timers.pop_first();
            self.timer_of.remove(&key);
            self.state.timeout(key);
        }
        if Instant::now() >= self.next_health {
            self.next_health = Instant::now() + self.state.config.health_interval;
            self.state.check_health();
            // Jobs past their retention leave memory and the store without waiting for a
            // listing; so do the last statuses of deployments that ended.
            self.state.drop_expired_jobs();
            self.state.drop_expired_deployments();
        }
    }

    /// Re-arms the timer of a machine.
    fn set_timer(&mut self, key: TimerKey, at: Option<Time>) {
        if let Some(old) = self.timer_of.remove(&key) {
            self.timers.remove(&(old, key));
        }
        if let Some(t) = at {
            self.timers.insert((t, key));
            self.timer_of.insert(key, t);
        }
    }

    /// Lets the state settle the turn, then carries out what it decided: every write first,
    /// in one store transaction, then the rest in the order it was decided.
    pub(crate) fn settle(&mut self) {
        self.state.settle();
        let mut batch = std::mem::take(&mut self.unwritten);
        batch.writes.append(&mut self.state.take_writes().writes);
        self.flush(batch);
        for effect in self.state.take_effects() {
            self.carry_out(effect);
        }
    }

    /// Writes the turn's decisions. A store that fails is logged and the engine carries on:
    /// robots keep being supervised, and what was not written is written first with the next
    /// turn's (a job's journal must have no gap).
    fn flush(&mut self, batch: WriteBatch) {
        if batch.is_empty() {
            return;
        }
        if let Err(e) = self.store.write(batch.clone()) {
            tracing::warn!(error = %e, "the store failed; this turn's decisions are not durable yet");
            self.unwritten = batch;
        }
    }

    fn carry_out(&mut self, effect: Effect) {
        match effect {
            Effect::Call(key, call) => self.call(key, call),
            Effect::Publish(event) => {
                // No subscriber is fine.
                let _ = self.events.send(event);
            }
            Effect::Board(BoardChange::Put(status)) => self.board.put(*status),
            Effect::Board(BoardChange::Remove(id)) => self.board.remove(id),
            Effect::Timer(key, at) => self.set_timer(key, at),
            Effect::Notify(message) => {
                let _ = self.internal_tx.send(message);
            }
            Effect::Abort(job, robot) => {
                if let Some(task) = self.tasks.remove(&(job, robot)) {
                    task.abort();
                }
            }
            Effect::Release(key) => {
                self.streams.remove(&key);
            }
        }
    }

    /// Spawns a runtime call; the calls that can start something wait until the runtime's
    /// events are streamed.
    fn call(&mut self, key: RuntimeKey, call: Call) {
        let ready = match &call {
            Call::Prepare { .. } | Call::Start { .. } | Call::List { events: true } => {
                self.stream_events(&key)
            }
            _ => None,
        };
        let Some(info) = self.state.runtimes.get(&key) else {
            return tasks::runtime_gone(call, &self.internal_tx);
        };
        let stage = match &call {
            Call::Stage(s) => Some((s.job, s.robot)),
            _ => None,
        };
        let task = tasks::spawn(
            key,
            call,
            info.runtime.clone(),
            ready,
            self.internal_tx.clone(),
        );
        if let (Some(at), Some(task)) = (stage, task)
            && let Some(old) = self.tasks.insert(at, task)
        {
            old.abort();
        }
    }

    fn handle_internal(&mut self, msg: Internal) {
        let state = &mut self.state;
        match msg {
            Internal::Runtime(key, event) => state.handle_runtime_event(key, event),
            Internal::Op(id, exe, result) => state.handle_op(id, exe, result),
            Internal::Health(key, ok) => state.handle_health(key, ok),
            Internal::Robot(job, robot, attempt, update) => {
                state.handle_robot_update(job, robot, attempt, update)
            }
            Internal::Inventory(key, instances) => state.handle_inventory(key, instances),
        }
    }

    /// Answers an API request once this turn has settled.
    pub(crate) fn answer<T: Send + 'static>(
        &mut self,
        reply: Reply<T>,
        result: Result<T, super::EngineError>,
    ) {
        self.answers.push(Box::new(move || {
            let _ = reply.send(result);
        }));
    }

    /// Streams a runtime's events into the driver, if not already; returns what a call on the
    /// runtime awaits ([`streaming`]) before it acts.
    fn stream_events(&mut self, key: &RuntimeKey) -> Option<watch::Receiver<bool>> {
        let rt = self.state.runtimes.get(key)?.runtime.clone();
        if let Some(ready) = self.streams.get(key) {
            return Some(ready.clone());
        }
        let (ready_tx, ready) = watch::channel(false);
        self.streams.insert(key.clone(), ready.clone());
        let tx = self.internal_tx.clone();
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
