//! The engine's state: every deployment and job machine, the catalog, the device registry,
//! the fleets, what recovery still waits for, the shared components, names and dependents.
//!
//! The state decides; it never acts. Handling an API request, a runtime's answer or a timer
//! changes it and records what is to be done as [`Effect`]s, which the driver takes after each
//! turn and alone carries out: it spawns the runtime calls,
//! writes the store, publishes, arms timers. The modules that hold the state's parts
//! (`deployment`, `job`, `recover`, `registry`, `resolve`, `validate`, `tags`) import this one
//! and never the driver.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;

use crate::lifecycle::{ExecutableIndex, SharedComponents};
use crate::model::{DeploymentId, Fleet, JobId, JobStatus};
use crate::runtime::{Capabilities, InstanceId, Runtime};
use crate::store::WriteBatch;
use crate::time::Time;

use super::EngineConfig;
use super::EngineEvent;
use super::catalog::Catalog;
use super::clock::Clock;
use super::devices::DeviceRegistry;
use super::early::EarlyEvents;
use super::effect::{Call, Effect, TimerKey};
use super::entries::{DeploymentEntry, JobEntry};
use super::message::RuntimeKey;
use super::restoring::Recovery;

/// A runtime the engine was given, with what it can do and its health. The state holds the
/// handle to say which runtime serves which device; only the driver calls it.
pub(crate) struct RuntimeInfo {
    pub(crate) runtime: Arc<dyn Runtime>,
    pub(crate) caps: Capabilities,
    pub(crate) online: bool,
    /// A health check is under way.
    pub(crate) checking: bool,
}

/// What a client request token created.
#[derive(Clone, Copy, Debug)]
pub(crate) enum TokenTarget {
    Deployment(DeploymentId),
    Job(JobId),
}

/// A machine's command, carried out once the machines of the turn are settled.
pub(crate) enum Ready {
    Deployment(DeploymentId, crate::lifecycle::Command),
    Job(JobId, crate::rollout::Command),
}

pub(crate) struct State {
    pub(crate) clock: Clock,
    pub(crate) config: EngineConfig,
    pub(crate) catalog: Catalog,
    pub(crate) devices: DeviceRegistry,
    pub(crate) fleets: BTreeMap<String, Fleet>,
    pub(crate) runtimes: HashMap<RuntimeKey, RuntimeInfo>,
    pub(crate) deployments: BTreeMap<DeploymentId, DeploymentEntry>,
    pub(crate) names: HashMap<String, DeploymentId>,
    /// The live deployments that depend on each deployment name.
    pub(crate) dependents: HashMap<String, BTreeSet<DeploymentId>>,
    pub(crate) instances: HashMap<(RuntimeKey, InstanceId), (DeploymentId, ExecutableIndex)>,
    /// Events for instances whose start has not been answered yet (a process that exits at
    /// once), and of instances let go, kept a few minutes.
    pub(crate) early_events: EarlyEvents,
    /// Instances ended deployments left behind, stopped when they can be.
    pub(crate) leftovers: super::leftovers::Leftovers,
    pub(crate) shared: BTreeMap<String, SharedComponents>,
    pub(crate) jobs: BTreeMap<JobId, JobEntry>,
    /// The deployment of each application on each robot, as jobs left it.
    pub(crate) installed: HashMap<(String, String), DeploymentId>,
    pub(crate) tokens: HashMap<String, TokenTarget>,
    /// When each deployment whose last status the store keeps ended, oldest first.
    pub(crate) ended: BTreeSet<(Time, DeploymentId)>,
    pub(crate) dirty: BTreeSet<DeploymentId>,
    pub(crate) dirty_jobs: BTreeSet<JobId>,
    /// Commands decided in this turn, carried out once the machines are settled.
    pub(crate) ready: Vec<Ready>,
    /// What the store held at start and is not brought back yet.
    pub(crate) recovery: Recovery,
    pub(crate) shutting_down: bool,
    /// What the turn decided to do, for the driver.
    pub(crate) effects: Vec<Effect>,
    /// What the turn decided to write: the turn's one store transaction, carried out before
    /// any of its effects.
    pub(crate) writes: WriteBatch,
    /// The id of the engine's store, put on every instance it starts; empty until loaded.
    pub(crate) store_id: String,
}

