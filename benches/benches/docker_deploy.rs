//! Deploying 20 busybox `sleep` executables until all run, then stopping and removing them, on
//! the local Docker engine, three ways side by side in one run:
//!
//! - `robodeploy_engine`: the engine, as an application uses it: a package of one component with
//!   20 executables deployed to a device served by the Docker runtime, waited for until Running
//!   (every executable running, from the engine's status), then deprovisioned and waited for
//!   until the deployment is Stopped (every container stopped and removed);
//! - `robodeploy`: the Docker runtime alone, every executable prepared and started concurrently,
//!   then listed by label to confirm all run, then stopped and removed concurrently;
//! - `bollard_sequential`: the same create and start calls made directly with bollard, one after
//!   another, the same listing, then stop and remove one after another;
//! - `bollard_concurrent`: the daemon's own floor for this work: the same calls made directly
//!   with bollard, all 20 creates+starts at once, then all 20 stops+removes at once, no
//!   listing, no checks;
//! - `compose`: `docker-compose up -d` and `docker-compose down` on `benches/compose/deploy20.yml`.
//!
//! Stops use a zero grace period everywhere (`down -t 0`): `sleep` as PID 1 ignores SIGTERM, and
//! the figure is about orchestration, not about waiting out a grace period.
//!
//! Run: `cargo bench -p robodeploy-benches --bench docker_deploy -- --warm-up-time 1 --measurement-time 3`
//! (skipped with a message when no engine answers).

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use bollard::Docker;
use bollard::models::{ContainerCreateBody, HostConfig};
use bollard::query_parameters::{
    CreateContainerOptions, ListContainersOptions, RemoveContainerOptions, StopContainerOptions,
};
use criterion::{Criterion, criterion_group, criterion_main};
use futures_util::future::join_all;
use std::sync::Arc;

use robodeploy_core::engine::{Engine, EngineConfig, Until};
use robodeploy_core::lifecycle::LifecycleConfig;
use robodeploy_core::model::{
    Architecture, Component, DeploymentId, DeploymentRequest, Device, DeviceRuntime, Executable,
    Package, Placement as ComponentPlacement, RestartPolicy, Version,
};
use robodeploy_core::runtime::{InstanceSpec, InstanceState, Runtime, labels};
use robodeploy_docker::test_image::{DEFAULT_BUSYBOX, ensure_busybox_image};
use robodeploy_docker::{DockerRuntime, Placement};

const EXECUTABLES: usize = 20;
const REPO: &str = "robodeploy-test/busybox";
const TAG: &str = "1";

fn image() -> String {
    format!("{REPO}:{TAG}")
}

fn compose_file() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("compose/deploy20.yml")
}

fn specs(dep: DeploymentId) -> Vec<InstanceSpec> {
    (0..EXECUTABLES)
        .map(|i| {
            let mut s = InstanceSpec::new(dep, "bench", &format!("exe{i:02}"), "bench", "1");
            s.image = Some(image());
            s.command = vec!["sleep".into(), "600".into()];
            s
        })
        .collect()
}

const DEVICE: &str = "bench-robot";
/// How long one wait on the engine may take before the bench fails.
const WAIT: Duration = Duration::from_secs(300);

fn package(name: &str) -> Package {
    Package {
        name: name.into(),
        version: Version::new("1"),
        description: None,
        labels: Default::default(),
        components: vec![Component {
            name: "main".into(),
            placement: ComponentPlacement::Device {
                runtime: DeviceRuntime::Docker,
                architecture: Architecture::Amd64,
            },
            ros: None,
            restart_policy: Some(RestartPolicy::Always),
            shared: false,
            executables: (0..EXECUTABLES)
                .map(|i| Executable {
                    name: format!("exe{i:02}"),
                    image: Some(image()),
                    command: vec!["sleep".into(), "600".into()],
                    shell: false,
                    working_dir: None,
                    env: Default::default(),
                    ports: vec![],
                    mounts: vec![],
                })
                .collect(),
        }],
    }
}

