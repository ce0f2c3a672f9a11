//! Deployment jobs in the engine's state: the rollout machine's commands become robot
//! pipelines ([`Pipeline`]: validate, content lock, download condition, download, pre-launch,
//! launch, post-launch), whose steps on the robot become [`Call::Stage`] effects the driver
//! carries out on the robot's runtime; their outcomes go back into the pipeline, and what it
//! reports into the rollout machine. Every robot that moves on (a step, a status, a failure) is
//! published as [`EngineEvent::Robot`].

use std::collections::BTreeMap;

use tracing::info_span;

use crate::model::{
    DeploymentId, DeploymentJobRequest, DeploymentRequest, FailureCode, JobId, JobStatus, Package,
    Phase, Placement, ProgressStep, StatusKind,
};
use crate::rollout::{
    Command as RolloutCommand, Input, Pipeline, PipelineCommand, PipelinePlan, PipelineReport,
    RobotIndex, RobotInit, Rollout, RolloutEvent, StepOutcome,
};

use super::effect::TimerKey;
use super::effect::{Call, Effect, Stage};
use super::entries::{JobEntry, RobotRun};
use super::journal::Journaled;
use super::message::{Internal, RobotUpdate, RuntimeKey};
use super::persist::{self, StoredJob};
use super::state::{Ready, State, TokenTarget};
use super::{DeploymentStatus, EngineError, EngineEvent};
use crate::store::{Table, WriteBatch};

impl State {
    /// Everything a new job needs, checked, changing nothing: what to write before it exists
    /// ([`StagedJob::batch`]), then [`commit_job`](Self::commit_job).
    pub(crate) fn stage_job(&self, req: DeploymentJobRequest) -> Result<StagedJob, EngineError> {
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
        .map_err(EngineError::Rollout)?
        .with_retention(self.config.job_retention);
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
        Ok(StagedJob {
            id,
            req,
            package,
            rollout,
            robots,
            batch,
        })
    }

    /// Tracks a staged job once it is written, and starts it.
    pub(crate) fn commit_job(&mut self, staged: StagedJob) -> JobId {
        let StagedJob {
            id,
            req,
            package,
            rollout,
            robots,
            batch: _,
        } = staged;
        let now = self.now();
        let mut rollout = Journaled::new(rollout);
        rollout.apply(now, Input::Start, None);
        let span = info_span!("job", id = %id, fleet = %req.fleet, application = %req.application);
        let n = robots.len();
        self.jobs.insert(
            id,
            JobEntry {
                id,
                plan: PipelinePlan::of(&req),
                request: std::sync::Arc::new(req),
                package: std::sync::Arc::new(package),
                rollout,
                robots,
                runs: (0..n).map(|_| RobotRun::default()).collect(),
                last_status: JobStatus::Pending,
                span,
            },
        );
        self.dirty_jobs.insert(id);
        id
    }

