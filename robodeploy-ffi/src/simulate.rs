//! The dry-run across the ABI: simulate a deployment job against a modelled fleet.

use std::ffi::c_char;
use std::time::Duration;

use robodeploy_core::model::{DeploymentConfig, DeploymentJobRequest, Fleet, Version};
use robodeploy_core::sim::{FleetModel, SimOptions, Simulation, TimelineDetail};
use serde::Deserialize;

use crate::boundary::{guard, json_arg, out_arg, to_json, write_string};
use crate::error::FfiError;
use crate::result::rd_result;

/// What `rd_simulate` reads: a job against a real fleet, or a deployment config against a
/// generated fleet of `robots` robots.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct SimInput {
    job: Option<DeploymentJobRequest>,
    fleet: Option<Fleet>,
    deployment_config: Option<DeploymentConfig>,
    robots: Option<u32>,
    previous_version: Option<Version>,
    #[serde(default)]
    model: FleetModel,
    failure_rate: Option<f64>,
    #[serde(default)]
    seed: u64,
    #[serde(default)]
    timeline: TimelineDetail,
    #[serde(default, with = "robodeploy_core::time::duration::option")]
    resume_after: Option<Duration>,
    #[serde(default, with = "robodeploy_core::time::duration::option")]
    cancel_after: Option<Duration>,
}

fn simulation(input: SimInput) -> Result<Simulation, FfiError> {
    let options = SimOptions {
        seed: input.seed,
        timeline: input.timeline,
        resume_after: input.resume_after,
        cancel_after: input.cancel_after,
    };
    let model = match input.failure_rate {
        Some(rate) => input.model.with_failure_rate(rate),
        None => input.model,
    };
    let sim = match (
        input.job,
        input.fleet,
        input.deployment_config,
        input.robots,
    ) {
        (Some(job), Some(fleet), None, None) => {
            Simulation::for_fleet(&job, &fleet, model, options)?
        }
        (None, None, Some(config), Some(robots)) => Simulation::new(
            &config,
            robots,
            input.previous_version.as_ref(),
            model,
            options,
        )?,
        _ => {
            return Err(FfiError::argument(
                "input_json",
                "give either `job` and `fleet`, or `deploymentConfig` and `robots`",
            ));
        }
    };
    Ok(sim)
}

/// Dry-runs a deployment job on a virtual clock, deterministically, and returns the report:
/// `{"seed", "report": {"status", "failureCode", "counts", "waves", "rollback", …},
/// "stats": {"makespanMs", …}, "timeline": [{"at", "what"}, …]}`.
///
/// `input_json` is an object with either `job` (a deployment job request) and `fleet` (the
/// fleet as it is now: online flags, installed versions), or `deploymentConfig` and `robots`
/// (a generated fleet, optionally `previousVersion`); and optionally `model` (the fleet model:
/// step durations, failure, hang and offline probabilities; default: nothing fails),
/// `failureRate` (robots fail with this probability overall, spread over the download,
/// pre-launch, launch and post-launch steps, on top of `model`), `seed`
/// (default 0), `timeline` (`"off"`, `"job"` (default) or `"full"`), `resumeAfter` and
/// `cancelAfter` (durations such as `"10m"`). The same input gives the same report, byte for
/// byte.
///
/// Returns `RD_OK` and writes `*report_json_out` (free with `rd_string_free`);
/// `RD_ERR_INVALID_JSON` for JSON that does not parse or fit; `RD_ERR_INVALID_ARGUMENT` for
/// neither or both of the two forms; `RD_ERR_SIMULATION` when the model or config breaks a
/// rule (the detail names the field); `RD_ERR_NULL_ARGUMENT`, `RD_ERR_INVALID_UTF8`.
///
/// # Safety
/// `input_json` is NULL or a NUL-terminated string; `report_json_out` is NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn rd_simulate(
    input_json: *const c_char,
    report_json_out: *mut *mut c_char,
) -> rd_result {
    guard(|| {
        let out = out_arg(report_json_out, "report_json_out")?;
        // SAFETY: the caller's contract.
        let input: SimInput = unsafe { json_arg(input_json, "input_json", "simulation input") }?;
        let report = simulation(input)?.run();
        let json = to_json(&report)?;
        // SAFETY: checked by out_arg; writable per the caller's contract.
        unsafe { write_string(out, json) }
    })
}
