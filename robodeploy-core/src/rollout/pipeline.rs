//! One robot's deployment attempt as a pure machine: the steps a robot goes through after the
//! rollout's [`DeployRobot`](super::Command::DeployRobot), which of them a job has, and the
//! failure code each step gives.
//!
//! A [`Pipeline`] asks its driver for one [`PipelineCommand`] at a time
//! ([`Pipeline::command`]); the driver carries it out and reports a [`StepOutcome`] through
//! [`Pipeline::handle`], which answers with what the rollout must hear
//! ([`PipelineReport`], turned into an [`Input`] by [`PipelineReport::input`]). The engine
//! carries the commands out on the robot's runtime; the simulator draws their durations and
//! fates from its fleet model. Both use this machine, so a dry run fails a robot at the same
//! step, with the same code, as a real run.
//!
//! | stage | command | progress step | `Failed` gives |
//! |---|---|---|---|
//! | validate | `Validate` | Validating | MissingRobotArchitecture |
//! | content lock (download condition with a digest) | `CheckContentLock` | ExecutingDownloadCondition | DownloadConditionFailed (file unreadable); `LockMismatch` gives EtagMismatch |
//! | download condition | `RunScript { DownloadCondition }` | ExecutingDownloadCondition | DownloadConditionFailed |
//! | download | `Download` | DownloadingExtracting | ExtractingBundleFailure |
//! | pre-launch | `RunScript { PreLaunch }` | ExecutingPreLaunch | PreLaunchFileFailure |
//! | deploy | `Deploy` | Launching | EnvironmentSetupError (the deployment could not be created) |
//! | wait running | `WaitRunning` | Launching | LaunchFailure |
//! | post-launch | `RunScript { PostLaunch }` | ExecutingPostLaunch | PostLaunchFileFailure |
//!
//! Stages the job does not have (no download condition, no digest, no pre- or post-launch
//! script: [`PipelinePlan`]) are skipped. `NoRuntime` at any stage gives EnvironmentSetupError
//! (the robot has no runtime to carry the command out). Steps only move forward; after a
//! failure or the last stage the pipeline has ended and takes no more outcomes.
//!
//! ```
//! use robodeploy_core::model::{FailureCode, ProgressStep};
//! use robodeploy_core::rollout::{
//!     Pipeline, PipelineCommand, PipelinePlan, PipelineReport, ScriptKind, StepOutcome,
//! };
//!
//! let plan = PipelinePlan { pre_launch: true, ..PipelinePlan::default() };
//! let mut p = Pipeline::new(plan);
//! assert_eq!(p.command(), Some(PipelineCommand::Validate));
//! assert_eq!(
//!     p.handle(StepOutcome::Done),
//!     Ok(PipelineReport::Progress { step: ProgressStep::DownloadingExtracting, percent_done: 0 })
//! );
//! p.handle(StepOutcome::Done).unwrap();
//! assert_eq!(p.command(), Some(PipelineCommand::RunScript { kind: ScriptKind::PreLaunch }));
//! assert_eq!(
//!     p.handle(StepOutcome::Failed),
//!     Ok(PipelineReport::Failed { code: FailureCode::PreLaunchFileFailure })
//! );
//! assert_eq!(p.command(), None);
//! ```

use serde::{Deserialize, Serialize};
use thiserror::Error;

use super::{Input, RobotIndex};
use crate::model::{DeploymentJobRequest, FailureCode, ProgressStep};

/// Which optional stages a job's robots go through; fixed for the job.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PipelinePlan {
    /// Run the download condition script.
    pub download_condition: bool,
    /// Check the download condition file against its content digest first.
    pub content_lock: bool,
    /// Run a pre-launch script.
    pub pre_launch: bool,
    /// Run a post-launch script.
    pub post_launch: bool,
}

impl PipelinePlan {
    /// Every stage: what the simulator assumes of a job it knows no launch config of.
    pub const ALL: PipelinePlan = PipelinePlan {
        download_condition: true,
        content_lock: true,
        pre_launch: true,
        post_launch: true,
    };

    /// The stages of `job`: its download condition (and digest) and its launch scripts.
    pub fn of(job: &DeploymentJobRequest) -> PipelinePlan {
        let dc = job.deployment_config.download_condition.as_ref();
        PipelinePlan {
            download_condition: dc.is_some(),
            content_lock: dc.is_some_and(|d| d.digest.is_some()),
            pre_launch: job.launch_config.pre_launch_file.is_some(),
            post_launch: job.launch_config.post_launch_file.is_some(),
        }
    }