    /// Drains a job's commands and events, re-arms its timer, publishes status changes.
    pub(crate) fn settle_job(&mut self, id: JobId) {
        let Some(job) = self.jobs.get_mut(&id) else {
            return;
        };
        let mut commands = Vec::new();
        let mut moved = std::mem::take(&mut job.rollout.moved);
        while let Some(c) = job.rollout.rollout.poll_command() {
            if let RolloutCommand::DeployRobot { robot }
            | RolloutCommand::AbortRobot { robot }
            | RolloutCommand::RollbackRobot { robot } = c
            {
                moved.push(robot.0);
            }
            commands.push(c);
        }
        while let Some(e) = job.rollout.rollout.poll_event() {
            if let RolloutEvent::RobotDeferred { robot }
            | RolloutEvent::RobotTimedOut { robot }
            | RolloutEvent::RobotNoResponse { robot } = e
            {
                moved.push(robot.0);
            }
        }
        moved.sort_unstable();
        moved.dedup();
        for r in moved {
            let i = r as usize;
            if i >= job.runs.len() {
                continue;
            }
            let report = job.robot_report(i);
            let key = (
                report.status,
                report.step,
                report.percent_done,
                report.failure,
            );
            if job.runs[i].published != Some(key) {
                job.runs[i].published = Some(key);
                self.effects.push(Effect::Publish(EngineEvent::Robot {
                    job: id,
                    report: Box::new(report),
                }));
            }
        }
        let timeout = job.rollout.poll_timeout();
        if !job.rollout.pending.is_empty() {
            let ops = std::mem::take(&mut job.rollout.pending);
            let seq = job.rollout.next_chunk;
            job.rollout.next_chunk += 1;
            let mut batch = WriteBatch::default();
            batch.put(
                Table::Jobs,
                persist::job_log_key(id, seq),
                persist::to_json(&ops),
            );
            self.persist(batch);
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
                job.rollout.apply(now, Input::Prepared, None);
                self.dirty_jobs.insert(id);
            }
            RolloutCommand::DeployRobot { robot } => self.deploy_robot(id, robot),
            RolloutCommand::AbortRobot { robot } => {
                let run = &mut job.runs[robot.get()];
                run.attempt += 1;
                run.pipeline = None;
                if std::mem::take(&mut run.task) {
                    self.effects.push(Effect::Abort(id, robot.0));
                }
                run.post_launch = false;
                let dep = run.deployment.take();
                self.abandon_deployment(dep);
            }
            RolloutCommand::RollbackRobot { robot } => self.rollback_robot(id, robot),
        }
    }

    /// Starts a new attempt of a robot's pipeline.
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
        job.rollout.apply(
            now,
            Input::RobotProgress {
                robot,
                step: ProgressStep::Validating,
                percent_done: 0,
            },
            None,
        );
        self.dirty_jobs.insert(id);
        let run = &mut job.runs[i];
        run.attempt += 1;
        run.post_launch = false;
        run.rolling_back = false;
        run.detail = None;
        run.pipeline = Some(Pipeline::new(job.plan));
        // A deferred robot (it went offline) may hold its last attempt's deployment.
        let dep = run.deployment.take();
        self.abandon_deployment(dep);
        self.run_pipeline(id, robot);
    }

    /// Stops an abandoned attempt's deployment, and frees its name for the next attempt's.
    fn abandon_deployment(&mut self, dep: Option<DeploymentId>) {
        if let Some(dep) = dep {
            let _ = self.deprovision(dep);
            self.release_name(dep);
        }
    }

    /// Carries out the robot pipeline's current command: checks at once, scripts and downloads
    /// in a task that reports back ([`RobotUpdate::Outcome`]), the deployment through the
    /// driver; waiting for Running is done by [`robot_deployment_changed`](Self::robot_deployment_changed).
    fn run_pipeline(&mut self, id: JobId, robot: RobotIndex) {
        let Some(job) = self.jobs.get_mut(&id) else {
            return;
        };
        let i = robot.get();
        let Some(command) = job.runs[i].pipeline.and_then(|p| p.command()) else {
            return;
        };
        let name = job.robots[i].clone();
        let key = RuntimeKey::Device(name.clone());
        let runtime = self.runtimes.contains_key(&key).then_some(());
        match command {
            PipelineCommand::Validate => {
                // The robot must fit every device component of the application.
                let device = self.devices.get(&name);
                let fits = device.is_some_and(|d| {
                    job.package.components.iter().all(|c| match c.placement {
                        Placement::Device {
                            runtime,
                            architecture,
                        } => d.architecture == architecture && d.runtime == runtime,
                        _ => true,
                    })
                });
                let (outcome, detail) = match (device, fits, &runtime) {
                    (Some(_), true, Some(_)) => (StepOutcome::Done, None),
                    (Some(_), true, None) => (
                        StepOutcome::NoRuntime,
                        Some(format!("no runtime for robot {name}")),
                    ),
                    (Some(d), _, _) => (
                        StepOutcome::Failed,
                        Some(format!(
                            "robot {name} is {}/{}, which no device component of {} matches",
                            d.architecture, d.runtime, job.package.name
                        )),
                    ),
                    (None, _, _) => (
                        StepOutcome::Failed,
                        Some(format!("robot {name} is not registered")),
                    ),
                };
                self.pipeline_outcome(id, robot, outcome, detail);
            }
            PipelineCommand::Deploy => self.launch_robot(id, robot, None),
            PipelineCommand::WaitRunning => {}
            command => {
                if runtime.is_none() {
                    let detail = Some(format!("no runtime for robot {name}"));
                    return self.pipeline_outcome(id, robot, StepOutcome::NoRuntime, detail);
                }
                let stage = Stage {
                    job: id,
                    robot: robot.0,
                    attempt: job.runs[i].attempt,
                    command,
                    env: robot_env(&job.request, &name, id),
                    request: job.request.clone(),
                    package: job.package.clone(),
                    timeout: self.config.script_timeout,
                };
                job.runs[i].task = true;
                self.effects
                    .push(Effect::Call(key, Call::Stage(Box::new(stage))));
            }
        }
    }

    /// Feeds an outcome of the current command to the robot's pipeline, what it reports to the
    /// rollout, and carries out its next command.
    fn pipeline_outcome(
        &mut self,
        id: JobId,
        robot: RobotIndex,
        outcome: StepOutcome,
        detail: Option<String>,
    ) {
        let now = self.now();
        let Some(job) = self.jobs.get_mut(&id) else {
            return;
        };
        let i = robot.get();
        let Some(Ok(report)) = job.runs[i].pipeline.as_mut().map(|p| p.handle(outcome)) else {
            return;
        };
        self.dirty_jobs.insert(id);
        let run = &mut job.runs[i];
        match report {
            PipelineReport::Progress { .. } => {
                job.rollout.apply(now, report.input(robot), None);
                if outcome == StepOutcome::Done {
                    self.run_pipeline(id, robot);
                }
            }
            PipelineReport::Failed { .. } => {
                run.detail = detail;
                if std::mem::take(&mut run.task) {
                    self.effects.push(Effect::Abort(id, robot.0));
                }
                run.pipeline = None;
                let dep = run.deployment.take();
                job.rollout
                    .apply(now, report.input(robot), job.runs[i].detail.clone());
                if let Some(dep) = dep {
                    let _ = self.deprovision(dep);
                }
            }
            PipelineReport::Succeeded => {
                if std::mem::take(&mut run.task) {
                    self.effects.push(Effect::Abort(id, robot.0));
                }
                run.pipeline = None;
                let new = run.deployment;
                job.rollout.apply(now, report.input(robot), None);
                self.robot_installed(id, i, new, false);
            }
        }
    }

    /// The robot now runs `new`: the job's version, or after a rollback (`rolled_back`) the
    /// version it ran before the job (`new` is then `None` when it ran none: the application is
    /// gone). The deployment it replaces is stopped, and the device records the version.
    fn robot_installed(
        &mut self,
        id: JobId,
        i: usize,
        new: Option<DeploymentId>,
        rolled_back: bool,
    ) {
        let Some(job) = self.jobs.get(&id) else {
            return;
        };
        let robot_name = job.robots[i].clone();
        let app = job.request.application.clone();
        let version = if rolled_back {
            job.rollout
                .rollout
                .previous_version(RobotIndex(i as u32))
                .ok()
                .flatten()
                .cloned()
        } else {
            Some(job.request.application_version.clone())
        };
        let key = (robot_name.clone(), app.clone());
        match new {
            Some(new) => {
                if let Some(old) = self.installed.insert(key, new)
                    && old != new
                {
                    let _ = self.deprovision(old);
                }
            }
            None if rolled_back => {
                self.installed.remove(&key);
            }
            None => {}
        }
        match version {
            Some(version) => self.devices.set_installed(&robot_name, &app, version),
            None => self.devices.remove_installed(&robot_name, &app),
        }
        self.persist_device(&robot_name);
    }

    /// A robot's task reported.
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
        match update {
            RobotUpdate::Outcome(outcome, detail) => {
                if !matches!(outcome, StepOutcome::Progress { .. })
                    && std::mem::take(&mut job.runs[i].task)
                {
                    // Its task is done: the driver lets go of it.
                    self.effects.push(Effect::Abort(id, robot));
                }
                self.pipeline_outcome(id, r, outcome, detail);
            }
            RobotUpdate::RolledBack(result) => {
                self.dirty_jobs.insert(id);
                let run = &mut job.runs[i];
                if std::mem::take(&mut run.task) {
                    self.effects.push(Effect::Abort(id, robot));
                }
                match result {
                    Ok(()) => {
                        let new = run.deployment;
                        job.rollout
                            .apply(now, Input::RobotSucceeded { robot: r }, None);
                        self.robot_installed(id, i, new, true);
                    }
                    Err(detail) => {
                        run.detail = Some(detail);
                        job.rollout.apply(
                            now,
                            Input::RobotFailed {
                                robot: r,
                                code: FailureCode::LaunchFailure,
                            },
                            job.runs[i].detail.clone(),
                        );
                    }
                }
            }
        }
    }

    /// Creates the robot's deployment of the job's version (or of `package` for a rollback).
    fn launch_robot(&mut self, id: JobId, robot: RobotIndex, package: Option<Package>) {
        let Some(job) = self.jobs.get_mut(&id) else {
            return;
        };
        let i = robot.get();
        let name = job.robots[i].clone();
        let package = package.unwrap_or_else(|| Package::clone(&job.package));
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
        let rolling_back = job.runs[i].rolling_back;
        match self.create_deployment(req, package, &env, Some(&launch), Some((id, robot.0))) {
            Ok(dep) => {
                if let Some(job) = self.jobs.get_mut(&id) {
                    job.runs[i].deployment = Some(dep);
                }
                if !rolling_back {
                    self.pipeline_outcome(id, robot, StepOutcome::Done, None);
                }
            }
            Err(e) => {
                let detail = format!("could not create the deployment: {e}");
                if rolling_back {
                    self.rollback_failed(id, robot, detail);
                } else {
                    self.pipeline_outcome(id, robot, StepOutcome::Failed, Some(detail));
                }
            }
        }
    }

    /// A job robot's deployment changed: Running completes the launch (or the rollback); a
    /// failure to start fails it.
    pub(crate) fn robot_deployment_changed(
        &mut self,
        id: JobId,
        robot: u32,
        dep: DeploymentId,
        status: &DeploymentStatus,
    ) {
        // Error only because its robot is offline: the robot is waited for, not failed. The job
        // hears of the robot going offline on its own (and defers it); when the robot answers
        // again, the deployment carries on.
        let offline = status.status == StatusKind::Error
            && !status.errors.is_empty()
            && status
                .errors
                .iter()
                .all(|e| e.code == crate::model::ErrorCode::DeviceOffline)
            && self
                .jobs
                .get(&id)
                .and_then(|j| j.robots.get(robot as usize))
                .and_then(|name| self.devices.get(name))
                .is_some_and(|d| !d.online);
        if offline {
            return;
        }
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
        let outcome = if status.phase == Phase::Succeeded && status.status == StatusKind::Running {
            Ok(())
        } else if status.status == StatusKind::Error {
            let detail = status
                .errors
                .iter()
                .map(|e| match (&e.component, &e.executable) {
                    (Some(c), Some(x)) => format!("{} {c}/{x}", e.code),
                    _ => e.code.to_string(),
                })
                .collect::<Vec<_>>()
                .join(", ");
            Err(format!("deployment {dep} did not reach Running: {detail}"))
        } else {
            return;
        };
        run.post_launch = true;
        if run.rolling_back {
            self.effects.push(Effect::Notify(Internal::Robot(
                id,
                robot,
                attempt,
                RobotUpdate::RolledBack(outcome),
            )));
            return;
        }
        match outcome {
            Ok(()) => self.pipeline_outcome(id, r, StepOutcome::Done, None),
            Err(detail) => self.pipeline_outcome(id, r, StepOutcome::Failed, Some(detail)),
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
        run.pipeline = None;
        if std::mem::take(&mut run.task) {
            self.effects.push(Effect::Abort(id, robot.0));
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
                job.rollout
                    .apply(now, Input::RobotSucceeded { robot }, None);
                self.dirty_jobs.insert(id);
                self.robot_installed(id, i, None, true);
            }
            Some(v) => match self.catalog.get(&app, &v).cloned() {
                Some(pkg) => self.launch_robot(id, robot, Some(pkg)),
                None => {
                    let detail = format!("previous version {app}@{v} is not in the catalog");
                    self.rollback_failed(id, robot, detail);
                }
            },
        }
    }

    /// A robot's rollback could not even start (its deployment could not be made).
    fn rollback_failed(&mut self, id: JobId, robot: RobotIndex, detail: String) {
        let now = self.now();
        if let Some(job) = self.jobs.get_mut(&id) {
            job.runs[robot.get()].detail = Some(detail.clone());
            let failed = Input::RobotFailed {
                robot,
                code: FailureCode::InternalServerError,
            };
            job.rollout.apply(now, failed, Some(detail));
            self.dirty_jobs.insert(id);
        }
    }

    /// A device came or went: jobs that include it hear of it.
    pub(crate) fn jobs_device_online(&mut self, device: &str, online: bool) {
        let now = self.now();
        for job in self.jobs.values_mut() {
            if let Some(i) = job.robots.iter().position(|r| r == device) {
                let r = RobotIndex(i as u32);
                let input = if online {
                    Input::RobotOnline { robot: r }
                } else {
                    Input::RobotOffline { robot: r }
                };
                job.rollout.apply(now, input, None);
                self.dirty_jobs.insert(job.id);
            }
        }
    }
}

