//! Deploys the sample talker and listener as containers on the local Docker engine.
//!
//! Loads `examples/manifests/talker-listener-docker.yaml`, registers its robot `dock-001` with a
//! Docker runtime on the local engine (honouring `DOCKER_HOST`), deploys the talker, then the
//! listener that depends on it, waits until both run, prints a few lines of the listener's log,
//! and deprovisions both. No registry is needed: when the engine lacks `busybox:latest`, the
//! example imports one from the host's static busybox (`apt-get install busybox-static`).
//!
//! Run: `cargo run -p robodeploy-examples --bin docker`.

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
            println!("importing busybox:latest from /bin/busybox (no registry needed)");
            robodeploy_docker::test_image::ensure_busybox_image(
                &runtime,
                "busybox",
                "latest",
                Path::new("/bin/busybox"),
            )
            .await?;
        }
        engine.add_device(robot.clone(), Arc::new(runtime)).await?;
    }
    for package in manifest.packages() {
        engine.add_package(package.clone()).await?;
    }

    // Dependencies first.
    let mut graph = DependencyGraph::new();
    for d in manifest.deployments() {
        graph.add(d.name.clone(), d.depends_on.iter().cloned());
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
        println!("{name}: {} / {}", status.phase, status.status);
        for exe in &status.executables {
            println!(
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
        println!("listener log:");
        while let Some(line) = logs.recv().await {
            println!("  {}", line.line);
        }
    }

    for (name, id) in ids.iter().rev() {
        engine.deprovision(*id).await?;
        let status = engine.wait_for(*id, Until::Stopped, TIMEOUT).await?;
        println!("{name}: {}", status.phase);
    }
    engine.shutdown().await?;
    Ok(())
}