    const fn has(&self, stage: Stage) -> bool {
        match stage {
            Stage::ContentLock => self.download_condition && self.content_lock,
            Stage::DownloadCondition => self.download_condition,
            Stage::PreLaunch => self.pre_launch,
            Stage::PostLaunch => self.post_launch,
            _ => true,
        }
    }

    /// The plan as four bits, so a [`Pipeline`] fits in two bytes.
    const fn bits(self) -> u8 {
        self.download_condition as u8
            | (self.content_lock as u8) << 1
            | (self.pre_launch as u8) << 2
            | (self.post_launch as u8) << 3
    }

    const fn from_bits(bits: u8) -> PipelinePlan {
        PipelinePlan {
            download_condition: bits & 1 != 0,
            content_lock: bits & 1 << 1 != 0,
            pre_launch: bits & 1 << 2 != 0,
            post_launch: bits & 1 << 3 != 0,
        }
    }
}

/// A script a pipeline runs on the robot.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub enum ScriptKind {
    /// The download condition: non-zero means "not now" and fails the robot.
    DownloadCondition,
    /// The pre-launch script.
    PreLaunch,
    /// The post-launch script.
    PostLaunch,
}

/// What the driver must do next for the robot.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "command", rename_all = "camelCase")]
#[non_exhaustive]
pub enum PipelineCommand {
    /// Check the robot fits the application (architecture, runtime).
    Validate,
    /// Check the download condition file's content digest against the job's lock.
    CheckContentLock,
    /// Run a script on the robot.
    RunScript {
        /// Which.
        kind: ScriptKind,
    },
    /// Download and extract (prepare) the application's executables on the robot.
    Download,
    /// Create the robot's deployment of the application.
    Deploy,
    /// Wait until that deployment runs.
    WaitRunning,
}

/// How a [`PipelineCommand`] went.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "outcome", rename_all = "camelCase")]
#[non_exhaustive]
pub enum StepOutcome {
    /// It completed.
    Done,
    /// Part of it is done (0..=100, clamped).
    Progress {
        /// Percent done.
        percent_done: u8,
    },
    /// It failed the way its stage fails (see the table in the module docs).
    Failed,
    /// The robot has no runtime to carry it out: EnvironmentSetupError.
    NoRuntime,
    /// `CheckContentLock` only: the file's digest differs from the lock: EtagMismatch.
    LockMismatch,
}

/// What the rollout must hear after an outcome.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "report", rename_all = "camelCase")]
#[non_exhaustive]
pub enum PipelineReport {
    /// The robot is at `step`, `percent_done` through it.
    Progress {
        /// The step.
        step: ProgressStep,
        /// Percent done.
        percent_done: u8,
    },
    /// Every stage completed: the robot is in sync.
    Succeeded,
    /// A stage failed with `code`.
    Failed {
        /// Why.
        code: FailureCode,
    },
}

impl PipelineReport {
    /// The rollout input that says this of `robot`.
    #[inline]
    pub fn input(self, robot: RobotIndex) -> Input {
        match self {
            PipelineReport::Progress { step, percent_done } => Input::RobotProgress {
                robot,
                step,
                percent_done,
            },
            PipelineReport::Succeeded => Input::RobotSucceeded { robot },
            PipelineReport::Failed { code } => Input::RobotFailed { robot, code },
        }
    }
}

/// An outcome the pipeline cannot take.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum PipelineError {
    /// The pipeline has ended (succeeded or failed); nothing is being carried out.
    #[error("the robot's pipeline has ended; outcome {outcome:?} has no command to answer")]
    Ended {
        /// The outcome given.
        outcome: StepOutcome,
    },
    /// The outcome does not answer the current command (`LockMismatch` outside the lock check).
    #[error("outcome {outcome:?} does not answer command {command:?}")]
    NotApplicable {
        /// The outcome given.
        outcome: StepOutcome,
        /// The command being carried out.
        command: PipelineCommand,
    },
}

/// The stages in order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[repr(u8)]
enum Stage {
    Validate,
    ContentLock,
    DownloadCondition,
    Download,
    PreLaunch,
    Deploy,
    WaitRunning,
    PostLaunch,
    Succeeded,
}

impl Stage {
    const WORKING: [Stage; 8] = [
        Stage::Validate,
        Stage::ContentLock,
        Stage::DownloadCondition,
        Stage::Download,
        Stage::PreLaunch,
        Stage::Deploy,
        Stage::WaitRunning,
        Stage::PostLaunch,
    ];

