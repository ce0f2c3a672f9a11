//! An executable's limits (CPU, memory, devices, host network, user, read-only root,
//! capabilities, privileged): read from YAML and JSON manifests, every bad value a typed error
//! naming the field, the value and the rule, container-only settings refused on processes, and
//! `privileged` refused by an engine unless its configuration allows it.

use robodeploy_core::engine::{Engine, EngineConfig, EngineError};
use robodeploy_core::manifest::Manifest;
use robodeploy_core::model::{DeviceMapping, Package, Quantity};
use robodeploy_core::validate::{ValidationError, ValidationWarning, validate_package};
use serde_json::{Value, json};

/// A package whose one executable, of a `runtime` component, has these limits.
fn package(runtime: &str, limits: Value) -> Package {
    let exe = if runtime == "docker" {
        json!({"name": "cam", "image": "robot/cam:1", "limits": limits})
    } else {
        json!({"name": "cam", "command": ["/usr/bin/cam"], "limits": limits})
    };
    serde_json::from_value(json!({
        "name": "camera", "version": "1",
        "components": [{
            "name": "main",
            "placement": {"kind": "device", "runtime": runtime, "architecture": "amd64"},
            "executables": [exe]
        }]
    }))
    .unwrap()
}

const AT: &str = "spec.components[0].executables[0].limits";

/// The only error of validating `limits` on a docker executable.
fn only_error(runtime: &str, limits: Value) -> ValidationError {
    let report = validate_package(&package(runtime, limits.clone()));
    assert_eq!(report.errors.len(), 1, "{limits}: {report}");
    report.errors[0].problem.clone()
}

#[test]
fn a_yaml_manifest_reads_every_limit_with_kubernetes_units() {
    let m = Manifest::parse_yaml(
        r#"
apiVersion: robodeploy/v1
kind: Package
spec:
  name: camera
  version: "1"
  components:
    - name: main
      placement: {kind: device, runtime: docker, architecture: amd64}
      executables:
        - name: cam
          image: robot/cam:1
          limits:
            cpu: 500m
            memory: 512Mi
            devices: [/dev/video0, {host: /dev/ttyUSB0, container: /dev/ttyACM0}]
            hostNetwork: true
            user: "1000:1000"
            readOnlyRootFilesystem: true
            capabilities: [SYS_NICE, CAP_NET_ADMIN]
"#,
    )
    .unwrap();
    let report = robodeploy_core::validate::validate_manifest(&m);
    assert!(report.is_ok() && report.warnings.is_empty(), "{report}");
    let robodeploy_core::manifest::Document::Package(p) = &m.documents[0] else {
        panic!("{m:?}")
    };
    let l = &p.components[0].executables[0].limits;
    assert_eq!(l.cpu.as_ref().unwrap().cpu_millis(), Ok(500));
    assert_eq!(l.memory.as_ref().unwrap().memory_bytes(), Ok(512 << 20));
    assert_eq!(l.devices[0], DeviceMapping::Path("/dev/video0".into()));
    assert_eq!(
        (l.devices[1].host(), l.devices[1].container()),
        ("/dev/ttyUSB0", "/dev/ttyACM0")
    );
    assert!(l.host_network && l.read_only_root_filesystem && !l.privileged);
    assert_eq!(l.user.as_deref(), Some("1000:1000"));
    assert_eq!(l.capabilities, ["SYS_NICE", "CAP_NET_ADMIN"]);

    // JSON reads the same, and a number of CPUs is a number.
    let j = package("docker", json!({"cpu": 0.5, "memory": 536870912}));
    let l = &j.components[0].executables[0].limits;
    assert_eq!(
        l.cpu,
        Some(Quantity::Number(serde_json::Number::from_f64(0.5).unwrap()))
    );
    assert_eq!(l.cpu.as_ref().unwrap().cpu_millis(), Ok(500));
    assert_eq!(l.memory.as_ref().unwrap().memory_bytes(), Ok(512 << 20));
    // Written back, nothing set is nothing written.
    let written = serde_json::to_value(package("docker", json!({}))).unwrap();
    assert!(
        written["components"][0]["executables"][0]
            .get("limits")
            .is_none()
    );
}

