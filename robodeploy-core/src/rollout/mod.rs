//! Fleet rollouts: the pure scheduler of one deployment job (AWS RoboMaker's deployment jobs,
//! plus waves, automatic rollback and offline-robot deferral).
//!
//! A [`Rollout`] is created from the job's [`DeploymentConfig`](crate::model::DeploymentConfig)
//! and the fleet as it is now (each robot's online flag and installed version). It performs no
//! I/O and reads no clock: the driver feeds each [`Input`] with the [`Time`](crate::time::Time)
//! it happened through [`Rollout::handle`], drains [`Command`]s with [`Rollout::poll_command`]
//! and [`RolloutEvent`]s with [`Rollout::poll_event`], and feeds [`Input::Timeout`] at
//! [`Rollout::poll_timeout`]. Robots are named by their [`RobotIndex`] in the fleet order given
//! at creation. The engine, its journal replay and the simulator all feed the machine this one
//! way, so a journal of `(Time, Input)` pairs replays into the same machine.
//!
//! What a robot does after its `DeployRobot` is a second pure machine, the robot
//! [`Pipeline`] (validate, content lock, download condition, download, pre-launch, launch,
//! post-launch, and the failure code each step gives); the engine carries its commands out on
//! the robot, the simulator draws them from its fleet model.
//!
//! ```
//! use robodeploy_core::model::{DeploymentConfig, JobStatus};
//! use robodeploy_core::rollout::{Command, Input, Rollout, RobotIndex, RobotInit};
//! use robodeploy_core::time::Time;
//!
//! let config = DeploymentConfig {
//!     concurrent_deployment_percentage: 10,
//!     failure_threshold_percentage: 5,
//!     ..DeploymentConfig::default()
//! };
//! let fleet = vec![RobotInit { online: true, previous_version: None }; 200];
//! let mut job = Rollout::new(&config, fleet, Time::EPOCH).unwrap();
//! job.handle(Input::Start, Time::EPOCH).unwrap();
//! assert_eq!(job.poll_command(), Some(Command::Prepare));
//! job.handle(Input::Prepared, Time::from_millis(10)).unwrap();
//! let mut started = Vec::new();
//! while let Some(Command::DeployRobot { robot }) = job.poll_command() {
//!     started.push(robot);
//! }
//! assert_eq!(started.len(), 20); // 200 robots at 10 % → 20 at once
//! let done = Input::RobotSucceeded { robot: RobotIndex(0) };
//! job.handle(done, Time::from_millis(60_000)).unwrap();
//! assert_eq!(job.poll_command(), Some(Command::DeployRobot { robot: RobotIndex(20) }));
//! assert_eq!(job.status(), JobStatus::InProgress);
//! // A robot the fleet does not have is refused, naming the index and the fleet's size.
//! let unknown = Input::RobotOffline { robot: RobotIndex(200) };
//! assert!(job.handle(unknown, Time::from_millis(60_001)).is_err());
//! ```
//!
//! # Numbers
//!
//! | number | rule |
//! |---|---|
//! | in-flight limit | concurrency % of the fleet, rounded **up**, at least 1 ([`percent_of`]): 200 at 10 % → 20; 3 at 10 % → 1 |
//! | fleet threshold | threshold % of the fleet, rounded up, at least 1: the job halts when this many robots have failed |
//! | wave threshold | threshold % of the wave's robots, rounded up, at least 1: a wave halts the job when this many of its robots failed (a failing 1-robot canary halts) |
//! | wave size | `Robots(n)` or `Percent(p)` of the fleet rounded up; waves are cut at the fleet's end; robots left after the last wave form a final wave |
//! | robot timeout | 1 min ..= 7 days (5 h by default), per attempt, from the `DeployRobot` command |
//! | offline deadline | `offlineDeadline`, by default the robot timeout, from the moment the robot was deferred |
//! | expiry | 90 days after creation by default ([`Rollout::with_retention`]); [`JobList`] drops expired jobs |
//!
//! # Job statuses
//!
//! | phase ([`RolloutPhase`]) | status | leaves when |
//! |---|---|---|
//! | Pending | Pending | `Input::Start` → Preparing, command `Prepare` |
//! | Preparing | Preparing | `Input::Prepared` → Deploying wave 0; `Input::PrepareFailed { code }` → Failed with `code` |
//! | Deploying | InProgress | the wave's robots all reached an outcome → BetweenWaves, or Succeeded after the last wave; a threshold breach or a cancel → Draining |
//! | BetweenWaves | InProgress | the wave's soak elapsed and, if it asks for one, `Input::Resume` came → Deploying the next wave |
//! | Draining | InProgress | nothing in flight → RollingBack (auto rollback, a robot to roll back) or Done |
//! | RollingBack | InProgress | every rollback reached an outcome → Done |
//! | Done | Succeeded, Failed or Canceled | never; the first halt reason decides: none → Succeeded, threshold or failed preparation → Failed, cancel → Canceled |
//!
//! # Robot statuses
//!
//! | where the robot is | [`RobotStatus`](crate::model::RobotStatus) | report outcome |
//! |---|---|---|
//! | not reached yet, deferred while offline, or back online and queued | PendingNewDeployment | Pending / Deploying |
//! | in flight (deploying or rolling back) | Deploying | Deploying |
//! | deployed | InSync | InSync |
//! | failed (its own failure, a timeout, an abort) | Failed | Failed { code } |
//! | offline past its deadline | NoResponse | Failed { RobotDeploymentNoResponse } |
//! | not deployed because the job halted, was canceled or failed to prepare | Available | NotDeployed { code } |
//! | rolled back to its previous version | Available | its deployment outcome, rollback RolledBack |
//! | rollback failed / offline past its deadline | Failed / NoResponse | its deployment outcome, rollback Failed { code } |
//!
//! # Failure codes
//!
//! | code | raised when |
//! |---|---|
//! | FailureThresholdBreached | the job's failure code when the fleet or wave threshold is reached; the code of robots not deployed because of it |
//! | MissingRobotArchitecture, DownloadConditionFailed, EtagMismatch, ExtractingBundleFailure, PreLaunchFileFailure, EnvironmentSetupError, LaunchFailure, PostLaunchFileFailure | given by the robot [`Pipeline`] at the step that failed (see its table), fed as `Input::RobotFailed` (the step it failed at is kept) |
//! | RobotDeploymentTimeout | the robot timeout passed before the robot succeeded (exactly at `start + timeout`; a success reported at that instant is too late); command `AbortRobot` |
//! | RobotDeploymentNoResponse | a deferred robot stayed offline past its offline deadline |
//! | RobotDeploymentAborted | the job was canceled: robots in flight (command `AbortRobot`) and robots not deployed |
//!
//! Deployment failures of every kind (timeouts, aborts and no-responses included) count toward
//! the threshold. Rollback failures do not.
//!
//! # Scheduling
//!
//! | rule | how |
//! |---|---|
//! | work-conserving | after every event, while a slot is free and the job is Deploying, a robot of the current wave that is eligible starts: robots back online first (in the order they came back), then robots not yet tried, in fleet order |
//! | in-flight limit | robots deploying (or rolling back) never exceed the limit |
//! | halting | the failure that reaches a threshold halts the job in the same call: nothing starts any more, every robot not in flight is NotDeployed, robots in flight finish; so failures overshoot the fleet threshold by at most limit − 1 (the seed's warning: a threshold below the concurrency can be exceeded by up to the concurrency) |
//! | offline robots | never hold a slot: a robot offline when its turn comes, or going offline in flight (the attempt is abandoned, no command), is deferred; when it is back it is queued and deployed again from Validating; it fails as RobotDeploymentNoResponse if it stays offline past its deadline; once the job halted, a robot that drops in flight is not retried (NotDeployed with the halt's code) |
//! | waves | never overlap: a wave completes when each of its robots reached an outcome (deferred robots included), then its soak runs and its manual resume is awaited before the next starts; each wave is gated on the fleet threshold and its own |
//! | cancel | no robot starts; robots in flight are aborted (RobotDeploymentAborted, command `AbortRobot`); ignored once Done or while rolling back |
//! | rollback (`autoRollback`) | after a threshold breach or a cancel, once nothing is in flight: robots InSync, and robots that failed once launching (Launching or ExecutingPostLaunch), get `RollbackRobot` under the same limit, robot timeout and offline rules; the reason is recorded ([`RollbackRecord`]) |
//!
//! # Timers and polling order
//!
//! Timers are a fixed table: the robot timeouts and the offline deadlines (two FIFO queues; see
//! `timer.rs` for why FIFO suffices) and the wave soak. Every input first clamps `now` to the
//! latest time seen (time never goes backwards), fires every timer due by `now` at its own
//! deadline (earliest first; at one instant a robot timeout before an offline deadline before
//! the soak), then applies itself, then fills slots and moves the job on. Times are
//! [`Time`](crate::time::Time)s; what has not happened yet (a robot's first start, its end, the
//! job's start and end, the soak) is `None`, never a sentinel instant.
//!
//! A driver, after every [`Rollout::handle`]: drains [`Rollout::poll_command`] and executes each
//! command in order; drains [`Rollout::poll_event`]; sleeps until [`Rollout::poll_timeout`] or
//! the next robot event, whichever comes first; feeds [`Input::Timeout`] when the timeout is
//! reached (early or spuriously is harmless).

mod command;
mod error;
mod handlers;
mod input;
mod machine;
mod pipeline;
mod plan;
mod registry;
mod report;
mod robot;
mod rollback;
mod scheduler;
mod timer;

pub use command::{Command, HaltReason, RolloutEvent};
pub use error::RolloutError;
pub use input::Input;
pub use machine::{
    RobotProgress, RollbackRecord, Rollout, RolloutCounts, RolloutPhase, WaveRecord, WaveState,
};
pub use pipeline::{
    Pipeline, PipelineCommand, PipelineError, PipelinePlan, PipelineReport, ScriptKind, StepOutcome,
};
pub use plan::{MAX_FLEET_SIZE, PlannedWave, percent_of};
pub use registry::JobList;
pub use report::{RobotOutcome, RobotReport, RollbackOutcome, RolloutReport};
pub use robot::{RobotIndex, RobotInit};