    fn command(self) -> Option<PipelineCommand> {
        Some(match self {
            Stage::Validate => PipelineCommand::Validate,
            Stage::ContentLock => PipelineCommand::CheckContentLock,
            Stage::DownloadCondition => PipelineCommand::RunScript {
                kind: ScriptKind::DownloadCondition,
            },
            Stage::Download => PipelineCommand::Download,
            Stage::PreLaunch => PipelineCommand::RunScript {
                kind: ScriptKind::PreLaunch,
            },
            Stage::Deploy => PipelineCommand::Deploy,
            Stage::WaitRunning => PipelineCommand::WaitRunning,
            Stage::PostLaunch => PipelineCommand::RunScript {
                kind: ScriptKind::PostLaunch,
            },
            Stage::Succeeded => return None,
        })
    }

    /// The progress step of each stage, by stage: read by a load, not a `match`, which
    /// compiles to a jump whose target changes with every robot's stage and is mispredicted
    /// (in a 10,000-robot simulation, most of the mispredicted indirect jumps were that one).
    const STEPS: [ProgressStep; 9] = [
        ProgressStep::Validating,
        ProgressStep::ExecutingDownloadCondition,
        ProgressStep::ExecutingDownloadCondition,
        ProgressStep::DownloadingExtracting,
        ProgressStep::ExecutingPreLaunch,
        ProgressStep::Launching,
        ProgressStep::Launching,
        ProgressStep::ExecutingPostLaunch,
        ProgressStep::Finished,
    ];

    #[inline(always)]
    fn step(self) -> ProgressStep {
        Self::STEPS[self as usize]
    }

    /// The code a `Failed` outcome gives at this stage.
    fn failure(self) -> FailureCode {
        match self {
            Stage::Validate => FailureCode::MissingRobotArchitecture,
            Stage::ContentLock | Stage::DownloadCondition => FailureCode::DownloadConditionFailed,
            Stage::Download => FailureCode::ExtractingBundleFailure,
            Stage::PreLaunch => FailureCode::PreLaunchFileFailure,
            Stage::Deploy => FailureCode::EnvironmentSetupError,
            Stage::WaitRunning => FailureCode::LaunchFailure,
            Stage::PostLaunch => FailureCode::PostLaunchFileFailure,
            Stage::Succeeded => FailureCode::InternalServerError,
        }
    }
}

/// The stage after each stage under each plan ([`PipelinePlan::bits`]): the first working
/// stage after it that the plan has, or `Succeeded`. One load from a table built at compile
/// time, since every outcome asks it.
const NEXT_STAGE: [[Stage; 16]; 9] = {
    let mut table = [[Stage::Succeeded; 16]; 9];
    let mut from = 0;
    while from < 9 {
        let mut bits = 0;
        while bits < 16 {
            let plan = PipelinePlan::from_bits(bits as u8);
            let mut i = 0;
            while i < Stage::WORKING.len() {
                let stage = Stage::WORKING[i];
                if stage as usize > from && plan.has(stage) {
                    table[from][bits] = stage;
                    break;
                }
                i += 1;
            }
            bits += 1;
        }
        from += 1;
    }
    table
};

/// [`NEXT_STAGE`], then past the stages that share their progress step with the stage after
/// them (the content lock before the download condition, creating the deployment before
/// waiting for it to run): the simulator models a step as one span
/// ([`Pipeline::handle_span`]).
const NEXT_SPAN: [[Stage; 16]; 9] = {
    let mut table = NEXT_STAGE;
    let mut from = 0;
    while from < 9 {
        let mut bits = 0;
        while bits < 16 {
            let mut next = table[from][bits];
            while matches!(next, Stage::ContentLock | Stage::Deploy) {
                next = NEXT_STAGE[next as usize][bits];
            }
            table[from][bits] = next;
            bits += 1;
        }
        from += 1;
    }
    table
};

/// One robot's deployment attempt (see the module docs). Two bytes and `Copy`: the simulator
/// keeps one per robot.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Pipeline {
    /// The plan's four bits ([`PipelinePlan::bits`]) and [`FAILED`](Self::FAILED).
    flags: u8,
    /// The stage being carried out; once failed, the stage it failed at.
    stage: Stage,
}

impl std::fmt::Debug for Pipeline {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pipeline")
            .field("plan", &self.plan())
            .field("stage", &self.stage)
            .field("failed", &self.failed())
            .finish()
    }
}

impl Pipeline {
    /// The flag bit set once the attempt failed.
    const FAILED: u8 = 1 << 7;

    /// A new attempt under `plan`, at its first stage (Validating).
    pub fn new(plan: PipelinePlan) -> Pipeline {
        Pipeline {
            flags: plan.bits(),
            stage: Stage::Validate,
        }
    }

