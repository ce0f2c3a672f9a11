//! Job, robot and progress statuses and failure codes of deployment jobs, as RoboMaker names them.

use std::fmt;

use serde::{Deserialize, Serialize};

/// The status of a deployment job.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[non_exhaustive]
pub enum JobStatus {
    /// Created, not started.
    Pending,
    /// Checking the fleet and the application before the first robot.
    Preparing,
    /// Robots are being deployed.
    InProgress,
    /// Ended with a failure (threshold breached, or the job itself failed).
    Failed,
    /// Ended with every robot's outcome below the failure threshold.
    Succeeded,
    /// Canceled by a user.
    Canceled,
}

impl JobStatus {
    /// Whether the job has ended.
    pub fn is_terminal(self) -> bool {
        matches!(
            self,
            JobStatus::Failed | JobStatus::Succeeded | JobStatus::Canceled
        )
    }
}

/// The status of one robot in a job.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[non_exhaustive]
pub enum RobotStatus {
    /// Known and free.
    Available,
    /// Registered with the fleet.
    Registered,
    /// Waiting for its turn in the job.
    PendingNewDeployment,
    /// Being deployed.
    Deploying,
    /// Its deployment failed.
    Failed,
    /// Running the job's version.
    InSync,
    /// Did not answer in time.
    NoResponse,
}

impl RobotStatus {
    /// Whether the robot's part of the job has ended.
    pub fn is_terminal(self) -> bool {
        matches!(
            self,
            RobotStatus::Failed | RobotStatus::InSync | RobotStatus::NoResponse
        )
    }
}

/// The step a robot's deployment is at, in order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[non_exhaustive]
pub enum ProgressStep {
    /// Checking the robot against the job.
    Validating,
    /// Running the download condition script.
    ExecutingDownloadCondition,
    /// Fetching and unpacking the application.
    DownloadingExtracting,
    /// Running the pre-launch script.
    ExecutingPreLaunch,
    /// Starting the application.
    Launching,
    /// Running the post-launch script.
    ExecutingPostLaunch,
    /// Done.
    Finished,
}

impl ProgressStep {
    /// Every step in order.
    pub const ALL: [ProgressStep; 7] = [
        ProgressStep::Validating,
        ProgressStep::ExecutingDownloadCondition,
        ProgressStep::DownloadingExtracting,
        ProgressStep::ExecutingPreLaunch,
        ProgressStep::Launching,
        ProgressStep::ExecutingPostLaunch,
        ProgressStep::Finished,
    ];

    /// Position in [`ProgressStep::ALL`].
    pub fn index(self) -> usize {
        self as usize
    }

    /// The step after this one, none after Finished.
    pub fn next(self) -> Option<ProgressStep> {
        ProgressStep::ALL.get(self.index() + 1).copied()
    }
}

impl fmt::Display for ProgressStep {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self, f)
    }
}

/// Why a robot (or a whole job) failed. RoboMaker's names where one fits; robodeploy's own
/// otherwise (marked below).
///
/// | code | when |
/// |---|---|
/// | FailureThresholdBreached | the job's failed share reached its threshold (job) |
/// | DownloadConditionFailed | the download condition script exited non-zero |
/// | EtagMismatch | the download condition file's digest is not the locked one |
/// | PreLaunchFileFailure | the pre-launch script exited non-zero |
/// | PostLaunchFileFailure | the post-launch script exited non-zero |
/// | RobotDeploymentAborted | the job was canceled while the robot was in flight |
/// | RobotDeploymentNoResponse | the robot stayed offline past its deadline |
/// | RobotDeploymentTimeout | (robodeploy) the robot did not finish within the robot timeout |
/// | FleetDeploymentTimeout | the whole job ran out of time |
/// | MissingRobotArchitecture | the robot's architecture does not match the application's |
/// | EnvironmentSetupError | the robot's runtime could not set up the application |
/// | ExtractingBundleFailure | the application could not be fetched or unpacked |
/// | LaunchFailure | (robodeploy) the application's executables did not reach Running |
/// | InternalServerError | robodeploy itself failed |
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[non_exhaustive]
pub enum FailureCode {
    /// The job's failed share reached its threshold.
    FailureThresholdBreached,
    /// The download condition script exited non-zero.
    DownloadConditionFailed,
    /// The download condition file's digest is not the locked one.
    EtagMismatch,
    /// The pre-launch script exited non-zero.
    PreLaunchFileFailure,
    /// The post-launch script exited non-zero.
    PostLaunchFileFailure,
    /// The job was canceled while the robot was in flight.
    RobotDeploymentAborted,
    /// The robot stayed offline past its deadline.
    RobotDeploymentNoResponse,
    /// robodeploy: the robot did not finish within the robot deployment timeout.
    RobotDeploymentTimeout,
    /// The whole job ran out of time.
    FleetDeploymentTimeout,
    /// The robot's architecture does not match the application's.
    MissingRobotArchitecture,
    /// The robot's runtime could not set up the application.
    EnvironmentSetupError,
    /// The application could not be fetched or unpacked.
    ExtractingBundleFailure,
    /// robodeploy: the application's executables did not reach Running.
    LaunchFailure,
    /// robodeploy itself failed.
    InternalServerError,
}

impl fmt::Display for FailureCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self, f)
    }
}
