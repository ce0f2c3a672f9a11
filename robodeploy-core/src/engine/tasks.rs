//! The tasks the driver spawns to carry out [`Call`]s: each runs one call on a runtime and
//! sends its answer back into the driver's queue as an [`Internal`] message. Nothing here
//! touches the engine's state.

use std::collections::BTreeMap;
use std::sync::Arc;

use tokio::sync::{mpsc, watch};
use tokio::task::AbortHandle;

use crate::lifecycle::{Failure, internal};
use crate::model::DeploymentId;
use crate::rollout::{PipelineCommand, ScriptKind, StepOutcome};
use crate::runtime::{
    InstanceId, InstanceInfo, InstanceSpec, InstanceState, Runtime, RuntimeError, TaskSpec, labels,
};

use super::effect::{Call, Stage};
use super::message::{Internal, OpResult, RobotUpdate, RuntimeKey};

type Tx = mpsc::UnboundedSender<Internal>;

/// How a runtime failure reads to the lifecycle machine: [`RuntimeError::failure`], the one
/// table.
pub(crate) fn failure_of(err: &RuntimeError, spec: &InstanceSpec, detail: u8) -> Failure {
    err.failure(spec.image.is_some(), detail)
}

/// Waits until a runtime's event stream is set up (or its first attempt failed), so nothing
/// a call starts can end before the driver listens.
pub(crate) async fn streaming(ready: Option<watch::Receiver<bool>>) {
    if let Some(mut ready) = ready {
        let _ = ready.wait_for(|subscribed| *subscribed).await;
    }
}

/// Spawns the task that carries out `call` on `rt` (the runtime under `key`); `ready` is the
/// runtime's event stream being set up, awaited by the calls that can start something. Returns
/// the task of a job robot's step, which can be aborted.
pub(crate) fn spawn(
    key: RuntimeKey,
    call: Call,
    rt: Arc<dyn Runtime>,
    ready: Option<watch::Receiver<bool>>,
    tx: Tx,
) -> Option<AbortHandle> {
    match call {
        Call::Prepare { id, exe, spec } => {
            let device = matches!(key, RuntimeKey::Device(_));
            tokio::spawn(async move {
                streaming(ready).await;
                let r = while_unreachable(device, &tx, || async {
                    rt.prepare(&spec)
                        .await
                        .map_err(|e| failure_of(&e, &spec, internal::CREATE_FAILED))
                })
                .await;
                let _ = tx.send(Internal::Op(id, exe, OpResult::Prepared(r)));
            });
        }
        Call::Start {
            id,
            exe,
            spec,
            previous,
        } => {
            let device = matches!(key, RuntimeKey::Device(_));
            tokio::spawn(async move {
                streaming(ready).await;
                let (r, replaced) =
                    start_or_adopt(rt.as_ref(), &spec, previous.as_ref(), device, &tx).await;
                let _ = tx.send(Internal::Op(id, exe, OpResult::Started(r, replaced)));
            });
        }
        Call::Stop {
            id,
            exe,
            instance,
            grace,
        } => {
            tokio::spawn(async move {
                let r = match rt.stop(&instance, grace).await {
                    Ok(()) => rt.remove(&instance).await.map_err(|e| e.to_string()),
                    Err(e) => Err(e.to_string()),
                };
                let _ = tx.send(Internal::Op(id, exe, OpResult::Stopped(r)));
            });
        }
        Call::Inspect {
            id,
            exe,
            instance,
            spec,
        } => {
            tokio::spawn(async move {
                let r = match &instance {
                    Some(inst) => rt
                        .inspect(inst)
                        .await
                        .map_err(|e| failure_of(&e, &spec, internal::UNSPECIFIED)),
                    None => Err(Failure::Internal {
                        detail: internal::UNSPECIFIED,
                        message: "never started".to_owned(),
                    }),
                };
                let _ = tx.send(Internal::Op(id, exe, OpResult::Inspected(r)));
            });
        }
        Call::Discard { instance, grace } => {
            tokio::spawn(async move {
                let _ = rt.stop(&instance, grace).await;
                let _ = rt.remove(&instance).await;
            });
        }
        Call::Health => {
            tokio::spawn(async move {
                let ok = rt.health().await.is_ok();
                let _ = tx.send(Internal::Health(key, ok));
            });
        }
        Call::List { .. } => {
            tokio::spawn(async move {
                streaming(ready).await;
                let selector = BTreeMap::from([(labels::MANAGED.to_owned(), "true".to_owned())]);
                loop {
                    match rt.list(&selector).await {
                        Ok(list) => {
                            let _ = tx.send(Internal::Inventory(key, list));
                            return;
                        }
                        Err(_) if tx.is_closed() => return,
                        // Unreachable for now: the deployments on it wait, as they would for
                        // an offline device.
                        Err(_) => tokio::time::sleep(std::time::Duration::from_millis(500)).await,
                    }
                }
            });
        }
        Call::Stage(stage) => {
            let task = StageTask {
                stage: *stage,
                runtime: rt,
                key,
            };
            let handle = tokio::spawn(async move { task.run(tx).await });
            return Some(handle.abort_handle());
        }
    }
    None
}

