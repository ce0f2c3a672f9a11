//! Strategies for the status types: phases, executable statuses and reasons, error codes, job
//! and robot statuses, progress steps, failure codes.

use proptest::option;
use proptest::prelude::*;

use super::any_text;
use crate::model::*;

/// Any deployment phase.
pub fn any_phase() -> impl Strategy<Value = Phase> {
    prop::sample::select(Phase::ALL.to_vec())
}

/// Any reason.
pub fn any_reason() -> impl Strategy<Value = Reason> {
    prop_oneof![
        Just(Reason::Preparing),
        Just(Reason::Starting),
        (any::<u32>(), any::<u64>())
            .prop_map(|(attempt, delay_ms)| Reason::BackingOff { attempt, delay_ms }),
        any_text().prop_map(|dependency| Reason::WaitingForDependency { dependency }),
        any::<i32>().prop_map(|exit_code| Reason::ExitedEarly { exit_code }),
        any::<i32>().prop_map(|exit_code| Reason::Failed { exit_code }),
        Just(Reason::Completed),
        any::<u32>().prop_map(|early_exits| Reason::CrashLoop { early_exits }),
        any_text().prop_map(|what| Reason::NotFound { what }),
        any_text().prop_map(|message| Reason::PullFailed { message }),
        any_text().prop_map(|message| Reason::Validation { message }),
        Just(Reason::DeviceOffline),
        Just(Reason::StoppedManually),
        any_text().prop_map(|dependency| Reason::DependencyInError { dependency }),
        any_text().prop_map(|message| Reason::Internal { message }),
    ]
}

/// Any executable status.
pub fn any_executable_status() -> impl Strategy<Value = ExecutableStatus> {
    prop_oneof![
        any_reason().prop_map(|reason| ExecutableStatus::Pending { reason }),
        Just(ExecutableStatus::Running),
        any_reason().prop_map(|reason| ExecutableStatus::Error { reason }),
        Just(ExecutableStatus::Unknown),
        Just(ExecutableStatus::Stopped),
    ]
}

/// Any aggregate status.
pub fn any_status_kind() -> impl Strategy<Value = StatusKind> {
    prop::sample::select(vec![
        StatusKind::Running,
        StatusKind::Pending,
        StatusKind::Error,
        StatusKind::Unknown,
        StatusKind::Stopped,
    ])
}

/// Any error code the seed defines (DEP_E151..=163 and the 2xx/3xx/4xx ranges).
pub fn any_error_code() -> impl Strategy<Value = ErrorCode> {
    prop_oneof![151u16..=163, 200u16..=499]
        .prop_filter_map("not a seed code", ErrorCode::from_number)
}

/// Any error report.
pub fn any_error_report() -> impl Strategy<Value = ErrorReport> {
    (
        any_error_code(),
        option::of(any_text()),
        option::of(any_text()),
        option::of(any_text()),
    )
        .prop_map(|(code, component, executable, detail)| ErrorReport {
            code,
            component,
            executable,
            detail,
        })
}

/// Any job status.
pub fn any_job_status() -> impl Strategy<Value = JobStatus> {
    prop::sample::select(vec![
        JobStatus::Pending,
        JobStatus::Preparing,
        JobStatus::InProgress,
        JobStatus::Failed,
        JobStatus::Succeeded,
        JobStatus::Canceled,
    ])
}

/// Any robot status.
pub fn any_robot_status() -> impl Strategy<Value = RobotStatus> {
    prop::sample::select(vec![
        RobotStatus::Available,
        RobotStatus::Registered,
        RobotStatus::PendingNewDeployment,
        RobotStatus::Deploying,
        RobotStatus::Failed,
        RobotStatus::InSync,
        RobotStatus::NoResponse,
    ])
}

/// Any progress step.
pub fn any_progress_step() -> impl Strategy<Value = ProgressStep> {
    prop::sample::select(ProgressStep::ALL.to_vec())
}

/// Any failure code.
pub fn any_failure_code() -> impl Strategy<Value = FailureCode> {
    prop::sample::select(vec![
        FailureCode::FailureThresholdBreached,
        FailureCode::DownloadConditionFailed,
        FailureCode::EtagMismatch,
        FailureCode::PreLaunchFileFailure,
        FailureCode::PostLaunchFileFailure,
        FailureCode::RobotDeploymentAborted,
        FailureCode::RobotDeploymentNoResponse,
        FailureCode::RobotDeploymentTimeout,
        FailureCode::FleetDeploymentTimeout,
        FailureCode::MissingRobotArchitecture,
        FailureCode::EnvironmentSetupError,
        FailureCode::ExtractingBundleFailure,
        FailureCode::LaunchFailure,
        FailureCode::InternalServerError,
    ])
}
