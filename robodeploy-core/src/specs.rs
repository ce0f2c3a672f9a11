//! How the two specification documents robodeploy follows map onto this crate's API.
//!
//! robodeploy implements two public specifications: the deployment lifecycle of Rapyuta.io
//! (phases, statuses, error codes, restart policies) and the fleet deployment jobs of AWS
//! RoboMaker (concurrency, failure threshold, timeouts, scripts, environment rules). This page
//! says where each of their notions lives. Their tables are requirements; the tests check them
//! value by value.
//!
//! # Deployments (the Rapyuta.io lifecycle)
//!
//! | the specification says | the API |
//! |---|---|
//! | package (a numbered version of components, each with executables) | [`Package`], [`Component`], [`Executable`], [`Version`] |
//! | deployment: a package instantiated, with labels, devices, dependencies, volumes, a routed network, a restart policy | [`DeploymentRequest`], deployed by [`Engine::deploy`], read by [`Engine::status`] as a [`DeploymentStatus`] |
//! | phases: In progress, Provisioning, Succeeded, Failed to start, Partially deprovisioned, Deployment stopped | [`Phase`] (`display_name` gives the specification's words) |
//! | executable status Pending / Running / Error / Unknown, with a reason | [`ExecutableStatus`], [`Reason`], aggregated in [`StatusKind`] |
//! | error codes DEP_E151 … DEP_E163, DEP_E2xx/3xx/4xx, each with a description and a recommended action | [`ErrorCode`] (displayed `DEP_E151`), reported as [`ErrorReport`]s |
//! | restart policies Always, OnFailure, Never; a device component without one does not restart; cloud components always do | [`RestartPolicy`]; the lifecycle machine [`lifecycle`] applies them |
//! | "exited too early", crash loop, backoff | [`LifecycleConfig`] (`min_uptime`, `crash_loop_exits`, `initial_backoff`, …) |
//! | restart count | `restart_count` of [`DeploymentStatus`] and of each [`ExecutableReport`] |
//! | the device list filtered by architecture and runtime | [`Engine::eligible_devices`] |
//! | deprovision | [`Engine::deprovision`] |
//!
//! # Deployment jobs (the AWS RoboMaker fleet deployments)
//!
//! | the specification says | the API |
//! |---|---|
//! | fleet of robots | [`Fleet`] of [`Device`]s, registered with [`Engine::add_fleet`] |
//! | deployment job: one numbered application version to every robot of a fleet | [`DeploymentJobRequest`], started by [`Engine::create_job`], read as a [`JobReport`] |
//! | launch config: package name, launch file, pre-launch and post-launch scripts, environment variables | [`LaunchConfig`] |
//! | concurrent deployment percentage, failure threshold percentage, robot deployment timeout, download condition | [`DeploymentConfig`], [`DownloadCondition`] |
//! | environment names `[A-Z_][A-Z0-9_]*` without the `AWS` prefix, values 1..=1024 characters, and every other field rule | [`validate_job`] and [`validate_manifest`] (one error per broken rule, naming the field) |
//! | job status Pending … Canceled; robot status Available … NoResponse; progress steps Validating … Finished | [`JobStatus`], [`RobotStatus`], [`ProgressStep`] |
//! | failure codes (FailureThresholdBreached, PreLaunchFileFailure, …) | [`FailureCode`] |
//! | cancel a job | [`Engine::cancel_job`] |
//! | jobs expire after 90 days | [`DEFAULT_RETENTION`] |
//!
//! The scheduler of a job is the pure machine in [`rollout`]; [`sim`] runs the same machine on
//! a virtual clock to dry-run a job against a modelled fleet before it runs.
//!
//! [`Package`]: crate::model::Package
//! [`Component`]: crate::model::Component
//! [`Executable`]: crate::model::Executable
//! [`Version`]: crate::model::Version
//! [`DeploymentRequest`]: crate::model::DeploymentRequest
//! [`Engine::deploy`]: crate::engine::Engine::deploy
//! [`Engine::status`]: crate::engine::Engine::status
//! [`DeploymentStatus`]: crate::engine::DeploymentStatus
//! [`Phase`]: crate::model::Phase
//! [`ExecutableStatus`]: crate::model::ExecutableStatus
//! [`Reason`]: crate::model::Reason
//! [`StatusKind`]: crate::model::StatusKind
//! [`ErrorCode`]: crate::model::ErrorCode
//! [`ErrorReport`]: crate::model::ErrorReport
//! [`RestartPolicy`]: crate::model::RestartPolicy
//! [`lifecycle`]: crate::lifecycle
//! [`LifecycleConfig`]: crate::lifecycle::LifecycleConfig
//! [`ExecutableReport`]: crate::engine::ExecutableReport
//! [`Engine::eligible_devices`]: crate::engine::Engine::eligible_devices
//! [`Engine::deprovision`]: crate::engine::Engine::deprovision
//! [`Fleet`]: crate::model::Fleet
//! [`Device`]: crate::model::Device
//! [`Engine::add_fleet`]: crate::engine::Engine::add_fleet
//! [`DeploymentJobRequest`]: crate::model::DeploymentJobRequest
//! [`Engine::create_job`]: crate::engine::Engine::create_job
//! [`JobReport`]: crate::engine::JobReport
//! [`LaunchConfig`]: crate::model::LaunchConfig
//! [`DeploymentConfig`]: crate::model::DeploymentConfig
//! [`DownloadCondition`]: crate::model::DownloadCondition
//! [`validate_job`]: crate::validate::validate_job
//! [`validate_manifest`]: crate::validate::validate_manifest
//! [`JobStatus`]: crate::model::JobStatus
//! [`RobotStatus`]: crate::model::RobotStatus
//! [`ProgressStep`]: crate::model::ProgressStep
//! [`FailureCode`]: crate::model::FailureCode
//! [`Engine::cancel_job`]: crate::engine::Engine::cancel_job
//! [`DEFAULT_RETENTION`]: crate::model::DEFAULT_RETENTION
//! [`rollout`]: crate::rollout
//! [`sim`]: crate::sim