impl State {
    pub(crate) fn new(config: EngineConfig, clock: Clock) -> Self {
        State {
            clock,
            config,
            catalog: Catalog::default(),
            devices: DeviceRegistry::default(),
            fleets: BTreeMap::new(),
            runtimes: HashMap::new(),
            deployments: BTreeMap::new(),
            names: HashMap::new(),
            dependents: HashMap::new(),
            instances: HashMap::new(),
            early_events: EarlyEvents::default(),
            leftovers: Default::default(),
            shared: BTreeMap::new(),
            jobs: BTreeMap::new(),
            installed: HashMap::new(),
            tokens: HashMap::new(),
            ended: BTreeSet::new(),
            dirty: BTreeSet::new(),
            dirty_jobs: BTreeSet::new(),
            ready: Vec::new(),
            recovery: Recovery::default(),
            shutting_down: false,
            effects: Vec::new(),
            writes: WriteBatch::default(),
            store_id: String::new(),
        }
    }

    pub(crate) fn now(&self) -> Time {
        self.clock.now()
    }

    /// Records an effect for the driver.
    pub(crate) fn emit(&mut self, effect: Effect) {
        self.effects.push(effect);
    }

    /// An event for the engine's subscribers.
    pub(crate) fn publish(&mut self, event: EngineEvent) {
        self.effects.push(Effect::Publish(event));
    }

    /// Writes for the turn's store transaction.
    pub(crate) fn persist(&mut self, mut batch: WriteBatch) {
        self.writes.writes.append(&mut batch.writes);
    }

    /// Re-arms a machine's timer.
    pub(crate) fn set_timer(&mut self, key: TimerKey, at: Option<Time>) {
        self.effects.push(Effect::Timer(key, at));
    }

    /// What the turn decided, in the order it was decided.
    pub(crate) fn take_effects(&mut self) -> Vec<Effect> {
        std::mem::take(&mut self.effects)
    }

    /// What the turn decided to write, to be written before its effects are carried out.
    pub(crate) fn take_writes(&mut self) -> WriteBatch {
        std::mem::take(&mut self.writes)
    }

    /// Processes everything marked dirty until nothing is: the machines decide (commands,
    /// timers, status publication, dependency propagation, job bookkeeping), then their
    /// commands become effects. Carrying out a job's commands can make more decisions: the loop
    /// runs until none remain. The driver writes every decision of the turn before it carries
    /// out any effect ([`State::take_writes`]).
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

    /// A machine's timer fired.
    pub(crate) fn timeout(&mut self, key: TimerKey) {
        let now = self.now();
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

    /// Checks the health of every runtime not already being checked.
    pub(crate) fn check_health(&mut self) {
        let now = self.now();
        self.early_events.expire(now);
        for (key, info) in self.runtimes.iter_mut() {
            if info.checking {
                continue;
            }
            info.checking = true;
            self.effects.push(Effect::Call(key.clone(), Call::Health));
        }
    }

    /// Tracks a runtime the engine was given; reachable until a health check says otherwise.
    pub(crate) fn attach_runtime(&mut self, key: RuntimeKey, runtime: Arc<dyn Runtime>) {
        self.runtimes.insert(
            key.clone(),
            RuntimeInfo {
                caps: runtime.capabilities(),
                runtime,
                online: true,
                checking: false,
            },
        );
        self.runtime_attached(key);
    }

    /// Deprovisions everything and cancels every job.
    pub(crate) fn begin_shutdown(&mut self) {
        let now = self.now();
        for j in self.jobs.values_mut() {
            if !j.rollout.status().is_terminal() && j.rollout.status() != JobStatus::Canceled {
                j.rollout.apply(now, crate::rollout::Input::Cancel, None);
                self.dirty_jobs.insert(j.id);
            }
        }
        let ids: Vec<_> = self.deployments.keys().copied().collect();
        for id in ids {
            let _ = self.deprovision(id);
        }
        self.shutting_down = true;
    }
}

#[cfg(test)]
mod tests {
    //! The state decides without acting: no driver, no tokio runtime, no store here. What it
    //! would have the world do is read from its effects.

    use super::*;
    use crate::model::{
        Architecture, Component, DeploymentRequest, Device, DeviceRuntime, Executable, Package,
        Placement,
    };
    use crate::runtime::InstanceId;
    use crate::store::Table;

    use crate::engine::effect::Call;
    use crate::engine::message::{Internal, OpResult};

    const ARM: Placement = Placement::device(DeviceRuntime::Preinstalled, Architecture::Amd64);

