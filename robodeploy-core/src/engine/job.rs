//! Deployment jobs in the driver: the rollout machine's commands become robot pipelines
//! (validate, download condition, download, pre-launch, launch, post-launch), and what the robots
//! do goes back into the machine.

use std::collections::BTreeMap;
use std::sync::Arc;

use tokio::task::AbortHandle;
use tracing::info_span;

use crate::model::{
    DeploymentId, DeploymentJobRequest, DeploymentRequest, FailureCode, JobId, JobStatus, Package,
    Phase, Placement, ProgressStep, RobotStatus, StatusKind,
};
use crate::rollout::{Command as RolloutCommand, RobotIndex, RobotInit, Rollout};
use crate::runtime::{Runtime, TaskSpec};

use super::driver::{Driver, Ready, TimerKey};
use super::journal::{JobOp, Journaled};
use super::persist::{self, StoredJob};
use super::request::{Internal, RobotUpdate, RuntimeKey};
use super::{DeploymentStatus, EngineError, EngineEvent, JobReport, RobotReport};
use crate::store::{Table, WriteBatch};

/// What the engine is doing for one robot of a job.
#[derive(Default)]
pub(crate) struct RobotRun {
    /// Bumped at every attempt; updates from older attempts are ignored.
    pub(crate) attempt: u32,
    pub(crate) task: Option<AbortHandle>,
    pub(crate) deployment: Option<DeploymentId>,
    /// The deployment runs and the post-launch script was started.
    pub(crate) post_launch: bool,
    pub(crate) rolling_back: bool,
    pub(crate) detail: Option<String>,
}

/// A live job.
pub(crate) struct JobEntry {
    pub(crate) id: JobId,
    pub(crate) request: DeploymentJobRequest,
    pub(crate) package: Package,
    pub(crate) rollout: Journaled,
    pub(crate) robots: Vec<String>,
    pub(crate) runs: Vec<RobotRun>,
    pub(crate) last_status: JobStatus,
    pub(crate) span: tracing::Span,
}

impl JobEntry {
    pub(crate) fn report(&self) -> JobReport {
        let r = &self.rollout;
        JobReport {
            id: self.id,
            fleet: self.request.fleet.clone(),
            application: self.request.application.clone(),
            version: self.request.application_version.clone(),
            status: r.status(),
            failure: r.failure_code(),
            in_flight_limit: r.in_flight_limit(),
            failure_threshold: r.failure_threshold(),
            robots: (0..self.robots.len())
                .map(|i| self.robot_report(i))
                .collect(),
            tags: self.request.tags.clone(),
            created_at: r.created_at(),
            expires_at: r.expires_at(),
        }
    }

    pub(crate) fn robot_report(&self, i: usize) -> RobotReport {
        let idx = RobotIndex(i as u32);
        let p = self.rollout.robot_progress(idx).ok();
        RobotReport {
            robot: self.robots[i].clone(),
            status: p.map_or(RobotStatus::PendingNewDeployment, |p| p.status),
            step: p.and_then(|p| p.step).unwrap_or(ProgressStep::Validating),
            percent_done: p.map_or(0, |p| p.percent_done),
            eta: p.and_then(|p| p.eta),
            failure: self.rollout.robot_failure(idx).ok().flatten(),
            failure_detail: self.runs[i].detail.clone(),
            deployment: self.runs[i].deployment,
        }
    }
}

