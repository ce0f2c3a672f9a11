//! [`Simulation`]: the virtual clock, the modelled robots, and the loop that drives the real
//! [`Rollout`] with them — no threads, no sleeps.

use std::time::Duration;

use super::queue::{Entry, EventQueue, Kind};
use super::timeline::{Happening, SimReport, SimStats, TimelineDetail, TimelineEntry};
use super::{Dist, FleetModel, SimError, SplitMix64};
use crate::model::{DeploymentConfig, DeploymentJobRequest, Fleet, ProgressStep, Version};
use crate::rollout::{
    Command, Input, Pipeline, PipelinePlan, PipelineReport, RobotIndex, RobotInit, Rollout,
    RolloutPhase, StepOutcome,
};
use crate::time::Time;

/// How a simulation runs.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SimOptions {
    /// The seed of every random draw.
    pub seed: u64,
    /// What the timeline records.
    pub timeline: TimelineDetail,
    /// The simulated user resumes a wave waiting for a manual resume this long after it
    /// completed; none: nobody resumes and the run stops there.
    pub resume_after: Option<Duration>,
    /// The simulated user cancels the job this long after it started.
    pub cancel_after: Option<Duration>,
}

/// What the simulator reads of a robot at each of its events: 8 bytes (when its attempt
/// started, read only at the attempt's start and end, is in a table of its own).
#[derive(Clone, Copy, Debug)]
struct SimRobot {
    /// Its current attempt, through the same pipeline the engine runs.
    pipeline: Pipeline,
    /// Bumped whenever the robot's pending event becomes stale (abort, offline, new command).
    token: u32,
    /// Deployment attempts so far (keys the random draws).
    attempts: u16,
}

// Keys of the random draws.
const DRAW_SPEED: u64 = 1;
const DRAW_STEP: u64 = 2;
const DRAW_ONLINE: u64 = 3;
const DRAW_ROLLBACK: u64 = 4;
const DRAW_PREPARE: u64 = 5;
const NO_ROBOT: u32 = u32::MAX;

/// A rollout run against a modelled fleet on a virtual clock starting at the epoch.
///
/// ```
/// use robodeploy_core::model::{DeploymentConfig, JobStatus};
/// use robodeploy_core::sim::{FleetModel, SimOptions, Simulation};
///
/// let config = DeploymentConfig {
///     concurrent_deployment_percentage: 10,
///     failure_threshold_percentage: 5,
///     ..DeploymentConfig::default()
/// };
/// let model = FleetModel::default();
/// let sim = Simulation::new(&config, 200, None, model, SimOptions { seed: 1, ..SimOptions::default() }).unwrap();
/// let out = sim.run();
/// assert_eq!(out.report.status, JobStatus::Succeeded);
/// assert_eq!(out.report.counts.in_sync, 200);
/// assert!(out.stats.makespan_ms <= out.stats.graham_bound_ms());
/// ```
#[derive(Debug)]
pub struct Simulation {
    rollout: Rollout,
    model: FleetModel,
    /// The robot steps the job has.
    plan: PipelinePlan,
    options: SimOptions,
    robots: Vec<SimRobot>,
    /// When each robot's current attempt started, while it holds a slot in the simulated
    /// fleet's view.
    started: Vec<Option<Time>>,
    queue: EventQueue,
    clock: i64,
    timeline: Vec<TimelineEntry>,
    stats: SimStats,
    resume_scheduled: Option<u32>,
}

impl Simulation {
    /// A simulation of `config` over a generated fleet of `robots` robots running
    /// `previous_version` (what a rollback returns to); each is initially offline with the
    /// model's probability.
    ///
    /// # Errors
    /// [`SimError`] when the config or the model breaks a rule.
    pub fn new(
        config: &DeploymentConfig,
        robots: u32,
        previous_version: Option<&Version>,
        model: FleetModel,
        options: SimOptions,
    ) -> Result<Simulation, SimError> {
        model.validate()?;
        let seed = options.seed;
        let p = model.initially_offline_probability;
        let online =
            (0..robots).map(|r| !SplitMix64::keyed(seed, [u64::from(r), 0, DRAW_ONLINE]).chance(p));
        Simulation::build_with(
            config,
            online,
            std::iter::repeat(previous_version),
            (model, PipelinePlan::ALL),
            options,
        )
    }