#[test]
fn bad_values_are_typed_errors_naming_field_value_and_rule() {
    for (limits, field, value) in [
        (json!({"cpu": -1}), "cpu", "-1"),
        (json!({"cpu": "0"}), "cpu", "0"),
        (json!({"cpu": "0.0001"}), "cpu", "0.0001"),
        (json!({"cpu": "2 cores"}), "cpu", "2 cores"),
    ] {
        match only_error("docker", limits) {
            ValidationError::InvalidCpuLimit {
                path,
                value: v,
                rule,
            } => {
                assert_eq!(path.to_string(), format!("{AT}.{field}"));
                assert_eq!(v, value);
                assert_eq!(rule, robodeploy_core::model::CPU_RULE);
            }
            other => panic!("{other:?}"),
        }
    }
    for value in ["0", "1Mi", "512MB", "-5Gi", "2Ti"] {
        match only_error("docker", json!({"memory": value})) {
            ValidationError::InvalidMemoryLimit { path, value: v, .. } => {
                assert_eq!(
                    (path.to_string(), v.as_str()),
                    (format!("{AT}.memory"), value)
                );
            }
            other => panic!("{other:?}"),
        }
    }
    for (devices, path, value) in [
        (
            json!(["/etc/passwd"]),
            format!("{AT}.devices[0]"),
            "/etc/passwd",
        ),
        (
            json!(["/dev/../etc/shadow"]),
            format!("{AT}.devices[0]"),
            "/dev/../etc/shadow",
        ),
        (json!(["video0"]), format!("{AT}.devices[0]"), "video0"),
        (
            json!([{"host": "/sys/class/gpio"}]),
            format!("{AT}.devices[0].host"),
            "/sys/class/gpio",
        ),
        (
            json!([{"host": "/dev/video0", "container": "video0"}]),
            format!("{AT}.devices[0].container"),
            "video0",
        ),
    ] {
        match only_error("docker", json!({ "devices": devices })) {
            ValidationError::InvalidDevicePath {
                path: p, value: v, ..
            } => {
                assert_eq!((p.to_string(), v.as_str()), (path.clone(), value));
            }
            other => panic!("{other:?}"),
        }
    }
    for value in ["sys_nice", "ALL", "CAP_FLY"] {
        match only_error("docker", json!({"capabilities": ["SYS_NICE", value]})) {
            ValidationError::UnknownCapability { path, value: v } => {
                assert_eq!(
                    (path.to_string(), v.as_str()),
                    (format!("{AT}.capabilities[1]"), value)
                );
            }
            other => panic!("{other:?}"),
        }
    }
    for value in ["Robot", "1000:", "robot:1000", "", "4294967296"] {
        match only_error("preinstalled", json!({"user": value})) {
            ValidationError::InvalidUser {
                path,
                value: v,
                rule,
            } => {
                assert_eq!(
                    (path.to_string(), v.as_str()),
                    (format!("{AT}.user"), value)
                );
                assert_eq!(rule, robodeploy_core::model::USER_RULE);
            }
            other => panic!("{other:?}"),
        }
    }
    // Every problem is reported, not only the first.
    let report = validate_package(&package(
        "docker",
        json!({"cpu": -1, "memory": "0", "devices": ["/tmp/x"], "user": "A", "capabilities": ["X"]}),
    ));
    assert_eq!(report.errors.len(), 5, "{report}");
}

#[test]
fn a_process_refuses_what_only_a_container_can_apply() {
    // What a process can apply is accepted.
    let ok = validate_package(&package(
        "preinstalled",
        json!({"memory": "64Mi", "user": "robot", "hostNetwork": true}),
    ));
    assert!(ok.is_ok() && ok.warnings.is_empty(), "{ok}");
    for (limits, field) in [
        (json!({"cpu": "250m"}), "cpu"),
        (json!({"devices": ["/dev/video0"]}), "devices"),
        (
            json!({"readOnlyRootFilesystem": true}),
            "readOnlyRootFilesystem",
        ),
        (json!({"capabilities": ["SYS_NICE"]}), "capabilities"),
        (json!({"privileged": true}), "privileged"),
    ] {
        match only_error("preinstalled", limits) {
            ValidationError::ContainerOnlyLimit { path, field: f } => {
                assert_eq!((path.to_string(), f), (format!("{AT}.{field}"), field));
            }
            other => panic!("{other:?}"),
        }
    }
}

#[tokio::test]
async fn privileged_is_a_warning_and_refused_unless_the_engine_allows_it() {
    let privileged = package("docker", json!({"privileged": true}));
    let report = validate_package(&privileged);
    assert!(report.is_ok(), "{report}");
    assert_eq!(report.warnings.len(), 1, "{report}");
    match &report.warnings[0].problem {
        ValidationWarning::Privileged { path } => {
            assert_eq!(path.to_string(), format!("{AT}.privileged"))
        }
        other => panic!("{other:?}"),
    }

    let engine = Engine::builder().start();
    match engine.add_package(privileged.clone()).await {
        Err(EngineError::Invalid(report)) => {
            assert_eq!(report.errors.len(), 1, "{report}");
            match &report.errors[0].problem {
                ValidationError::PrivilegedRefused { path } => {
                    assert_eq!(path.to_string(), format!("{AT}.privileged"))
                }
                other => panic!("{other:?}"),
            }
        }
        other => panic!("{other:?}"),
    }
    let version = robodeploy_core::model::Version::new("1");
    assert!(engine.package("camera", &version).await.is_err());
    // Everything else a container may be given is accepted by a default engine.
    engine
        .add_package(package(
            "docker",
            json!({"cpu": 1, "memory": "1Gi", "devices": ["/dev/video0"], "hostNetwork": true,
                   "user": "1000:1000", "readOnlyRootFilesystem": true,
                   "capabilities": ["SYS_NICE"]}),
        ))
        .await
        .unwrap();
    engine.shutdown().await.unwrap();

    let allowing = Engine::builder()
        .config(EngineConfig::default().with_privileged(true))
        .start();
    assert!(allowing.add_package(privileged).await.unwrap());
    assert!(allowing.package("camera", &version).await.is_ok());
    allowing.shutdown().await.unwrap();
}