impl Driver {
    /// Creates a job over a registered fleet and starts it.
    pub(crate) fn create_job(&mut self, req: DeploymentJobRequest) -> Result<JobId, EngineError> {
        let fleet = self
            .fleets
            .get(&req.fleet)
            .ok_or_else(|| EngineError::NoSuchFleet(req.fleet.clone()))?;
        let package = self
            .catalog
            .get(&req.application, &req.application_version)
            .cloned()
            .ok_or_else(|| super::CatalogError::NotFound {
                name: req.application.clone(),
                version: req.application_version.to_string(),
            })?;
        super::validate::check_job(&req)?;
        let robots: Vec<String> = fleet.robots.iter().map(|d| d.name.clone()).collect();
        let devices: Vec<_> = robots
            .iter()
            .map(|n| {
                self.devices
                    .get(n)
                    .cloned()
                    .ok_or_else(|| super::DeviceError::NotFound(n.clone()))
            })
            .collect::<Result<_, _>>()?;
        let now = self.now();
        let rollout = Rollout::new(
            &req.deployment_config,
            devices.iter().map(|d| RobotInit {
                online: d.online,
                previous_version: d.installed.get(&req.application),
            }),
            now,
        )
        .map_err(EngineError::Rollout)?;
        let id = JobId::new_random();
        // Write-ahead: the job is stored before any robot is touched.
        let stored = StoredJob {
            request: req.clone(),
            robots: robots.clone(),
            online: devices.iter().map(|d| d.online).collect(),
            previous: devices
                .iter()
                .map(|d| d.installed.get(&req.application).cloned())
                .collect(),
            created_at: now,
        };
        let mut batch = WriteBatch::default();
        batch.put(Table::Jobs, persist::job_key(id), persist::to_json(&stored));
        self.store.write(batch)?;
        let mut rollout = Journaled::new(rollout);
        rollout.apply(JobOp::Start(now.as_millis()));
        let span = info_span!("job", id = %id, fleet = %req.fleet, application = %req.application);
        let n = robots.len();
        self.jobs.insert(
            id,
            JobEntry {
                id,
                request: req,
                package,
                rollout,
                robots,
                runs: (0..n).map(|_| RobotRun::default()).collect(),
                last_status: JobStatus::Pending,
                span,
            },
        );
        self.dirty_jobs.insert(id);
        Ok(id)
    }

    /// Drains a job's commands and events, re-arms its timer, publishes status changes.
    pub(crate) fn settle_job(&mut self, id: JobId) {
        let Some(job) = self.jobs.get_mut(&id) else {
            return;
        };
        let mut commands = Vec::new();
        while let Some(c) = job.rollout.rollout.poll_command() {
            commands.push(c);
        }
        while job.rollout.rollout.poll_event().is_some() {}
        let timeout = job.rollout.poll_timeout();
        if !job.rollout.pending.is_empty() {
            let ops = std::mem::take(&mut job.rollout.pending);
            let seq = job.rollout.next_chunk;
            job.rollout.next_chunk += 1;
            self.pending_writes.put(
                Table::Jobs,
                persist::job_log_key(id, seq),
                persist::to_json(&ops),
            );
        }
        self.ready
            .extend(commands.into_iter().map(|c| Ready::Job(id, c)));
        self.set_timer(TimerKey::Job(id), timeout);
        let Some(job) = self.jobs.get_mut(&id) else {
            return;
        };
        let status = job.rollout.status();
        if status != job.last_status {
            job.last_status = status;
            job.span
                .in_scope(|| tracing::info!(status = ?status, "job status"));
            self.publish(EngineEvent::Job { job: id, status });
        }
    }

    pub(crate) fn execute_job_command(&mut self, id: JobId, command: RolloutCommand) {
        let now = self.now();
        let Some(job) = self.jobs.get_mut(&id) else {
            return;
        };
        match command {
            RolloutCommand::Prepare => {
                // The package and fleet were resolved at creation; robot-level checks happen
                // per robot (MissingRobotArchitecture at Validating).
                job.rollout.apply(JobOp::Prepared(now.as_millis()));
                self.dirty_jobs.insert(id);
            }
            RolloutCommand::DeployRobot { robot } => self.deploy_robot(id, robot),
            RolloutCommand::AbortRobot { robot } => {
                let run = &mut job.runs[robot.get()];
                run.attempt += 1;
                if let Some(t) = run.task.take() {
                    t.abort();
                }
                run.post_launch = false;
                let dep = run.deployment.take();
                if let Some(dep) = dep {
                    let _ = self.deprovision(dep);
                }
            }
            RolloutCommand::RollbackRobot { robot } => self.rollback_robot(id, robot),
        }
    }