fn request(name: &str, package: &str) -> DeploymentRequest {
    DeploymentRequest {
        name: name.into(),
        package: package.into(),
        version: Version::new("1"),
        labels: Default::default(),
        devices: [("main".to_owned(), DEVICE.to_owned())].into(),
        depends_on: vec![],
        volumes: vec![],
        routed_network: None,
        restart_policy: None,
        env: Default::default(),
    }
}

/// An engine with one Docker device and the 20-executable package; stops use no grace period,
/// as everywhere in this bench.
async fn engine_for_bench() -> Engine {
    let lifecycle = LifecycleConfig {
        stop_grace: Duration::ZERO,
        ..LifecycleConfig::default()
    };
    let engine = Engine::builder()
        .config(EngineConfig::default().with_lifecycle(lifecycle))
        .start();
    let rt = DockerRuntime::local(Placement::Device).expect("client");
    engine
        .add_device(
            Device::new(DEVICE, Architecture::Amd64, DeviceRuntime::Docker),
            Arc::new(rt),
        )
        .await
        .expect("device");
    engine
        .add_package(package("bench20"))
        .await
        .expect("package");
    engine
}

async fn engine_cycle(engine: &Engine, n: usize) -> Duration {
    let t = Instant::now();
    let id = engine
        .deploy(request(&format!("bench20-{n}"), "bench20"), None)
        .await
        .expect("deploy");
    let running = engine
        .wait_for(id, Until::Running, WAIT)
        .await
        .expect("running");
    assert_eq!(running.executables.len(), EXECUTABLES);
    engine.deprovision(id).await.expect("deprovision");
    engine
        .wait_for(id, Until::Stopped, WAIT)
        .await
        .expect("stopped");
    t.elapsed()
}

async fn robodeploy_cycle(rt: &DockerRuntime) -> Duration {
    let dep = DeploymentId::new_random();
    let specs = specs(dep);
    let t = Instant::now();
    let ids: Vec<_> = join_all(specs.iter().map(|s| async move {
        rt.prepare(s).await.expect("prepare");
        rt.start(s).await.expect("start")
    }))
    .await;
    let selector = BTreeMap::from([(labels::DEPLOYMENT.to_owned(), dep.to_string())]);
    let listed = rt.list(&selector).await.expect("list");
    assert_eq!(listed.len(), EXECUTABLES);
    assert!(
        listed
            .iter()
            .all(|i| matches!(i.state, InstanceState::Running { .. }))
    );
    join_all(ids.iter().map(|id| async move {
        rt.stop(id, Duration::ZERO).await.expect("stop");
        rt.remove(id).await.expect("remove");
    }))
    .await;
    t.elapsed()
}

async fn bollard_cycle(docker: &Docker) -> Duration {
    let dep = DeploymentId::new_random();
    let specs = specs(dep);
    let t = Instant::now();
    let mut ids = Vec::with_capacity(EXECUTABLES);
    for s in &specs {
        let body = ContainerCreateBody {
            image: Some(image()),
            cmd: Some(s.command.clone()),
            labels: Some(s.labels.clone().into_iter().collect()),
            host_config: Some(HostConfig::default()),
            ..ContainerCreateBody::default()
        };
        let options = CreateContainerOptions {
            name: Some(s.name.clone()),
            ..CreateContainerOptions::default()
        };
        let id = docker
            .create_container(Some(options), body)
            .await
            .expect("create")
            .id;
        docker.start_container(&id, None).await.expect("start");
        ids.push(id);
    }
    let filters = HashMap::from([(
        "label".to_owned(),
        vec![format!("{}={dep}", labels::DEPLOYMENT)],
    )]);
    let listed = docker
        .list_containers(Some(ListContainersOptions {
            all: true,
            filters: Some(filters),
            ..ListContainersOptions::default()
        }))
        .await
        .expect("list");
    assert_eq!(listed.len(), EXECUTABLES);
    for id in &ids {
        docker
            .stop_container(
                id,
                Some(StopContainerOptions {
                    t: Some(0),
                    signal: None,
                }),
            )
            .await
            .expect("stop");
        docker
            .remove_container(id, None::<RemoveContainerOptions>)
            .await
            .expect("remove");
    }
    t.elapsed()
}