    /// A dry run of `job` against a real `fleet` as it is now: its robots' online flags and
    /// installed versions, with durations and failure rates from `model`.
    ///
    /// # Errors
    /// [`SimError`] when the job's config or the model breaks a rule.
    pub fn for_fleet(
        job: &DeploymentJobRequest,
        fleet: &Fleet,
        model: FleetModel,
        options: SimOptions,
    ) -> Result<Simulation, SimError> {
        model.validate()?;
        let online = fleet.robots.iter().map(|d| d.online);
        let previous = fleet
            .robots
            .iter()
            .map(|d| d.installed.get(&job.application));
        let plan = PipelinePlan::of(job);
        Simulation::build_with(
            &job.deployment_config,
            online,
            previous,
            (model, plan),
            options,
        )
    }

    fn build_with<'a>(
        config: &DeploymentConfig,
        online: impl Iterator<Item = bool>,
        previous: impl Iterator<Item = Option<&'a Version>>,
        (model, plan): (FleetModel, PipelinePlan),
        options: SimOptions,
    ) -> Result<Simulation, SimError> {
        let online: Vec<bool> = online.collect();
        let inits = online
            .iter()
            .zip(previous)
            .map(|(&online, previous_version)| RobotInit {
                online,
                previous_version,
            });
        let rollout = Rollout::new(config, inits, Time::EPOCH)?;
        let mut sim = Simulation {
            robots: vec![
                SimRobot {
                    pipeline: Pipeline::new(plan),
                    token: 0,
                    attempts: 0,
                };
                online.len()
            ],
            started: vec![None; online.len()],
            stats: SimStats {
                slots: rollout.in_flight_limit(),
                ..SimStats::default()
            },
            rollout,
            model,
            plan,
            options,
            queue: EventQueue::new(),
            clock: 0,
            timeline: Vec::new(),
            resume_scheduled: None,
        };
        for (r, _) in online.iter().enumerate().filter(|(_, on)| !**on) {
            sim.schedule_online(r as u32, 0);
        }
        if let Some(after) = sim.options.cancel_after {
            let at = u64::try_from(after.as_millis()).unwrap_or(u64::MAX);
            sim.schedule(at, NO_ROBOT, Kind::Cancel, 0);
        }
        sim.feed(Input::Start);
        sim.drain();
        Ok(sim)
    }

    /// The rollout being driven (for inspection between steps).
    pub fn rollout(&self) -> &Rollout {
        &self.rollout
    }

    /// The virtual clock.
    pub fn now(&self) -> Time {
        Time::from_millis(self.clock)
    }

    /// The timeline so far.
    pub fn timeline(&self) -> &[TimelineEntry] {
        &self.timeline
    }

    /// Processes the next instant's next event (a modelled robot's report or a rollout timer).
    /// False when the job ended, or nothing more can happen (it waits for a resume nobody
    /// gives).
    pub fn step(&mut self) -> bool {
        if self.rollout.status().is_terminal() {
            return false;
        }
        let sim_next = self.queue.peek_time().map(|t| t as i64);
        let timer_next = self.rollout.poll_timeout().map(Time::as_millis);
        let fire_timer = match (timer_next, sim_next) {
            (None, None) => return false,
            (Some(t), Some(s)) => t <= s,
            (t, _) => t.is_some(),
        };
        self.stats.events += 1;
        if fire_timer {
            self.clock = self.clock.max(timer_next.unwrap_or(self.clock));
            self.feed(Input::Timeout);
        } else if let Some(entry) = self.queue.pop() {
            self.clock = self.clock.max(entry.at as i64);
            self.apply(entry);
        }
        self.drain();
        true
    }

    /// Runs to the end and reports.
    pub fn run(mut self) -> SimReport {
        while self.step() {}
        self.finish()
    }

    /// The report as of now.
    pub fn finish(self) -> SimReport {
        let report = self.rollout.report();
        let mut stats = self.stats;
        stats.finished = report.status.is_terminal();
        if let (Some(start), Some(end)) = (report.started_at, report.ended_at) {
            stats.makespan_ms = end.since(start).as_millis() as u64;
        }
        SimReport {
            seed: self.options.seed,
            report,
            stats,
            timeline: self.timeline,
        }
    }

    /// Heap bytes held by the simulator and its rollout (their own accounting).
    pub fn heap_bytes(&self) -> usize {
        self.rollout.heap_bytes()
            + self.robots.capacity() * std::mem::size_of::<SimRobot>()
            + self.started.capacity() * std::mem::size_of::<Option<Time>>()
            + self.queue.heap_bytes()
            + self.timeline.capacity() * std::mem::size_of::<TimelineEntry>()
    }

    /// Records `what` on the timeline if its detail keeps it; with the timeline off (the big
    /// runs) this is one test, inlined, and `what` is never built.
    #[inline(always)]
    fn record(&mut self, what: Happening) {
        if self.options.timeline != TimelineDetail::Off {
            self.record_on(what);
        }
    }

    #[inline(never)]
    fn record_on(&mut self, what: Happening) {
        let keep = match self.options.timeline {
            TimelineDetail::Off => false,
            TimelineDetail::Job => what.is_job_level(),
            TimelineDetail::Full => true,
        };
        if keep {
            self.timeline.push(TimelineEntry {
                at: Time::from_millis(self.clock),
                what,
            });
        }
    }

    fn schedule(&mut self, at: u64, robot: u32, kind: Kind, step: u8) {
        let token = self.robots.get(robot as usize).map_or(0, |r| r.token);
        self.queue.push(Entry {
            at,
            robot,
            token,
            kind,
            step,
        });
    }

    fn schedule_online(&mut self, r: u32, from: u64) {
        let attempts = u64::from(self.robots[r as usize].attempts);
        let mut rng = SplitMix64::keyed(
            self.options.seed,
            [u64::from(r), attempts, DRAW_ONLINE << 8],
        );
        let back = from + self.model.offline_duration.sample(&mut rng);
        self.schedule(back, r, Kind::CameOnline, 0);
    }

    /// Draws `step`, the step robot `r`'s pipeline is at, starting now, and schedules its end.
    /// A step is modelled as one span: the stages that share it with the stage after them (the
    /// content lock before the download condition, creating the deployment before it runs)
    /// complete at once ([`Pipeline::handle_span`]), and the modelled failure falls on the last
    /// stage of the step.
    fn schedule_step(&mut self, r: u32, step: ProgressStep) {
        let seed = self.options.seed;
        let step = step as u8;
        let robot = self.robots[r as usize];
        // A fixed speed draws nothing: skip keying a generator for it.
        let speed = match self.model.speed_percent {
            Dist::Fixed { ms } => ms,
            dist => dist.sample(&mut SplitMix64::keyed(seed, [u64::from(r), 0, DRAW_SPEED])),
        };
        let mut rng = SplitMix64::keyed(
            seed,
            [
                u64::from(r),
                u64::from(robot.attempts),
                DRAW_STEP << 8 | u64::from(step),
            ],
        );
        let model = self.model.steps[step as usize];
        let duration = model.duration.sample(&mut rng) * speed / 100;
        let now = self.clock as u64;
        if rng.chance(self.model.offline_probability) {
            let at = now + rng.below(duration + 1);
            self.schedule(at, r, Kind::WentOffline, step);
        } else if rng.chance(self.model.hang_probability) {
            // Silent: nothing is scheduled, the rollout's robot timeout will fire.
        } else if rng.chance(model.failure_probability) {
            self.schedule(now + duration, r, Kind::StepFailed, step);
        } else {
            self.schedule(now + duration, r, Kind::StepDone, step);
        }
    }

    fn end_attempt(&mut self, r: u32) {
        let robot = &mut self.robots[r as usize];
        robot.token = robot.token.wrapping_add(1);
        if let Some(started) = self.started[r as usize].take() {
            let took = (self.clock - started.as_millis()).max(0) as u64;
            self.stats.busy_ms += took;
            self.stats.longest_attempt_ms = self.stats.longest_attempt_ms.max(took);
        }
    }

    /// Feeds the rollout one input at the virtual clock's time: the one way the simulator
    /// drives it, as the engine's journal does. The rollout accepts every index the simulator
    /// built it with, so robot inputs cannot fail; `let _` keeps the run going should that ever
    /// change.
    #[inline(always)]
    fn feed(&mut self, input: Input) {
        let _ = self.rollout.handle(input, Time::from_millis(self.clock));
    }

    fn apply(&mut self, e: Entry) {
        let robot = RobotIndex(e.robot);
        // The rollout's state of the robot is loaded at once, beside the simulator's (the token
        // below): two misses in parallel rather than one after the other.
        self.rollout.touch_robot(robot);
        let live = self
            .robots
            .get(e.robot as usize)
            .is_some_and(|r| r.token == e.token);
        match e.kind {
            Kind::Prepared => {
                self.record(Happening::Prepared);
                self.feed(Input::Prepared);
            }
            Kind::Resume => {
                self.record(Happening::Resumed);
                self.feed(Input::Resume);
            }
            Kind::Cancel => {
                self.record(Happening::Canceled);
                self.feed(Input::Cancel);
            }
            _ if !live => {}
            Kind::StepDone | Kind::StepFailed => {
                let outcome = if e.kind == Kind::StepDone {
                    StepOutcome::Done
                } else {
                    StepOutcome::Failed
                };
                let Ok(report) = self.robots[e.robot as usize].pipeline.handle_span(outcome) else {
                    return;
                };
                // The rollout hears the report before the next step is drawn: its robot's state
                // is then loaded a few instructions after the simulator's, and the two cache
                // misses overlap (drawing the step between them kept them apart).
                match report {
                    PipelineReport::Progress { step, .. } => {
                        self.record(Happening::RobotStep { robot, step });
                        self.feed(report.input(robot));
                        self.schedule_step(e.robot, step);
                    }
                    PipelineReport::Succeeded => {
                        self.end_attempt(e.robot);
                        self.record(Happening::RobotSucceeded { robot });
                        self.feed(report.input(robot));
                    }
                    PipelineReport::Failed { code } => {
                        self.end_attempt(e.robot);
                        self.record(Happening::RobotFailed { robot, code });
                        self.feed(report.input(robot));
                    }
                }
            }
            Kind::WentOffline => {
                self.end_attempt(e.robot);
                self.record(Happening::RobotOffline { robot });
                self.feed(Input::RobotOffline { robot });
                self.schedule_online(e.robot, self.clock as u64);
            }
            Kind::CameOnline => {
                self.record(Happening::RobotOnline { robot });
                self.feed(Input::RobotOnline { robot });
            }
            Kind::RollbackDone => {
                self.end_rollback(e.robot);
                self.record(Happening::RollbackSucceeded { robot });
                self.feed(Input::RobotSucceeded { robot });
            }
            Kind::RollbackFailed => {
                let code = self.model.rollback.failure_code;
                self.end_rollback(e.robot);
                self.record(Happening::RollbackFailed { robot, code });
                self.feed(Input::RobotFailed { robot, code });
            }
        }
    }

    fn end_rollback(&mut self, r: u32) {
        let robot = &mut self.robots[r as usize];
        robot.token = robot.token.wrapping_add(1);
    }

    /// Executes the rollout's commands on the modelled fleet and records its events.
    fn drain(&mut self) {
        while let Some(command) = self.rollout.poll_command() {
            self.record(Happening::Command(command));
            match command {
                Command::Prepare => {
                    let mut rng = SplitMix64::keyed(self.options.seed, [0, 0, DRAW_PREPARE]);
                    let at = self.clock as u64 + self.model.prepare.sample(&mut rng);
                    self.schedule(at, NO_ROBOT, Kind::Prepared, 0);
                }
                Command::DeployRobot { robot } => {
                    self.end_attempt(robot.0);
                    let r = &mut self.robots[robot.get()];
                    r.attempts = r.attempts.saturating_add(1);
                    self.started[robot.get()] = Some(Time::from_millis(self.clock));
                    r.pipeline = Pipeline::new(self.plan);
                    let step = r.pipeline.step();
                    self.schedule_step(robot.0, step);
                }
                Command::AbortRobot { robot } => self.end_attempt(robot.0),
                Command::RollbackRobot { robot } => {
                    self.end_attempt(robot.0);
                    let r = robot.0;
                    let mut rng = SplitMix64::keyed(
                        self.options.seed,
                        [
                            u64::from(r),
                            u64::from(self.robots[r as usize].attempts),
                            DRAW_ROLLBACK,
                        ],
                    );
                    let at = self.clock as u64 + self.model.rollback.duration.sample(&mut rng);
                    let kind = if rng.chance(self.model.rollback.failure_probability) {
                        Kind::RollbackFailed
                    } else {
                        Kind::RollbackDone
                    };
                    self.schedule(at, r, kind, 0);
                }
            }
        }
        while let Some(event) = self.rollout.poll_event() {
            self.record(Happening::Rollout(event));
        }
        let wave = self.rollout.current_wave();
        let waiting = self.rollout.phase() == RolloutPhase::BetweenWaves
            && self.rollout.waves()[wave as usize].plan.manual_resume;
        if let (true, Some(after)) = (waiting, self.options.resume_after)
            && self.resume_scheduled != Some(wave)
        {
            self.resume_scheduled = Some(wave);
            let at = self.clock as u64 + u64::try_from(after.as_millis()).unwrap_or(u64::MAX);
            self.schedule(at, NO_ROBOT, Kind::Resume, 0);
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_simulated_robot_is_sixteen_bytes() {
        // The simulator's memory per robot (BENCHMARKS.md) rests on this: 8 bytes read at each
        // event, 8 at an attempt's start and end.
        assert_eq!(std::mem::size_of::<super::SimRobot>(), 8);
        assert_eq!(std::mem::size_of::<Option<crate::time::Time>>(), 8);
    }
}
