//! What every Docker test needs: a runtime on the local engine (or a loud skip), the test
//! image, specs with unique deployment ids, event waits, and a guard that removes whatever a
//! failed test left behind.

use robodeploy_testkit::skip::docker_or_skip;
use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

use bollard::Docker;
use bollard::query_parameters::{
    ListContainersOptions, ListNetworksOptions, ListVolumesOptions, RemoveContainerOptions,
};
use robodeploy_core::model::{DeploymentId, RestartPolicy};
use robodeploy_core::runtime::{
    EventReceiver, InstanceId, InstanceSpec, Runtime, RuntimeEvent, RuntimeEventKind, labels,
};
use robodeploy_docker::test_image::ensure_image;
use robodeploy_docker::{CREATED_BY_LABEL, DockerRuntime, Placement};
use tokio::sync::OnceCell;

pub const IMAGE_REPO: &str = "robodeploy-test/busybox";
pub const IMAGE_TAG: &str = "1";

static IMAGE_READY: OnceCell<()> = OnceCell::const_new();

pub fn image() -> String {
    format!("{IMAGE_REPO}:{IMAGE_TAG}")
}

/// A runtime on the local engine with the test image present, or `None` (after a loud message)
/// when no engine answers. With `ROBODEPLOY_REQUIRE_DOCKER=1` a missing engine fails the test.
pub async fn local_runtime(placement: Placement) -> Option<DockerRuntime> {
    let rt = docker_or_skip(DockerRuntime::local(placement))?;
    docker_or_skip(rt.health().await)?;
    IMAGE_READY
        .get_or_try_init(|| async { ensure_image(&rt, IMAGE_REPO, IMAGE_TAG).await.map(|_| ()) })
        .await
        .expect("building the test image");
    Some(rt)
}

/// The local runtime, or return from the test when there is no engine.
macro_rules! runtime_or_skip {
    () => {
        runtime_or_skip!(robodeploy_docker::Placement::Device)
    };
    ($placement:expr) => {
        match $crate::support::local_runtime($placement).await {
            Some(rt) => rt,
            None => return,
        }
    };
}

/// A bollard client of our own, to act on the engine as a person with the CLI would.
pub async fn docker() -> Docker {
    Docker::connect_with_defaults()
        .expect("docker client")
        .negotiate_version()
        .await
        .expect("negotiating with the engine")
}

/// A spec of a fresh deployment-scoped executable running `command` in the test image.
pub fn spec(
    deployment: DeploymentId,
    component: &str,
    executable: &str,
    command: &[&str],
) -> InstanceSpec {
    let mut s = InstanceSpec::new(deployment, component, executable, "robodeploy-test", "1");
    s.image = Some(image());
    s.command = command.iter().map(|c| (*c).to_owned()).collect();
    s.restart_policy = RestartPolicy::Never;
    s
}

pub fn by_deployment(deployment: DeploymentId) -> BTreeMap<String, String> {
    BTreeMap::from([(labels::DEPLOYMENT.to_owned(), deployment.to_string())])
}

/// The next event about `id` matching `want`, skipping others; panics after `within`.
pub async fn wait_event(
    rx: &mut EventReceiver,
    id: &InstanceId,
    within: Duration,
    want: impl Fn(&RuntimeEventKind) -> bool,
) -> RuntimeEvent {
    let deadline = tokio::time::Instant::now() + within;
    loop {
        let event = tokio::time::timeout_at(deadline, rx.recv())
            .await
            .unwrap_or_else(|_| panic!("no matching event for {id} within {within:?}"))
            .expect("event stream closed");
        if &event.instance == id && want(&event.kind) {
            return event;
        }
    }
}

/// All events about `id` arriving within `window`.
pub async fn events_within(
    rx: &mut EventReceiver,
    id: &InstanceId,
    window: Duration,
) -> Vec<RuntimeEventKind> {
    let deadline = tokio::time::Instant::now() + window;
    let mut out = Vec::new();
    while let Ok(Some(e)) = tokio::time::timeout_at(deadline, rx.recv()).await {
        if &e.instance == id {
            out.push(e.kind);
        }
    }
    out
}

/// Stops and removes every instance of `deployment` through the runtime (a deprovision).
pub async fn deprovision(rt: &DockerRuntime, deployment: DeploymentId) {
    for info in rt.list(&by_deployment(deployment)).await.expect("list") {
        rt.stop(&info.id, Duration::from_secs(1))
            .await
            .expect("stop");
        rt.remove(&info.id).await.expect("remove");
    }
}

/// On drop (a test that passed or panicked alike), force-removes every container, network and
/// volume labelled with its deployment, and the extra names given. A safety net: tests assert
/// their own clean-up through the runtime before it runs.
pub struct Leftovers {
    pub deployment: DeploymentId,
    pub volumes: Vec<String>,
}

impl Leftovers {
    pub fn new(deployment: DeploymentId) -> Self {
        Leftovers {
            deployment,
            volumes: Vec::new(),
        }
    }
}

impl Drop for Leftovers {
    fn drop(&mut self) {
        let deployment = self.deployment.to_string();
        let volumes = std::mem::take(&mut self.volumes);
        let cleanup = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("cleanup runtime");
            rt.block_on(sweep(deployment, volumes));
        });
        let _ = cleanup.join();
    }
}

async fn sweep(deployment: String, extra_volumes: Vec<String>) {
    let Ok(docker) = Docker::connect_with_defaults() else {
        return;
    };
    let Ok(docker) = docker.negotiate_version().await else {
        return;
    };
    let by_dep = HashMap::from([(
        "label".to_owned(),
        vec![format!("{}={deployment}", labels::DEPLOYMENT)],
    )]);
    let containers = docker
        .list_containers(Some(ListContainersOptions {
            all: true,
            filters: Some(by_dep),
            ..ListContainersOptions::default()
        }))
        .await
        .unwrap_or_default();
    for c in containers.into_iter().filter_map(|c| c.id) {
        let _ = docker
            .remove_container(
                &c,
                Some(RemoveContainerOptions {
                    force: true,
                    v: true,
                    ..RemoveContainerOptions::default()
                }),
            )
            .await;
    }
    let created = HashMap::from([(
        "label".to_owned(),
        vec![format!("{CREATED_BY_LABEL}={deployment}")],
    )]);
    let networks = docker
        .list_networks(Some(ListNetworksOptions {
            filters: Some(created.clone()),
        }))
        .await
        .unwrap_or_default();
    for n in networks.into_iter().filter_map(|n| n.name) {
        let _ = docker.remove_network(&n).await;
    }
    let mut volumes: Vec<String> = docker
        .list_volumes(Some(ListVolumesOptions {
            filters: Some(created),
        }))
        .await
        .ok()
        .and_then(|v| v.volumes)
        .unwrap_or_default()
        .into_iter()
        .map(|v| v.name)
        .collect();
    volumes.extend(extra_volumes);
    for v in volumes {
        let _ = docker
            .remove_volume(&v, None::<bollard::query_parameters::RemoveVolumeOptions>)
            .await;
    }
}