/// The answer to a call whose runtime is gone (its device was removed meanwhile).
pub(crate) fn runtime_gone(call: Call, tx: &Tx) {
    let why = "the runtime of this device was removed".to_owned();
    let message = match call {
        Call::Prepare { id, exe, .. } => Internal::Op(
            id,
            exe,
            OpResult::Prepared(Err(Failure::Engine {
                detail: 0,
                message: why,
            })),
        ),
        Call::Start { id, exe, .. } => Internal::Op(
            id,
            exe,
            OpResult::Started(
                Err(Failure::Engine {
                    detail: 0,
                    message: why,
                }),
                false,
            ),
        ),
        Call::Stop { id, exe, .. } => Internal::Op(id, exe, OpResult::Stopped(Err(why))),
        Call::Inspect { id, exe, .. } => Internal::Op(
            id,
            exe,
            OpResult::Inspected(Err(Failure::Engine {
                detail: 0,
                message: why,
            })),
        ),
        Call::Stage(stage) => Internal::Robot(
            stage.job,
            stage.robot,
            stage.attempt,
            RobotUpdate::Outcome(StepOutcome::NoRuntime, Some(why)),
        ),
        Call::Discard { .. } | Call::Health | Call::List { .. } => return,
    };
    let _ = tx.send(message);
}

/// A job robot's step and the runtime it runs on.
struct StageTask {
    stage: Stage,
    runtime: Arc<dyn Runtime>,
    key: RuntimeKey,
}

/// Why a step did not finish.
enum StepError {
    /// It failed: the detail.
    Failed(String),
    /// The robot's runtime could not be reached: the robot is offline, not failed.
    Unreachable,
}

impl StageTask {
    fn send(&self, tx: &Tx, outcome: StepOutcome, detail: Option<String>) {
        let _ = tx.send(Internal::Robot(
            self.stage.job,
            self.stage.robot,
            self.stage.attempt,
            RobotUpdate::Outcome(outcome, detail),
        ));
    }

    /// Runs a script on the robot.
    async fn script(&self, file: &str) -> Result<(), StepError> {
        let task = TaskSpec {
            command: vec![file.to_owned()],
            shell: false,
            env: self.stage.env.clone(),
            working_dir: None,
            image: self
                .stage
                .package
                .components
                .iter()
                .flat_map(|c| c.executables.iter())
                .find_map(|e| e.image.clone()),
            timeout: self.stage.timeout,
        };
        match self.runtime.run_task(&task).await {
            Ok(out) if out.exit_code == 0 => Ok(()),
            Ok(out) => Err(StepError::Failed(format!(
                "{file} exited with {}: {}",
                out.exit_code,
                tail(&out.stderr, &out.stdout)
            ))),
            Err(RuntimeError::Unreachable { .. }) => Err(StepError::Unreachable),
            Err(e) => Err(StepError::Failed(format!("{file} could not run: {e}"))),
        }
    }

    /// Carries out `command` and reports its outcome.
    async fn run(self, tx: Tx) {
        let dc = self
            .stage
            .request
            .deployment_config
            .download_condition
            .as_ref();
        let lc = &self.stage.request.launch_config;
        let (outcome, detail) = match self.stage.command {
            PipelineCommand::CheckContentLock => match dc {
                Some(dc) => match (&dc.digest, super::digest::file_digest(&dc.file).await) {
                    (None, _) => (StepOutcome::Done, None),
                    (Some(lock), Ok(actual)) if actual == *lock => (StepOutcome::Done, None),
                    (Some(lock), Ok(actual)) => (
                        StepOutcome::LockMismatch,
                        Some(format!("{} has digest {actual}, locked to {lock}", dc.file)),
                    ),
                    (Some(_), Err(e)) => (StepOutcome::Failed, Some(e)),
                },
                None => (StepOutcome::Done, None),
            },
            PipelineCommand::RunScript { kind } => {
                let file = match kind {
                    ScriptKind::DownloadCondition => dc.map(|d| d.file.as_str()),
                    ScriptKind::PreLaunch => lc.pre_launch_file.as_deref(),
                    ScriptKind::PostLaunch => lc.post_launch_file.as_deref(),
                };
                match file {
                    Some(file) => match self.script(file).await {
                        Ok(()) => (StepOutcome::Done, None),
                        Err(StepError::Failed(e)) => (StepOutcome::Failed, Some(e)),
                        Err(StepError::Unreachable) => return self.offline(&tx),
                    },
                    None => (StepOutcome::Done, None),
                }
            }
            PipelineCommand::Download => match self.download(&tx).await {
                Ok(()) => (StepOutcome::Done, None),
                Err(StepError::Failed(e)) => (StepOutcome::Failed, Some(e)),
                Err(StepError::Unreachable) => return self.offline(&tx),
            },
            _ => return,
        };
        self.send(&tx, outcome, detail);
    }