async fn bollard_concurrent_cycle(docker: &Docker) -> Duration {
    let dep = DeploymentId::new_random();
    let specs = specs(dep);
    let t = Instant::now();
    let ids: Vec<String> = join_all(specs.iter().map(|s| async move {
        let body = ContainerCreateBody {
            image: Some(image()),
            cmd: Some(s.command.clone()),
            labels: Some(s.labels.clone().into_iter().collect()),
            host_config: Some(HostConfig::default()),
            ..ContainerCreateBody::default()
        };
        let options = CreateContainerOptions {
            name: Some(s.name.clone()),
            ..CreateContainerOptions::default()
        };
        let id = docker
            .create_container(Some(options), body)
            .await
            .expect("create")
            .id;
        docker.start_container(&id, None).await.expect("start");
        id
    }))
    .await;
    join_all(ids.iter().map(|id| async move {
        let stop = StopContainerOptions {
            t: Some(0),
            signal: None,
        };
        docker.stop_container(id, Some(stop)).await.expect("stop");
        docker
            .remove_container(id, None::<RemoveContainerOptions>)
            .await
            .expect("remove");
    }))
    .await;
    t.elapsed()
}

fn compose(args: &[&str]) {
    let status = Command::new("docker-compose")
        .arg("-f")
        .arg(compose_file())
        .args(["-p", "rdbench"])
        .args(args)
        .output()
        .expect("docker-compose runs");
    assert!(
        status.status.success(),
        "docker-compose {args:?}: {}",
        String::from_utf8_lossy(&status.stderr)
    );
}

fn compose_cycle() -> Duration {
    let t = Instant::now();
    compose(&["up", "-d"]);
    compose(&["down", "-t", "0"]);
    t.elapsed()
}

fn docker_deploy(c: &mut Criterion) {
    let tokio = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("tokio");
    let rt = DockerRuntime::local(Placement::Device).expect("client");
    if let Err(e) = tokio.block_on(rt.health()) {
        eprintln!("docker_deploy: SKIPPED, no Docker engine reachable: {e}");
        return;
    }
    tokio
        .block_on(ensure_busybox_image(
            &rt,
            REPO,
            TAG,
            Path::new(DEFAULT_BUSYBOX),
        ))
        .expect("test image");
    let docker = tokio
        .block_on(
            Docker::connect_with_defaults()
                .expect("client")
                .negotiate_version(),
        )
        .expect("negotiate");

    let engine = tokio.block_on(engine_for_bench());
    let mut cycles = 0;

    let mut group = c.benchmark_group("docker_deploy_20");
    group.sample_size(10);
    group.bench_function("robodeploy_engine", |b| {
        b.iter_custom(|iters| {
            (0..iters)
                .map(|_| {
                    cycles += 1;
                    tokio.block_on(engine_cycle(&engine, cycles))
                })
                .sum()
        })
    });
    group.bench_function("robodeploy", |b| {
        b.iter_custom(|iters| {
            (0..iters)
                .map(|_| tokio.block_on(robodeploy_cycle(&rt)))
                .sum()
        })
    });
    group.bench_function("bollard_sequential", |b| {
        b.iter_custom(|iters| {
            (0..iters)
                .map(|_| tokio.block_on(bollard_cycle(&docker)))
                .sum()
        })
    });
    group.bench_function("bollard_concurrent", |b| {
        b.iter_custom(|iters| {
            (0..iters)
                .map(|_| tokio.block_on(bollard_concurrent_cycle(&docker)))
                .sum()
        })
    });
    group.bench_function("compose", |b| {
        b.iter_custom(|iters| (0..iters).map(|_| compose_cycle()).sum())
    });
    group.finish();
}

criterion_group!(benches, docker_deploy);
criterion_main!(benches);