    /// An attempt whose deployment already exists (a restarted engine found it): waiting for it
    /// to run, then its post-launch stage.
    pub fn launched(plan: PipelinePlan) -> Pipeline {
        Pipeline {
            flags: plan.bits(),
            stage: Stage::WaitRunning,
        }
    }

    /// The stages this attempt goes through.
    pub fn plan(&self) -> PipelinePlan {
        PipelinePlan::from_bits(self.flags)
    }

    fn failed(&self) -> bool {
        self.flags & Self::FAILED != 0
    }

    /// The command to carry out now; none once the pipeline has ended.
    #[inline]
    pub fn command(&self) -> Option<PipelineCommand> {
        if self.failed() {
            None
        } else {
            self.stage.command()
        }
    }

    /// The progress step the robot is at: Finished once it succeeded; the step it failed at
    /// once it failed.
    #[inline]
    pub fn step(&self) -> ProgressStep {
        self.stage.step()
    }

    /// Whether the pipeline has ended (succeeded or failed).
    pub fn is_ended(&self) -> bool {
        self.failed() || self.stage == Stage::Succeeded
    }

    /// Takes the outcome of the current command and says what the rollout must hear.
    ///
    /// # Errors
    /// [`PipelineError`] when the pipeline has ended or the outcome does not answer the current
    /// command; the pipeline is unchanged.
    #[inline]
    pub fn handle(&mut self, outcome: StepOutcome) -> Result<PipelineReport, PipelineError> {
        self.handle_with(outcome, &NEXT_STAGE)
    }

    /// As [`handle`](Self::handle), and then as `handle(StepOutcome::Done)` for each stage that
    /// shares its progress step with the stage after it (the content lock, creating the
    /// deployment): the simulator models a step as one span. The report is the same (the
    /// stages skipped have the step of the stage after them); the pipeline is left at the
    /// step's last stage, where the step's modelled failure falls. One table load where asking
    /// for the command and handling each skipped stage took a few dozen instructions.
    #[inline]
    pub(crate) fn handle_span(
        &mut self,
        outcome: StepOutcome,
    ) -> Result<PipelineReport, PipelineError> {
        self.handle_with(outcome, &NEXT_SPAN)
    }