    /// The robot could not be reached during its step: it is offline (as a failed health
    /// check says), so the job abandons the attempt and defers the robot, which does not hold
    /// a slot, instead of counting a failure; it is tried again once it answers.
    fn offline(&self, tx: &Tx) {
        let _ = tx.send(Internal::Health(self.key.clone(), false));
    }

    /// Prepares (downloads, extracts) every device executable, reporting the share done.
    async fn download(&self, tx: &Tx) -> Result<(), StepError> {
        let exes: Vec<_> = self
            .stage
            .package
            .components
            .iter()
            .filter(|c| c.placement.is_device())
            .flat_map(|c| c.executables.iter().map(move |e| (c, e)))
            .collect();
        let total = exes.len().max(1);
        for (n, (c, e)) in exes.into_iter().enumerate() {
            let mut spec = crate::runtime::InstanceSpec::new(
                DeploymentId::from_u128(0),
                &c.name,
                &e.name,
                &self.stage.package.name,
                self.stage.package.version.as_str(),
            );
            spec.image = e.image.clone();
            // The launch command is the robot's own (e.g. `ros2`): nothing to prepare for it.
            if !super::launcher::Launcher::is_launch(&e.command) {
                spec.command = e.command.clone();
            }
            spec.shell = e.shell;
            if (!spec.command.is_empty() || spec.image.is_some())
                && let Err(err) = self.runtime.prepare(&spec).await
            {
                return Err(match err {
                    RuntimeError::Unreachable { .. } => StepError::Unreachable,
                    err => StepError::Failed(format!("{}/{}: {err}", c.name, e.name)),
                });
            }
            let percent_done = (((n + 1) * 100) / total) as u8;
            if percent_done < 100 {
                self.send(tx, StepOutcome::Progress { percent_done }, None);
            }
        }
        Ok(())
    }
}

/// The last line of a script's output, for failure details.
fn tail(stderr: &str, stdout: &str) -> String {
    let text = if stderr.trim().is_empty() {
        stdout
    } else {
        stderr
    };
    text.trim()
        .lines()
        .last()
        .unwrap_or("")
        .chars()
        .take(200)
        .collect()
}

/// How many times an instance whose name is taken is looked for before the start fails.
const ADOPT_LOOKUPS: u32 = 20;
/// The pause between two of those looks.
const ADOPT_LOOKUP_PAUSE: std::time::Duration = std::time::Duration::from_millis(250);

/// How long a call on a device that could not be reached is tried again before its failure
/// (`DEP_E151`) is reported: long enough to ride out a router or link restarting.
const IN_DOUBT_WINDOW: std::time::Duration = std::time::Duration::from_secs(60);
/// The pause between two of those tries.
const IN_DOUBT_PAUSE: std::time::Duration = std::time::Duration::from_millis(500);

/// Runs `call`, and on a device (`device`) runs it again while it fails because the device
/// could not be reached, for up to [`IN_DOUBT_WINDOW`] or until the engine goes away.
///
/// An unanswered call is in doubt, not failed: the request may have reached the robot and its
/// answer been lost (a router restarting mid-call). Preparing and starting are idempotent
/// (a start finds the instance it may have made under its deterministic name and adopts it),
/// so trying again settles the doubt without running anything twice. Meanwhile the executable
/// stays Starting, so a deprovision that comes in the meantime stops what the start returns.
async fn while_unreachable<T, F, Fut>(device: bool, tx: &Tx, mut call: F) -> Result<T, Failure>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T, Failure>>,
{
    let deadline = tokio::time::Instant::now() + IN_DOUBT_WINDOW;
    loop {
        let r = call().await;
        let in_doubt = device && matches!(r, Err(Failure::Unreachable { .. }));
        if !in_doubt || tx.is_closed() || tokio::time::Instant::now() >= deadline {
            return r;
        }
        tokio::time::sleep(IN_DOUBT_PAUSE).await;
    }
}