    /// Starts a robot's pipeline up to the launch.
    pub(crate) fn deploy_robot(&mut self, id: JobId, robot: RobotIndex) {
        let now = self.now();
        let Some(job) = self.jobs.get_mut(&id) else {
            return;
        };
        let i = robot.get();
        let name = job.robots[i].clone();
        if self.devices.get(&name).is_none() && self.recovery.devices.contains_key(&name) {
            // The engine restarted and the robot's device is not registered again yet: its
            // turn comes when it is (recovery carries it on then).
            self.recovery.robots.entry(name).or_default().push((
                id,
                robot.0,
                super::journal::LastCommand::Deploy,
            ));
            return;
        }
        job.rollout.apply(JobOp::Progress(
            now.as_millis(),
            robot.0,
            ProgressStep::Validating,
            0,
        ));
        self.dirty_jobs.insert(id);
        // Validating: the robot must fit every device component of the application.
        let device = self.devices.get(&name).cloned();
        let fits = device.as_ref().is_some_and(|d| {
            job.package.components.iter().all(|c| match c.placement {
                Placement::Device {
                    runtime,
                    architecture,
                } => d.architecture == architecture && d.runtime == runtime,
                _ => true,
            })
        });
        if !fits {
            let detail = match &device {
                Some(d) => format!(
                    "robot {name} is {}/{}, which no device component of {} matches",
                    d.architecture, d.runtime, job.package.name
                ),
                None => format!("robot {name} is not registered"),
            };
            job.runs[i].detail = Some(detail);
            job.rollout.handle_robot_failed(
                robot,
                FailureCode::MissingRobotArchitecture,
                now,
                job.runs[i].detail.clone(),
            );
            return;
        }
        let Some(slot) = self.runtimes.get(&RuntimeKey::Device(name.clone())) else {
            job.runs[i].detail = Some(format!("no runtime for robot {name}"));
            job.rollout.handle_robot_failed(
                robot,
                FailureCode::EnvironmentSetupError,
                now,
                job.runs[i].detail.clone(),
            );
            return;
        };
        let run = &mut job.runs[i];
        run.attempt += 1;
        run.post_launch = false;
        run.rolling_back = false;
        run.detail = None;
        let attempt = run.attempt;
        let plan = PipelinePlan {
            job: id,
            robot: robot.0,
            attempt,
            runtime: slot.runtime.clone(),
            env: robot_env(&job.request, &name, id),
            download_condition: job.request.deployment_config.download_condition.clone(),
            pre_launch: job.request.launch_config.pre_launch_file.clone(),
            package: job.package.clone(),
            timeout: self.config.script_timeout,
        };
        let tx = self.internal_tx.clone();
        let handle = tokio::spawn(async move { plan.run_before_launch(tx).await });
        job.runs[i].task = Some(handle.abort_handle());
    }

    /// A robot's pipeline reported.
    pub(crate) fn handle_robot_update(
        &mut self,
        id: JobId,
        robot: u32,
        attempt: u32,
        update: RobotUpdate,
    ) {
        let now = self.now();
        let Some(job) = self.jobs.get_mut(&id) else {
            return;
        };
        let r = RobotIndex(robot);
        let i = robot as usize;
        if job.runs.get(i).is_none_or(|run| run.attempt != attempt) {
            return;
        }
        self.dirty_jobs.insert(id);
        match update {
            RobotUpdate::Step(step, pct) => {
                job.rollout.handle_robot_progress(r, step, pct, now);
            }
            RobotUpdate::Output(_) => {}
            RobotUpdate::Failed(code, detail) => {
                job.runs[i].detail = Some(detail);
                job.runs[i].task = None;
                let dep = job.runs[i].deployment.take();
                job.rollout
                    .handle_robot_failed(r, code, now, job.runs[i].detail.clone());
                if let Some(dep) = dep {
                    let _ = self.deprovision(dep);
                }
            }
            RobotUpdate::ReadyToLaunch => {
                job.runs[i].task = None;
                job.rollout
                    .handle_robot_progress(r, ProgressStep::Launching, 0, now);
                self.launch_robot(id, r, None);
            }
            RobotUpdate::Done => {
                job.runs[i].task = None;
                let robot_name = job.robots[i].clone();
                let app = job.request.application.clone();
                let version = job.request.application_version.clone();
                let rolling_back = job.runs[i].rolling_back;
                let new = job.runs[i].deployment;
                job.rollout.handle_robot_succeeded(r, now);
                // The robot now runs this version: the deployment it replaces is stopped.
                if let Some(new) = new
                    && let Some(old) = self
                        .installed
                        .insert((robot_name.clone(), app.clone()), new)
                    && old != new
                {
                    let _ = self.deprovision(old);
                }
                if !rolling_back {
                    self.devices.set_installed(&robot_name, &app, version);
                    self.persist_device(&robot_name);
                }
            }
        }
    }