    fn state_with_robot() -> State {
        let mut state = State::new(EngineConfig::default(), Clock::new());
        let package = Package::new("demo", "1").with_component(
            Component::new("main", ARM)
                .with_executable(Executable::new("run").with_command(["/bin/run"])),
        );
        state.commit_package(package);
        let robot = Device::new("r1", Architecture::Amd64, DeviceRuntime::Preinstalled);
        assert!(state.devices.add(robot).unwrap());
        let runtime = Arc::new(crate::runtime::MemoryRuntime::new("r1"));
        state.attach_runtime(RuntimeKey::Device("r1".to_owned()), runtime);
        state
    }

    fn request() -> DeploymentRequest {
        DeploymentRequest::new("d1", "demo", "1").with_device("main", "r1")
    }

    #[test]
    fn staging_a_deployment_changes_nothing_and_says_what_to_write_first() {
        let state = state_with_robot();
        let staged = state.stage_deploy(request()).unwrap();
        assert!(state.deployments.is_empty() && state.names.is_empty());
        assert!(
            staged
                .batch
                .writes
                .iter()
                .any(|w| w.table() == Table::Deployments)
        );
        // A request the catalog cannot serve is refused before anything is staged.
        let unknown = DeploymentRequest::new("d2", "demo", "9").with_device("main", "r1");
        assert!(state.stage_deploy(unknown).is_err());
    }

    #[test]
    fn a_committed_deployment_becomes_writes_then_a_prepare_call_and_reacts_to_its_answer() {
        let mut state = state_with_robot();
        let _ = state.take_effects();
        let staged = state.stage_deploy(request()).unwrap();
        let id = state.commit_deployment(staged);
        state.settle();
        let effects = state.take_effects();
        let key = RuntimeKey::Device("r1".to_owned());
        // Published InProgress first, then its machine's record written, and one call on the
        // robot's runtime: prepare the executable.
        assert!(matches!(
            effects.first(),
            Some(Effect::Publish(EngineEvent::Deployment(s))) if s.phase == crate::model::Phase::InProgress
        ));
        assert!(!state.take_writes().is_empty());
        let calls: Vec<_> = effects
            .iter()
            .filter_map(|e| match e {
                Effect::Call(k, c) => Some((k, c)),
                _ => None,
            })
            .collect();
        assert_eq!(calls.len(), 1);
        assert!(matches!(calls[0], (k, Call::Prepare { id: d, .. }) if *k == key && *d == id));
        // The answer comes back; the next decision is a start.
        let exe = crate::lifecycle::ExecutableIndex(0);
        state.handle_op(id, exe, OpResult::Prepared(Ok(())));
        state.settle();
        let effects = state.take_effects();
        assert!(effects.iter().any(
            |e| matches!(e, Effect::Call(k, Call::Start { id: d, previous: None, .. }) if *k == key && *d == id)
        ));
        // The start answers with an instance: the deployment runs, and the board hears of it.
        state.handle_op(
            id,
            exe,
            OpResult::Started(Ok(InstanceId("i-1".to_owned())), false),
        );
        state.settle();
        let effects = state.take_effects();
        assert!(effects.iter().any(|e| matches!(
            e,
            Effect::Board(crate::engine::effect::BoardChange::Put(s))
                if s.status == crate::model::StatusKind::Running
        )));
        // Deprovisioning stops that instance: a stop call, not a message to itself.
        state.deprovision(id).unwrap();
        state.settle();
        let effects = state.take_effects();
        assert!(effects.iter().any(|e| matches!(
            e,
            Effect::Call(_, Call::Stop { instance, .. }) if instance.0 == "i-1"
        )));
        assert!(
            !effects
                .iter()
                .any(|e| matches!(e, Effect::Notify(Internal::Op(..))))
        );
    }

    #[test]
    fn a_command_for_a_removed_runtime_is_answered_by_the_state_itself() {
        let mut state = state_with_robot();
        let id = {
            let staged = state.stage_deploy(request()).unwrap();
            state.commit_deployment(staged)
        };
        state.runtimes.clear();
        state.settle();
        let effects = state.take_effects();
        assert!(!effects.iter().any(|e| matches!(e, Effect::Call(..))));
        assert!(effects.iter().any(|e| matches!(
            e,
            Effect::Notify(Internal::Op(d, _, OpResult::Prepared(Err(_)))) if *d == id
        )));
    }
}
