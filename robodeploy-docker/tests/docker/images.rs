//! Prepare: present images by tag and by id; missing images with and without a registry; a
//! registry that has no such image (a fake one on 127.0.0.1 answering 404) and one that cannot be
//! reached at all.

use robodeploy_core::model::{DeploymentId, ErrorCode};
use robodeploy_core::runtime::{InstanceSpec, Runtime, RuntimeError};
use robodeploy_docker::{DockerConfig, DockerRuntime, Endpoint, Placement, RegistryConfig};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

use crate::support::{image, spec};

fn with_image(reference: &str) -> InstanceSpec {
    let mut s = spec(DeploymentId::new_random(), "c", "e", &["true"]);
    s.image = Some(reference.to_owned());
    s
}

fn runtime(placement: Placement, registry: bool) -> DockerRuntime {
    let mut cfg = DockerConfig::new(Endpoint::Local, placement);
    if registry {
        cfg = cfg.with_registry(RegistryConfig::default());
    }
    DockerRuntime::new(cfg).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_present_image_is_used_by_tag_and_by_id() {
    let rt = runtime_or_skip!();
    rt.prepare(&with_image(&image())).await.expect("by tag");
    let id = crate::support::docker()
        .await
        .inspect_image(&image())
        .await
        .unwrap()
        .id
        .unwrap();
    assert!(id.starts_with("sha256:"));
    rt.prepare(&with_image(&id)).await.expect("by pinned id");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_missing_image_without_registry_is_not_present() {
    let _ = runtime_or_skip!();
    let missing = "robodeploy-test/absent:never";
    let pinned = "robodeploy-test/absent@sha256:0000000000000000000000000000000000000000000000000000000000000000";
    for reference in [missing, pinned] {
        let err = runtime(Placement::Device, false)
            .prepare(&with_image(reference))
            .await
            .expect_err("not present");
        assert!(
            matches!(&err, RuntimeError::PullFailed { image, message } if image == reference && message.contains("no registry")),
            "{err:?}"
        );
        assert_eq!(
            err.error_code(false, true),
            ErrorCode::Validation,
            "E162 on a device"
        );
        let err = runtime(Placement::Cloud, false)
            .prepare(&with_image(reference))
            .await
            .expect_err("not present");
        assert_eq!(
            err.error_code(true, true),
            ErrorCode::CloudImageUnavailable,
            "E153 in the cloud"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unreachable_registry_is_a_failed_pull() {
    let _ = runtime_or_skip!();
    let reference = "registry.robodeploy.invalid/robot/nav:1";
    let rt = runtime(Placement::Device, true);
    let mut progress = rt.pull_progress();
    let err = rt
        .prepare(&with_image(reference))
        .await
        .expect_err("cannot pull");
    match &err {
        RuntimeError::PullFailed { image, message } => {
            assert_eq!(image, reference);
            assert!(message.contains("registry.robodeploy.invalid"), "{message}");
        }
        other => panic!("expected PullFailed, got {other:?}"),
    }
    assert_eq!(err.error_code(false, true), ErrorCode::Validation);
    assert_eq!(err.error_code(true, true), ErrorCode::CloudImageUnavailable);
    // Nothing was downloaded, so no layer progress was reported.
    assert!(progress.try_recv().map_or(true, |p| p.layer.is_none()));
}

/// A registry that knows no image: `/v2/` answers, every manifest is unknown.
async fn empty_registry() -> (u16, tokio::task::JoinHandle<()>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let task = tokio::spawn(async move {
        loop {
            let Ok((mut conn, _)) = listener.accept().await else {
                return;
            };
            tokio::spawn(async move {
                let mut buf = vec![0u8; 8192];
                let n = conn.read(&mut buf).await.unwrap_or(0);
                let head = String::from_utf8_lossy(&buf[..n]);
                let path = head.split_whitespace().nth(1).unwrap_or("");
                let (status, body) = if !head.starts_with("GET") && !head.starts_with("HEAD") {
                    // The engine tries TLS first; a plain answer makes it fall back to HTTP.
                    ("400 Bad Request", String::new())
                } else if path == "/v2/" {
                    ("200 OK", "{}".to_owned())
                } else {
                    (
                        "404 Not Found",
                        r#"{"errors":[{"code":"MANIFEST_UNKNOWN","message":"manifest unknown"}]}"#
                            .to_owned(),
                    )
                };
                let reply = format!(
                    "HTTP/1.1 {status}\r\nContent-Type: application/json\r\n\
                     Docker-Distribution-API-Version: registry/2.0\r\n\
                     Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
                    body.len()
                );
                let _ = conn.write_all(reply.as_bytes()).await;
                let _ = conn.shutdown().await;
            });
        }
    });
    (port, task)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_image_the_registry_does_not_have_is_not_found() {
    let _ = runtime_or_skip!();
    let (port, registry) = empty_registry().await;
    let reference = format!("127.0.0.1:{port}/robot/nav:1");
    for (placement, code) in [
        (Placement::Device, ErrorCode::DeviceImageNotFound),
        (Placement::Cloud, ErrorCode::CloudImageUnavailable),
    ] {
        let err = runtime(placement, true)
            .prepare(&with_image(&reference))
            .await
            .expect_err("no such image");
        assert!(
            matches!(&err, RuntimeError::NotFound { what } if what.starts_with(&reference)),
            "{err:?}"
        );
        assert_eq!(err.error_code(placement.is_cloud(), true), code);
    }
    registry.abort();
}

/// Through the engine: a device deployment whose image the Docker device does not have (and no
/// registry to pull from) fails to start with the seed's DEP_E162, "docker images not present
/// on docker device", the executable in Error with the pull's reason.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_image_not_present_on_a_docker_device_is_dep_e162_through_the_engine() {
    use robodeploy_core::engine::{Engine, Until};
    use robodeploy_core::model::{DeviceRuntime, ExecutableStatus, Phase, Reason, RestartPolicy};
    use robodeploy_testkit::model as kit;
    let _ = runtime_or_skip!();
    let engine = Engine::builder().start();
    let device = kit::device("dock-e162", DeviceRuntime::Docker);
    engine
        .add_device(
            device,
            std::sync::Arc::new(runtime(Placement::Device, false)),
        )
        .await
        .unwrap();
    let mut exe = kit::exe("main", ["true"]);
    exe.image = Some("robodeploy-test/absent:never".into());
    let package = kit::package_on("absent", "1", kit::DOCKER, RestartPolicy::Never, [exe]);
    engine.add_package(package).await.unwrap();
    let req = kit::request("absent", "absent", "1", "dock-e162");
    let id = engine.deploy(req, None).await.unwrap();
    let s = engine
        .wait_for(
            id,
            Until::Phase(Phase::FailedToStart),
            std::time::Duration::from_secs(60),
        )
        .await
        .unwrap();
    let codes: Vec<String> = s.errors.iter().map(|e| e.code.to_string()).collect();
    assert_eq!(codes, ["DEP_E162"], "{s:?}");
    assert!(
        matches!(
            &s.executables[0].status,
            ExecutableStatus::Error {
                reason: Reason::PullFailed { .. }
            }
        ),
        "{s:?}"
    );
    engine.shutdown().await.unwrap();
}
