//! Steps on a live engine that many tests take the same way.

use robodeploy_core::engine::Engine;
use robodeploy_core::model::Package;

use crate::model::fleet;

/// Adds `package` to the engine's catalog and a fleet named `fleet` of every device the engine
/// has: what a job needs before it is created.
pub async fn add_package_and_fleet(engine: &Engine, package: Package) {
    engine
        .add_package(package)
        .await
        .expect("adding the package");
    let robots = engine.devices().await.expect("listing the devices");
    engine
        .add_fleet(fleet("fleet", robots))
        .await
        .expect("adding the fleet");
}

/// Registers an amd64 preinstalled device `name` on a fresh in-memory runtime, and returns the
/// runtime (to make its executables exit, go missing or stop answering).
pub async fn memory_device(
    engine: &Engine,
    name: &str,
) -> std::sync::Arc<robodeploy_core::runtime::MemoryRuntime> {
    let rt = std::sync::Arc::new(robodeploy_core::runtime::MemoryRuntime::new(name));
    engine
        .add_device(
            crate::model::device(name, robodeploy_core::model::DeviceRuntime::Preinstalled),
            rt.clone(),
        )
        .await
        .expect("adding the device");
    rt
}

/// Asserts what a job's scripts and launch noted for `robot` in `notes/<robot>`, by the tests'
/// convention (each appends `<what> $SITE`, the site being `lab`): the pre-launch script
/// first, then the launch and the post-launch script, each exactly once.
///
/// # Panics
/// When the notes say otherwise, or cannot be read.
pub fn assert_scripts_noted(notes: &std::path::Path, robot: &str) {
    let text = std::fs::read_to_string(notes.join(robot)).expect("the robot's notes");
    let mut lines: Vec<&str> = text.lines().collect();
    // The pre-launch script finished before the application was created.
    assert_eq!(lines.first(), Some(&"pre lab"), "{robot}: {text}");
    lines.sort_unstable();
    assert_eq!(
        lines,
        ["launched app lab", "post lab", "pre lab"],
        "{robot}"
    );
}