    /// Creates the robot's deployment of the job's version (or of `version` for a rollback).
    fn launch_robot(&mut self, id: JobId, robot: RobotIndex, package: Option<Package>) {
        let now = self.now();
        let Some(job) = self.jobs.get_mut(&id) else {
            return;
        };
        let i = robot.get();
        let name = job.robots[i].clone();
        let package = package.unwrap_or_else(|| job.package.clone());
        let lc = &job.request.launch_config;
        let launch = self
            .config
            .launcher
            .render(&lc.package_name, &lc.launch_file);
        let env = robot_env(&job.request, &name, id);
        let req = DeploymentRequest {
            name: format!(
                "{}-{}-{}-{}",
                package.name,
                package.version,
                name,
                &id.as_uuid().simple().to_string()[..8]
            ),
            package: package.name.clone(),
            version: package.version.clone(),
            labels: BTreeMap::from([("io.robodeploy.job".to_owned(), id.to_string())]),
            devices: package
                .components
                .iter()
                .filter(|c| c.placement.is_device())
                .map(|c| (c.name.clone(), name.clone()))
                .collect(),
            depends_on: Vec::new(),
            volumes: Vec::new(),
            routed_network: None,
            restart_policy: None,
            env: BTreeMap::new(),
        };
        let attempt = job.runs[i].attempt;
        let rolling_back = job.runs[i].rolling_back;
        match self.create_deployment(req, package, &env, Some(&launch), Some((id, robot.0))) {
            Ok(dep) => {
                if let Some(job) = self.jobs.get_mut(&id) {
                    job.runs[i].deployment = Some(dep);
                }
            }
            Err(e) => {
                let code = if rolling_back {
                    FailureCode::InternalServerError
                } else {
                    FailureCode::EnvironmentSetupError
                };
                let _ = self.internal_tx.send(Internal::Robot(
                    id,
                    robot.0,
                    attempt,
                    RobotUpdate::Failed(code, format!("could not create the deployment: {e}")),
                ));
                let _ = now;
            }
        }
    }