/// Starts an instance; when one with the same name exists (a previous engine started it, or a
/// shared component another deployment started), adopts it if it runs, replaces it if not. On a
/// device (`device`), a start the device did not answer is tried again ([`while_unreachable`]).
async fn start_or_adopt(
    rt: &dyn Runtime,
    spec: &InstanceSpec,
    previous: Option<&InstanceId>,
    device: bool,
    tx: &Tx,
) -> (Result<InstanceId, Failure>, bool) {
    let mut replaced = false;
    if let Some(old) = previous {
        replaced = matches!(
            rt.inspect(old).await,
            Ok(InstanceInfo {
                state: InstanceState::Running { .. },
                ..
            })
        );
        let _ = rt.remove(old).await;
    }
    let started = while_unreachable(device, tx, || start_or_adopt_fresh(rt, spec)).await;
    let replaced = replaced && started.as_ref().is_ok_and(|id| previous == Some(id));
    (started, replaced)
}

/// The `detail` of [`Failure::Engine`] (`DEP_E410`) when an executable is not started because
/// an instance of it that another store started still runs.
pub(crate) const FOREIGN_STORE: u8 = 10;

/// Refuses to start `spec` when the runtime runs an instance of the same deployment name,
/// component and executable that an engine on another store started (the store file was
/// deleted or replaced while its executables kept running): starting it would run the
/// executable twice. Instances without the labels (shared components, or instances started
/// before robodeploy labelled them with their store) are not looked for.
async fn refuse_foreign(rt: &dyn Runtime, spec: &InstanceSpec) -> Result<(), Failure> {
    let (Some(ours), Some(name)) = (
        spec.labels.get(labels::STORE),
        spec.labels.get(labels::DEPLOYMENT_NAME),
    ) else {
        return Ok(());
    };
    let mut selector = BTreeMap::from([
        (labels::MANAGED.to_owned(), "true".to_owned()),
        (labels::DEPLOYMENT_NAME.to_owned(), name.clone()),
    ]);
    for k in [labels::COMPONENT, labels::EXECUTABLE] {
        if let Some(v) = spec.labels.get(k) {
            selector.insert(k.to_owned(), v.clone());
        }
    }
    let listed = rt
        .list(&selector)
        .await
        .map_err(|e| failure_of(&e, spec, internal::START_FAILED))?;
    let foreign = listed.into_iter().find(|i| {
        matches!(i.state, InstanceState::Running { .. })
            && i.labels.get(labels::STORE).is_some_and(|s| s != ours)
    });
    match foreign {
        None => Ok(()),
        Some(info) => Err(Failure::Engine {
            detail: FOREIGN_STORE,
            message: format!(
                "not started: instance {} of deployment {name:?} ({}/{}) still runs here, \
                 started by another store ({}; this engine's store is {ours}), probably before \
                 the store file was deleted or replaced; stop and remove that instance, or run \
                 the engine on the store that started it, then deploy again",
                info.id,
                spec.component,
                spec.executable,
                info.labels.get(labels::STORE).map_or("?", String::as_str),
            ),
        }),
    }
}

/// [`start_or_adopt`] once nothing of the executable's is left to replace.
async fn start_or_adopt_fresh(
    rt: &dyn Runtime,
    spec: &InstanceSpec,
) -> Result<InstanceId, Failure> {
    refuse_foreign(rt, spec).await?;
    match rt.start(spec).await {
        Ok(id) => Ok(id),
        Err(RuntimeError::AlreadyExists(_)) => {
            let mut selector = BTreeMap::new();
            for k in [
                crate::runtime::labels::COMPONENT,
                crate::runtime::labels::EXECUTABLE,
            ] {
                if let Some(v) = spec.labels.get(k) {
                    selector.insert(k.to_owned(), v.clone());
                }
            }
            // The name can be taken by a create still in flight (one a killed engine sent just
            // before it died) before the instance shows in listings: look again for a moment.
            let mut found = None;
            for attempt in 0..ADOPT_LOOKUPS {
                if attempt > 0 {
                    tokio::time::sleep(ADOPT_LOOKUP_PAUSE).await;
                }
                found = rt
                    .list(&selector)
                    .await
                    .map_err(|e| failure_of(&e, spec, internal::START_FAILED))?
                    .into_iter()
                    .find(|i| i.name == spec.name);
                if found.is_some() {
                    break;
                }
            }
            match found {
                Some(info) if matches!(info.state, InstanceState::Running { .. }) => Ok(info.id),
                Some(info) => {
                    let _ = rt.remove(&info.id).await;
                    rt.start(spec)
                        .await
                        .map_err(|e| failure_of(&e, spec, internal::START_FAILED))
                }
                None => Err(Failure::Internal {
                    detail: internal::START_FAILED,
                    message: format!("instance {} exists but cannot be found", spec.name),
                }),
            }
        }
        Err(e) => Err(failure_of(&e, spec, internal::START_FAILED)),
    }
}
