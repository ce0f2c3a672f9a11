//! Rules of deployment jobs: RoboMaker's launch config, environment and deployment config.

use std::time::Duration;

use super::limits::{MAX_SOAK, MAX_WAVES};
use super::{FieldPath, Findings, ValidationError as E, ValidationWarning as W, fields};
use crate::model::{
    DeploymentConfig, DeploymentJobRequest, LaunchConfig, MAX_ROBOT_TIMEOUT, MIN_ROBOT_TIMEOUT,
    WaveSize,
};

/// Checks one job on its own (references to the fleet and the application are checked by the
/// context).
pub(super) fn check_job(f: &mut Findings, job: &DeploymentJobRequest) {
    let spec = FieldPath::spec();
    fields::name(f, spec.field("fleet"), &job.fleet);
    fields::name(f, spec.field("application"), &job.application);
    fields::version(
        f,
        spec.field("applicationVersion"),
        &job.application_version,
    );
    check_launch_config(f, &spec.field("launchConfig"), &job.launch_config);
    check_deployment_config(f, &spec.field("deploymentConfig"), &job.deployment_config);
    fields::tags(f, spec.field("tags"), &job.tags);
}

fn check_launch_config(f: &mut Findings, path: &FieldPath, lc: &LaunchConfig) {
    fields::robomaker_name(f, path.field("packageName"), &lc.package_name);
    fields::robomaker_name(f, path.field("launchFile"), &lc.launch_file);
    if let Some(pre) = &lc.pre_launch_file {
        fields::file(f, path.field("preLaunchFile"), pre);
    }
    if let Some(post) = &lc.post_launch_file {
        fields::file(f, path.field("postLaunchFile"), post);
    }
    fields::env(
        f,
        path.field("environmentVariables"),
        &lc.environment_variables,
    );
}

fn check_deployment_config(f: &mut Findings, path: &FieldPath, dc: &DeploymentConfig) {
    let concurrency = path.field("concurrentDeploymentPercentage");
    let threshold = path.field("failureThresholdPercentage");
    fields::percentage(f, concurrency, dc.concurrent_deployment_percentage);
    fields::percentage(f, threshold.clone(), dc.failure_threshold_percentage);
    let both_valid = (1..=100).contains(&dc.concurrent_deployment_percentage)
        && (1..=100).contains(&dc.failure_threshold_percentage);
    if both_valid && dc.failure_threshold_percentage < dc.concurrent_deployment_percentage {
        f.warn(W::ThresholdBelowConcurrency {
            path: threshold,
            threshold: dc.failure_threshold_percentage,
            concurrency: dc.concurrent_deployment_percentage,
        });
    }
    fields::duration(
        f,
        path.field("robotDeploymentTimeout"),
        dc.robot_deployment_timeout,
        MIN_ROBOT_TIMEOUT,
        MAX_ROBOT_TIMEOUT,
    );
    if let Some(deadline) = dc.offline_deadline {
        fields::duration(
            f,
            path.field("offlineDeadline"),
            deadline,
            MIN_ROBOT_TIMEOUT,
            MAX_ROBOT_TIMEOUT,
        );
    }
    if let Some(dl) = &dc.download_condition {
        let at = path.field("downloadCondition");
        fields::file(f, at.field("file"), &dl.file);
        if let Some(digest) = &dl.digest {
            fields::digest(f, at.field("digest"), digest);
        }
    }
    let waves = path.field("waves");
    if dc.waves.len() > MAX_WAVES {
        f.error(E::TooMany {
            path: waves.clone(),
            count: dc.waves.len(),
            max: MAX_WAVES,
        });
    }
    for (i, wave) in dc.waves.iter().enumerate() {
        let at = waves.index(i);
        match wave.size {
            WaveSize::Robots(0) => f.error(E::EmptyWave {
                path: at.field("size"),
            }),
            WaveSize::Percent(p) => fields::percentage(f, at.field("size").field("percent"), p),
            _ => {}
        }
        if let Some(soak) = wave.soak {
            fields::duration(f, at.field("soak"), soak, Duration::ZERO, MAX_SOAK);
        }
    }
}