    /// A job robot's deployment changed: Running moves the robot to post-launch; a failure to
    /// start fails the robot.
    pub(crate) fn robot_deployment_changed(
        &mut self,
        id: JobId,
        robot: u32,
        dep: DeploymentId,
        status: &DeploymentStatus,
    ) {
        let now = self.now();
        let Some(job) = self.jobs.get_mut(&id) else {
            return;
        };
        let i = robot as usize;
        let Some(run) = job.runs.get_mut(i) else {
            return;
        };
        if run.deployment != Some(dep) || run.post_launch {
            return;
        }
        let r = RobotIndex(robot);
        let attempt = run.attempt;
        if status.phase == Phase::Succeeded && status.status == StatusKind::Running {
            run.post_launch = true;
            if run.rolling_back {
                let _ =
                    self.internal_tx
                        .send(Internal::Robot(id, robot, attempt, RobotUpdate::Done));
                return;
            }
            job.rollout
                .handle_robot_progress(r, ProgressStep::ExecutingPostLaunch, 0, now);
            self.dirty_jobs.insert(id);
            let name = job.robots[i].clone();
            let Some(slot) = self.runtimes.get(&RuntimeKey::Device(name.clone())) else {
                return;
            };
            let plan = PipelinePlan {
                job: id,
                robot,
                attempt,
                runtime: slot.runtime.clone(),
                env: robot_env(&job.request, &name, id),
                download_condition: None,
                pre_launch: job.request.launch_config.post_launch_file.clone(),
                package: job.package.clone(),
                timeout: self.config.script_timeout,
            };
            let tx = self.internal_tx.clone();
            let handle = tokio::spawn(async move { plan.run_after_launch(tx).await });
            job.runs[i].task = Some(handle.abort_handle());
        } else if status.phase == Phase::FailedToStart || status.status == StatusKind::Error {
            let detail = status
                .errors
                .iter()
                .map(|e| match (&e.component, &e.executable) {
                    (Some(c), Some(x)) => format!("{} {c}/{x}", e.code),
                    _ => e.code.to_string(),
                })
                .collect::<Vec<_>>()
                .join(", ");
            run.post_launch = true;
            let _ = self.internal_tx.send(Internal::Robot(
                id,
                robot,
                attempt,
                RobotUpdate::Failed(
                    FailureCode::LaunchFailure,
                    format!("deployment {dep} did not reach Running: {detail}"),
                ),
            ));
        }
    }

    /// Returns a robot to its previous version (or removes the application if it had none).
    pub(crate) fn rollback_robot(&mut self, id: JobId, robot: RobotIndex) {
        let now = self.now();
        let Some(job) = self.jobs.get_mut(&id) else {
            return;
        };
        let i = robot.get();
        let previous = job.rollout.previous_version(robot).ok().flatten().cloned();
        let app = job.request.application.clone();
        let run = &mut job.runs[i];
        run.attempt += 1;
        run.rolling_back = true;
        run.post_launch = false;
        if let Some(t) = run.task.take() {
            t.abort();
        }
        let current = run.deployment.take();
        if let Some(dep) = current {
            let _ = self.deprovision(dep);
        }
        let Some(job) = self.jobs.get_mut(&id) else {
            return;
        };
        match previous {
            None => {
                job.rollout.handle_robot_succeeded(robot, now);
                self.dirty_jobs.insert(id);
            }
            Some(v) => match self.catalog.get(&app, &v).cloned() {
                Some(pkg) => self.launch_robot(id, robot, Some(pkg)),
                None => {
                    job.runs[i].detail =
                        Some(format!("previous version {app}@{v} is not in the catalog"));
                    job.rollout.handle_robot_failed(
                        robot,
                        FailureCode::InternalServerError,
                        now,
                        job.runs[i].detail.clone(),
                    );
                    self.dirty_jobs.insert(id);
                }
            },
        }
    }

    /// A device came or went: jobs that include it hear of it.
    pub(crate) fn jobs_device_online(&mut self, device: &str, online: bool) {
        let now = self.now();
        for job in self.jobs.values_mut() {
            if let Some(i) = job.robots.iter().position(|r| r == device) {
                let r = RobotIndex(i as u32);
                if online {
                    job.rollout.handle_robot_online(r, now);
                } else {
                    job.rollout.handle_robot_offline(r, now);
                }
                self.dirty_jobs.insert(job.id);
            }
        }
    }
}

/// The environment of a robot's scripts and application.
fn robot_env(req: &DeploymentJobRequest, robot: &str, job: JobId) -> BTreeMap<String, String> {
    let mut env = req.launch_config.environment_variables.clone();
    env.insert("ROBODEPLOY_ROBOT".to_owned(), robot.to_owned());
    env.insert("ROBODEPLOY_JOB".to_owned(), job.to_string());
    env.insert("ROBODEPLOY_APPLICATION".to_owned(), req.application.clone());
    env.insert(
        "ROBODEPLOY_APPLICATION_VERSION".to_owned(),
        req.application_version.to_string(),
    );
    env
}

