//! Every model type survives a round trip through JSON and YAML, whatever its content.

use std::fmt::Debug;

use proptest::prelude::*;
use robodeploy_core::manifest::Manifest;
use robodeploy_core::model::*;
use robodeploy_core::strategies::*;
use serde::Serialize;
use serde::de::DeserializeOwned;

fn round_trip<T>(value: &T) -> Result<(), TestCaseError>
where
    T: Serialize + DeserializeOwned + PartialEq + Debug,
{
    let json = serde_json::to_string(value).map_err(|e| TestCaseError::fail(e.to_string()))?;
    let back: T = serde_json::from_str(&json)
        .map_err(|e| TestCaseError::fail(format!("{e}\nJSON: {json}")))?;
    prop_assert_eq!(&back, value, "JSON: {}", json);
    let yaml = serde_saphyr::to_string(value).map_err(|e| TestCaseError::fail(e.to_string()))?;
    let back: T = serde_saphyr::from_str(&yaml)
        .map_err(|e| TestCaseError::fail(format!("{e}\nYAML:\n{yaml}")))?;
    prop_assert_eq!(&back, value, "YAML:\n{}", yaml);
    Ok(())
}

proptest! {
    #![proptest_config(ci_config())]

    #[test]
    fn package(v in any_package()) { round_trip(&v)?; }

    #[test]
    fn component(v in any_component()) { round_trip(&v)?; }

    #[test]
    fn executable(v in any_executable()) { round_trip(&v)?; }

    #[test]
    fn placement_mount_port(p in any_placement(), m in any_mount(), port in any_port()) {
        round_trip(&p)?;
        round_trip(&m)?;
        round_trip(&port)?;
    }

    #[test]
    fn version_architecture_runtime_restart(
        v in any_version(), a in any_architecture(), r in any_device_runtime(),
        p in any_restart_policy(), d in any_ros_distro(),
    ) {
        round_trip(&v)?;
        round_trip(&a)?;
        round_trip(&r)?;
        round_trip(&p)?;
        round_trip(&d)?;
        round_trip(&Ros { distro: d })?;
    }

    #[test]
    fn ids(d in any_device_id(), dep in any_deployment_id(), j in any_job_id()) {
        round_trip(&d)?;
        round_trip(&dep)?;
        round_trip(&j)?;
    }

    #[test]
    fn device(v in any_device()) { round_trip(&v)?; }

    #[test]
    fn fleet(v in any_fleet()) { round_trip(&v)?; }

    #[test]
    fn deployment_request(v in any_deployment_request()) { round_trip(&v)?; }

    #[test]
    fn routed_network_and_volume(n in any_routed_network(), v in any_volume_attachment()) {
        round_trip(&n)?;
        round_trip(&v)?;
    }

    #[test]
    fn job_request(v in any_job_request()) { round_trip(&v)?; }

    #[test]
    fn launch_and_deployment_config(l in any_launch_config(), c in any_deployment_config()) {
        round_trip(&l)?;
        round_trip(&c)?;
    }

    #[test]
    fn wave_and_download_condition(w in any_wave(), d in any_download_condition()) {
        round_trip(&w)?;
        round_trip(&d)?;
    }

    #[test]
    fn statuses(
        phase in any_phase(), status in any_executable_status(), reason in any_reason(),
        kind in any_status_kind(), report in any_error_report(), code in any_error_code(),
    ) {
        round_trip(&phase)?;
        round_trip(&status)?;
        round_trip(&reason)?;
        round_trip(&kind)?;
        round_trip(&report)?;
        round_trip(&code)?;
    }

    #[test]
    fn job_statuses(
        job in any_job_status(), robot in any_robot_status(), step in any_progress_step(),
        failure in any_failure_code(),
    ) {
        round_trip(&job)?;
        round_trip(&robot)?;
        round_trip(&step)?;
        round_trip(&failure)?;
    }

    #[test]
    fn manifests(m in any_manifest()) {
        let yaml = m.to_yaml().map_err(|e| TestCaseError::fail(e.to_string()))?;
        let back = Manifest::parse_yaml(&yaml).map_err(|e| TestCaseError::fail(format!("{e}\n{yaml}")))?;
        prop_assert_eq!(&back, &m);
        let json = m.to_json().map_err(|e| TestCaseError::fail(e.to_string()))?;
        let back = Manifest::parse_json(&json).map_err(|e| TestCaseError::fail(format!("{e}\n{json}")))?;
        prop_assert_eq!(&back, &m);
    }
}
