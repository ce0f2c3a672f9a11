//! Deploys the sample talker and listener as containers on the local Docker engine.
//!
//! Loads `examples/manifests/talker-listener-docker.yaml`, registers its robot `dock-001` with a
//! Docker runtime on the local engine (honouring `DOCKER_HOST`), deploys the talker, then the
//! listener that depends on it, waits until both run, prints a few lines of the listener's log,
//! and deprovisions both. No registry is needed: when the engine lacks `busybox:latest`, the
//! example imports one under that name, from the host's static busybox where one is installed
//! (`apt-get install busybox-static`), else from the host's own `sh`, `sleep` and `echo`.
//!
//! Run: `cargo run -p robodeploy-examples --bin docker`.

use robodeploy_examples::say;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use robodeploy_core::engine::{Engine, Until};
use robodeploy_core::lifecycle::DependencyGraph;
use robodeploy_core::manifest::Manifest;
use robodeploy_core::runtime::LogOptions;
use robodeploy_docker::{DockerRuntime, Placement};

const TIMEOUT: Duration = Duration::from_secs(120);

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let path = PathBuf::from(robodeploy_examples::MANIFEST_DIR).join("talker-listener-docker.yaml");
    let manifest = Manifest::load(&path)?;
    let engine = Engine::builder().start();
    let fleet = manifest.fleets().next().ok_or("no fleet in the manifest")?;
    for robot in &fleet.robots {
        let runtime = DockerRuntime::local(Placement::Device)?;
        if robot.name == "dock-001" && !runtime.has_image("busybox:latest").await? {
            import_busybox(&runtime).await?;
        }
        engine.add_device(robot.clone(), Arc::new(runtime)).await?;
    }
    for package in manifest.packages() {
        engine.add_package(package.clone()).await?;
    }

    // Dependencies first, the routed network among them (each is waited for until Running).
    let mut graph = DependencyGraph::new();
    for d in manifest.deployments() {
        graph.add(d.name.clone(), d.prerequisites().map(str::to_owned));
    }
    let order = graph.start_order()?;
    let mut ids = Vec::new();
    for name in &order {
        let Some(req) = manifest.deployments().find(|d| &d.name == name) else {
            continue;
        };
        let id = engine
            .deploy(req.clone(), Some(&format!("docker-example-{name}")))
            .await?;
        let status = engine.wait_for(id, Until::Running, TIMEOUT).await?;
        say!("{name}: {} / {}", status.phase, status.status);
        for exe in &status.executables {
            say!(
                "  {}/{} on {}: {:?} (container {})",
                exe.component,
                exe.name,
                exe.device.as_deref().unwrap_or("cloud"),
                exe.status,
                exe.instance.as_deref().unwrap_or("-")
            );
        }
        ids.push((name.clone(), id));
    }

    tokio::time::sleep(Duration::from_secs(2)).await;
    if let Some((_, listener)) = ids.iter().find(|(n, _)| n == "listener-docker") {
        let opts = LogOptions {
            tail: Some(3),
            follow: false,
        };
        let mut logs = engine.logs(*listener, "listener", "listener", opts).await?;
        say!("listener log:");
        while let Some(line) = logs.recv().await {
            say!("  {}", line.line);
        }
    }

    for (name, id) in ids.iter().rev() {
        engine.deprovision(*id).await?;
        let status = engine.wait_for(*id, Until::Stopped, TIMEOUT).await?;
        say!("{name}: {}", status.phase);
    }
    engine.shutdown().await?;
    Ok(())
}

/// Imports `busybox:latest`: from the host's static busybox when there is one, else from the
/// host's own commands (the manifest's scripts need only `sh`, `echo` and `sleep`).
async fn import_busybox(runtime: &DockerRuntime) -> Result<(), Box<dyn std::error::Error>> {
    use robodeploy_docker::test_image::{DEFAULT_BUSYBOX, ensure_busybox_image, ensure_image};
    let busybox = Path::new(DEFAULT_BUSYBOX);
    if busybox.exists() {
        say!("importing busybox:latest from {DEFAULT_BUSYBOX} (no registry needed)");
        ensure_busybox_image(runtime, "busybox", "latest", busybox).await?;
    } else {
        say!("importing busybox:latest from the host's own commands (no registry needed)");
        ensure_image(runtime, "busybox", "latest").await?;
    }
    Ok(())
}
