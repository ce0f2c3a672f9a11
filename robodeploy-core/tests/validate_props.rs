//! Validation never panics, accepts every generated valid manifest, finds a single broken field
//! exactly, and the in-flight count follows the seed's arithmetic.

use proptest::prelude::*;
use robodeploy_core::manifest::{Document, Manifest};
use robodeploy_core::model::DeploymentConfig;
use robodeploy_core::strategies::{any_manifest, ci_config, valid::valid_manifest};
use robodeploy_core::validate::{ValidationError, ValidationWarning, validate_manifest};

fn job_mut(m: &mut Manifest) -> &mut robodeploy_core::model::DeploymentJobRequest {
    m.documents
        .iter_mut()
        .find_map(|d| match d {
            Document::DeploymentJob(j) => Some(j),
            _ => None,
        })
        .expect("valid_manifest has a job")
}

proptest! {
    #![proptest_config(ci_config())]

    #[test]
    fn any_manifest_validates_without_panicking_and_deterministically(m in any_manifest()) {
        let report = validate_manifest(&m);
        for issue in &report.errors {
            prop_assert!(issue.problem.path().to_string().starts_with("spec"));
            prop_assert!(issue.document.as_ref().is_some_and(|d| d.index < m.len()));
            prop_assert!(!issue.problem.to_string().is_empty());
        }
        prop_assert_eq!(validate_manifest(&m), report);
    }

    #[test]
    fn generated_valid_manifests_have_no_errors(m in valid_manifest()) {
        let report = validate_manifest(&m);
        prop_assert!(report.is_ok(), "{}\n{:#?}", report, m);
        for w in &report.warnings {
            prop_assert!(
                matches!(
                    w.problem,
                    ValidationWarning::ThresholdBelowConcurrency { .. }
                        | ValidationWarning::HostTakeoverMount { .. }
                ),
                "{}", w
            );
        }
    }

    #[test]
    fn one_bad_percentage_is_exactly_one_error(
        m in valid_manifest(),
        bad in prop_oneof![Just(0u8), 101u8..=255],
        which in any::<bool>(),
    ) {
        let mut m = m;
        let config = &mut job_mut(&mut m).deployment_config;
        let field = if which {
            config.concurrent_deployment_percentage = bad;
            "concurrentDeploymentPercentage"
        } else {
            config.failure_threshold_percentage = bad;
            "failureThresholdPercentage"
        };
        let report = validate_manifest(&m);
        prop_assert_eq!(report.errors.len(), 1, "{}", report);
        let e = &report.errors[0].problem;
        let is_percentage = matches!(e, ValidationError::PercentageOutOfRange { value, .. } if *value == bad);
        prop_assert!(is_percentage, "{:?}", e);
        prop_assert_eq!(e.path().to_string(), format!("spec.deploymentConfig.{field}"));
    }

    #[test]
    fn one_reserved_variable_is_exactly_one_error(m in valid_manifest(), suffix in "[A-Z0-9_]{0,8}") {
        let mut m = m;
        let name = format!("AWS{suffix}");
        job_mut(&mut m).launch_config.environment_variables.insert(name.clone(), "x".into());
        let report = validate_manifest(&m);
        prop_assert_eq!(report.errors.len(), 1, "{}", report);
        let e = &report.errors[0].problem;
        let is_reserved = matches!(e, ValidationError::ReservedEnvName { .. });
        prop_assert!(is_reserved, "{:?}", e);
        prop_assert_eq!(
            e.path().to_string(),
            format!("spec.launchConfig.environmentVariables.{name}")
        );
    }

    #[test]
    fn in_flight_is_the_percentage_rounded_up(fleet in 0usize..2_000_000, percent in 1u8..=100) {
        let config = DeploymentConfig {
            concurrent_deployment_percentage: percent,
            ..DeploymentConfig::default()
        };
        let n = config.max_in_flight(fleet);
        let wanted = fleet as u128 * u128::from(percent);
        prop_assert!(n <= fleet);
        if fleet == 0 {
            prop_assert_eq!(n, 0);
        } else {
            prop_assert!(n >= 1);
            // Smallest count that is at least the percentage of the fleet.
            prop_assert!(n as u128 * 100 >= wanted);
            prop_assert!(n == 1 || (n as u128 - 1) * 100 < wanted);
        }
    }
}