impl State {
    /// Feeds a job's rollout an input from the API (cancel, resume).
    pub(crate) fn job_input(&mut self, id: JobId, input: Input) -> Result<(), EngineError> {
        let now = self.now();
        let job = self.jobs.get_mut(&id).ok_or(EngineError::NoSuchJob(id))?;
        job.rollout.apply(now, input, None);
        self.dirty_jobs.insert(id);
        Ok(())
    }

    /// Feeds a job [`Input::Rollback`]; refused when it starts no rollback.
    pub(crate) fn rollback_job(&mut self, id: JobId) -> Result<(), EngineError> {
        let job = self.jobs.get(&id).ok_or(EngineError::NoSuchJob(id))?;
        if job.rollout.rollout.rollback_requested() {
            return Err(EngineError::NothingToRollBack(id));
        }
        self.job_input(id, Input::Rollback)?;
        let job = self.jobs.get(&id).ok_or(EngineError::NoSuchJob(id))?;
        if !job.rollout.rollout.rollback_requested() {
            return Err(EngineError::NothingToRollBack(id));
        }
        Ok(())
    }

    /// Drops jobs past their retention, and their records (the retention rule).
    pub(crate) fn drop_expired_jobs(&mut self) {
        let now = self.now();
        let expired: Vec<_> = self
            .jobs
            .values()
            .filter(|j| j.rollout.expires_at() <= now && j.rollout.status().is_terminal())
            .map(|j| j.id)
            .collect();
        for id in expired {
            self.jobs.remove(&id);
            self.set_timer(TimerKey::Job(id), None);
            self.forget_job(id);
        }
    }

    /// Deletes a job and its journal from the store (written with the turn), and the request
    /// tokens that named it: the same token creates a new job afterwards.
    pub(crate) fn forget_job(&mut self, id: JobId) {
        let mut b = WriteBatch::default();
        b.delete(Table::Jobs, persist::job_key(id));
        b.delete_prefix(Table::Jobs, format!("{id}/"));
        let tokens: Vec<String> = self
            .tokens
            .iter()
            .filter(|(_, target)| matches!(target, TokenTarget::Job(j) if *j == id))
            .map(|(token, _)| token.clone())
            .collect();
        for token in tokens {
            self.tokens.remove(&token);
            b.delete(Table::Tokens, token);
        }
        self.persist(b);
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

/// A job checked, not tracked yet: [`State::stage_job`].
pub(crate) struct StagedJob {
    id: JobId,
    req: DeploymentJobRequest,
    package: Package,
    rollout: Rollout,
    robots: Vec<String>,
    /// What is written before the job exists.
    pub(crate) batch: WriteBatch,
}