/// What a robot pipeline task needs.
struct PipelinePlan {
    job: JobId,
    robot: u32,
    attempt: u32,
    runtime: Arc<dyn Runtime>,
    env: BTreeMap<String, String>,
    download_condition: Option<crate::model::DownloadCondition>,
    pre_launch: Option<String>,
    package: Package,
    timeout: std::time::Duration,
}

impl PipelinePlan {
    fn send(&self, tx: &tokio::sync::mpsc::UnboundedSender<Internal>, u: RobotUpdate) {
        let _ = tx.send(Internal::Robot(self.job, self.robot, self.attempt, u));
    }

    /// Runs a script on the robot; `Err` holds the failure detail.
    async fn script(&self, file: &str) -> Result<(), String> {
        let task = TaskSpec {
            command: vec![file.to_owned()],
            shell: false,
            env: self.env.clone(),
            working_dir: None,
            image: self
                .package
                .components
                .iter()
                .flat_map(|c| c.executables.iter())
                .find_map(|e| e.image.clone()),
            timeout: self.timeout,
        };
        match self.runtime.run_task(&task).await {
            Ok(out) if out.exit_code == 0 => Ok(()),
            Ok(out) => Err(format!(
                "{file} exited with {}: {}",
                out.exit_code,
                tail(&out.stderr, &out.stdout)
            )),
            Err(e) => Err(format!("{file} could not run: {e}")),
        }
    }

    async fn run_before_launch(self, tx: tokio::sync::mpsc::UnboundedSender<Internal>) {
        if let Some(dc) = &self.download_condition {
            self.send(
                &tx,
                RobotUpdate::Step(ProgressStep::ExecutingDownloadCondition, 0),
            );
            if let Some(lock) = &dc.digest {
                match super::digest::file_digest(&dc.file).await {
                    Ok(actual) if actual == *lock => {}
                    Ok(actual) => {
                        return self.send(
                            &tx,
                            RobotUpdate::Failed(
                                FailureCode::EtagMismatch,
                                format!("{} has digest {actual}, locked to {lock}", dc.file),
                            ),
                        );
                    }
                    Err(e) => {
                        return self.send(
                            &tx,
                            RobotUpdate::Failed(FailureCode::DownloadConditionFailed, e),
                        );
                    }
                }
            }
            if let Err(e) = self.script(&dc.file).await {
                return self.send(
                    &tx,
                    RobotUpdate::Failed(FailureCode::DownloadConditionFailed, e),
                );
            }
        }
        self.send(
            &tx,
            RobotUpdate::Step(ProgressStep::DownloadingExtracting, 0),
        );
        let exes: Vec<_> = self
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
                &self.package.name,
                self.package.version.as_str(),
            );
            spec.image = e.image.clone();
            spec.command = e.command.clone();
            spec.shell = e.shell;
            if (!spec.command.is_empty() || spec.image.is_some())
                && let Err(err) = self.runtime.prepare(&spec).await
            {
                return self.send(
                    &tx,
                    RobotUpdate::Failed(
                        FailureCode::ExtractingBundleFailure,
                        format!("{}/{}: {err}", c.name, e.name),
                    ),
                );
            }
            let pct = (((n + 1) * 100) / total) as u8;
            self.send(
                &tx,
                RobotUpdate::Step(ProgressStep::DownloadingExtracting, pct),
            );
        }
        if let Some(file) = &self.pre_launch {
            self.send(&tx, RobotUpdate::Step(ProgressStep::ExecutingPreLaunch, 0));
            if let Err(e) = self.script(file).await {
                return self.send(
                    &tx,
                    RobotUpdate::Failed(FailureCode::PreLaunchFileFailure, e),
                );
            }
        }
        self.send(&tx, RobotUpdate::ReadyToLaunch);
    }

    async fn run_after_launch(self, tx: tokio::sync::mpsc::UnboundedSender<Internal>) {
        if let Some(file) = &self.pre_launch
            && let Err(e) = self.script(file).await
        {
            return self.send(
                &tx,
                RobotUpdate::Failed(FailureCode::PostLaunchFileFailure, e),
            );
        }
        self.send(&tx, RobotUpdate::Done);
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