    #[inline(always)]
    fn handle_with(
        &mut self,
        outcome: StepOutcome,
        next: &[[Stage; 16]; 9],
    ) -> Result<PipelineReport, PipelineError> {
        if self.is_ended() {
            return Err(PipelineError::Ended { outcome });
        }
        let code = match outcome {
            StepOutcome::Done => {
                self.stage = next[self.stage as usize][(self.flags & 0xF) as usize];
                return Ok(if self.stage == Stage::Succeeded {
                    PipelineReport::Succeeded
                } else {
                    PipelineReport::Progress {
                        step: self.stage.step(),
                        percent_done: 0,
                    }
                });
            }
            StepOutcome::Progress { percent_done } => {
                return Ok(PipelineReport::Progress {
                    step: self.stage.step(),
                    percent_done: percent_done.min(100),
                });
            }
            StepOutcome::Failed => self.stage.failure(),
            StepOutcome::NoRuntime => FailureCode::EnvironmentSetupError,
            StepOutcome::LockMismatch if self.stage == Stage::ContentLock => {
                FailureCode::EtagMismatch
            }
            StepOutcome::LockMismatch => {
                // Not ended, so the stage has a command.
                let command = self.stage.command().unwrap_or(PipelineCommand::Validate);
                return Err(PipelineError::NotApplicable { outcome, command });
            }
        };
        self.flags |= Pipeline::FAILED;
        Ok(PipelineReport::Failed { code })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run_to_end(plan: PipelinePlan) -> Vec<PipelineCommand> {
        let mut p = Pipeline::new(plan);
        let mut commands = Vec::new();
        while let Some(c) = p.command() {
            commands.push(c);
            p.handle(StepOutcome::Done).unwrap();
        }
        commands
    }

    #[test]
    fn a_pipeline_is_two_bytes_and_keeps_its_plan() {
        assert_eq!(std::mem::size_of::<Pipeline>(), 2);
        for bits in 0..16u8 {
            let plan = PipelinePlan::from_bits(bits);
            assert_eq!(plan.bits(), bits);
            assert_eq!(Pipeline::new(plan).plan(), plan);
            assert_eq!(Pipeline::launched(plan).plan(), plan);
        }
    }

    #[test]
    fn a_span_is_its_stages_handled_done() {
        use StepOutcome::*;
        for bits in 0..16u8 {
            let plan = PipelinePlan::from_bits(bits);
            for from in [Pipeline::new(plan), Pipeline::launched(plan)] {
                let mut p = from;
                loop {
                    for outcome in [Done, Failed, NoRuntime, LockMismatch] {
                        let mut slow = p;
                        let expected = slow.handle(outcome);
                        if expected.is_ok() {
                            while matches!(
                                slow.command(),
                                Some(PipelineCommand::CheckContentLock | PipelineCommand::Deploy)
                            ) {
                                slow.handle(Done).unwrap();
                            }
                        }
                        let mut fast = p;
                        assert_eq!(fast.handle_span(outcome), expected, "{plan:?} {p:?}");
                        assert_eq!(fast, slow, "{plan:?} from {p:?} on {outcome:?}");
                    }
                    if p.handle_span(Done).is_err() {
                        break;
                    }
                }
            }
        }
    }

    #[test]
    fn stages_the_job_does_not_have_are_skipped() {
        use PipelineCommand::*;
        assert_eq!(
            run_to_end(PipelinePlan::default()),
            vec![Validate, Download, Deploy, WaitRunning]
        );
        assert_eq!(
            run_to_end(PipelinePlan::ALL),
            vec![
                Validate,
                CheckContentLock,
                RunScript {
                    kind: ScriptKind::DownloadCondition
                },
                Download,
                RunScript {
                    kind: ScriptKind::PreLaunch
                },
                Deploy,
                WaitRunning,
                RunScript {
                    kind: ScriptKind::PostLaunch
                },
            ]
        );
        // A digest without a download condition locks nothing.
        let lock_only = PipelinePlan {
            content_lock: true,
            ..PipelinePlan::default()
        };
        assert_eq!(run_to_end(lock_only), run_to_end(PipelinePlan::default()));
    }

    #[test]
    fn each_stage_fails_with_its_code() {
        let expected = [
            FailureCode::MissingRobotArchitecture,
            FailureCode::DownloadConditionFailed,
            FailureCode::DownloadConditionFailed,
            FailureCode::ExtractingBundleFailure,
            FailureCode::PreLaunchFileFailure,
            FailureCode::EnvironmentSetupError,
            FailureCode::LaunchFailure,
            FailureCode::PostLaunchFileFailure,
        ];
        for (n, code) in expected.into_iter().enumerate() {
            let mut p = Pipeline::new(PipelinePlan::ALL);
            for _ in 0..n {
                p.handle(StepOutcome::Done).unwrap();
            }
            let step = p.step();
            assert_eq!(
                p.handle(StepOutcome::Failed),
                Ok(PipelineReport::Failed { code })
            );
            assert_eq!(p.step(), step, "a failed pipeline stays at its step");
            assert!(p.is_ended());
            assert_eq!(
                p.handle(StepOutcome::Done),
                Err(PipelineError::Ended {
                    outcome: StepOutcome::Done
                })
            );
        }
    }

    #[test]
    fn a_content_lock_mismatch_is_an_etag_mismatch_and_only_there() {
        let mut p = Pipeline::new(PipelinePlan::ALL);
        assert_eq!(
            p.handle(StepOutcome::LockMismatch),
            Err(PipelineError::NotApplicable {
                outcome: StepOutcome::LockMismatch,
                command: PipelineCommand::Validate
            })
        );
        p.handle(StepOutcome::Done).unwrap();
        assert_eq!(p.command(), Some(PipelineCommand::CheckContentLock));
        assert_eq!(
            p.handle(StepOutcome::LockMismatch),
            Ok(PipelineReport::Failed {
                code: FailureCode::EtagMismatch
            })
        );
        assert_eq!(p.step(), ProgressStep::ExecutingDownloadCondition);
    }

    #[test]
    fn no_runtime_is_an_environment_setup_error_and_progress_is_clamped() {
        let mut p = Pipeline::new(PipelinePlan::default());
        p.handle(StepOutcome::Done).unwrap();
        assert_eq!(
            p.handle(StepOutcome::Progress { percent_done: 250 }),
            Ok(PipelineReport::Progress {
                step: ProgressStep::DownloadingExtracting,
                percent_done: 100
            })
        );
        assert_eq!(
            p.handle(StepOutcome::NoRuntime),
            Ok(PipelineReport::Failed {
                code: FailureCode::EnvironmentSetupError
            })
        );
        let input = PipelineReport::Failed {
            code: FailureCode::EnvironmentSetupError,
        }
        .input(RobotIndex(4));
        assert_eq!(
            input,
            Input::RobotFailed {
                robot: RobotIndex(4),
                code: FailureCode::EnvironmentSetupError
            }
        );
    }
}
