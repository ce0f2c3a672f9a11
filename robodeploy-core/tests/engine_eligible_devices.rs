//! `Engine::eligible_devices`: the seed's pre-filtered device list for a component (online,
//! matching architecture and device runtime; and ROS distro for a ROS component).

use std::sync::Arc;
use std::time::Duration;

use robodeploy_core::engine::{CatalogError, Engine, EngineConfig, EngineError};
use robodeploy_core::model::{Device, Version};
use robodeploy_core::runtime::MemoryRuntime;
use serde_json::{Value, json};

fn from<T: serde::de::DeserializeOwned>(v: Value) -> T {
    serde_json::from_value(v).unwrap()
}

fn names(devices: &[Device]) -> Vec<&str> {
    devices.iter().map(|d| d.name.as_str()).collect()
}

#[tokio::test]
async fn the_list_is_filtered_by_architecture_runtime_ros_distro_and_online_state() {
    let engine = Engine::builder()
        .config(EngineConfig::default().with_health_interval(Duration::from_millis(50)))
        .start();
    let mut runtimes = Vec::new();
    for (name, arch, runtime, distro) in [
        ("arm-docker", "arm64v8", "docker", Some("humble")),
        ("arm-docker-jazzy", "arm64v8", "docker", Some("jazzy")),
        ("arm-docker-off", "arm64v8", "docker", Some("humble")),
        ("arm-pre", "arm64v8", "preinstalled", Some("humble")),
        ("amd-docker", "amd64", "docker", Some("humble")),
        ("arm-docker-no-ros", "arm64v8", "docker", None),
    ] {
        let mut d = json!({"name": name, "architecture": arch, "runtime": runtime});
        if let Some(distro) = distro {
            d["rosDistro"] = json!(distro);
        }
        let rt = Arc::new(MemoryRuntime::new(name));
        engine.add_device(from(d), rt.clone()).await.unwrap();
        runtimes.push((name, rt));
    }
    engine
        .add_package(from(json!({
            "name": "nav", "version": "2",
            "components": [
                {"name": "planner",
                 "placement": {"kind": "device", "runtime": "docker", "architecture": "arm64v8"},
                 "ros": {"distro": "humble"},
                 "executables": [{"name": "planner", "image": "nav/planner:2"}]},
                {"name": "logger",
                 "placement": {"kind": "device", "runtime": "docker", "architecture": "arm64v8"},
                 "executables": [{"name": "logger", "image": "nav/logger:2"}]},
                {"name": "map-server", "placement": {"kind": "cloud"},
                 "executables": [{"name": "maps", "image": "nav/maps:2"}]}
            ]
        })))
        .await
        .unwrap();
    // One matching device goes offline: the seed's list holds online devices only.
    let (_, off) = runtimes
        .iter()
        .find(|(n, _)| *n == "arm-docker-off")
        .unwrap();
    off.set_reachable(false);
    let v = Version::new("2");
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    loop {
        let planner = engine.eligible_devices("nav", &v, "planner").await.unwrap();
        if names(&planner) == ["arm-docker"] {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "planner: {:?}",
            names(&planner)
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let logger = engine.eligible_devices("nav", &v, "logger").await.unwrap();
    assert_eq!(
        names(&logger),
        ["arm-docker", "arm-docker-jazzy", "arm-docker-no-ros"]
    );
    assert!(
        engine
            .eligible_devices("nav", &v, "map-server")
            .await
            .unwrap()
            .is_empty()
    );
    // Back online: listed again.
    off.set_reachable(true);
    loop {
        let logger = engine.eligible_devices("nav", &v, "logger").await.unwrap();
        if logger.len() == 4 {
            assert_eq!(
                names(&logger),
                [
                    "arm-docker",
                    "arm-docker-jazzy",
                    "arm-docker-no-ros",
                    "arm-docker-off"
                ]
            );
            break;
        }
        assert!(tokio::time::Instant::now() < deadline + Duration::from_secs(20));
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    engine.shutdown().await.unwrap();
}

#[tokio::test]
async fn an_unknown_package_or_component_is_an_error() {
    let engine = Engine::builder().start();
    assert!(matches!(
        engine.eligible_devices("nav", &Version::new("1"), "planner").await,
        Err(EngineError::Catalog(CatalogError::NotFound { name, .. })) if name == "nav"
    ));
    engine
        .add_package(from(json!({
            "name": "nav", "version": "1",
            "components": [{"name": "planner",
                "placement": {"kind": "device", "runtime": "preinstalled", "architecture": "amd64"},
                "executables": [{"name": "planner", "command": ["/opt/planner"]}]}]
        })))
        .await
        .unwrap();
    match engine
        .eligible_devices("nav", &Version::new("1"), "mapper")
        .await
    {
        Err(e @ EngineError::NoSuchComponent { .. }) => {
            assert_eq!(e.to_string(), r#"package nav@1 has no component "mapper""#);
        }
        other => panic!("{other:?}"),
    }
    assert!(
        engine
            .eligible_devices("nav", &Version::new("1"), "planner")
            .await
            .unwrap()
            .is_empty()
    );
    engine.shutdown().await.unwrap();
}
