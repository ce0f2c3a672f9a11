//! An engine crash for real: this test runs itself as a child process (the "engine") that
//! starts instances and aborts. The executables keep running; a runtime created afterwards on
//! the same root adopts them, reads the exit status the shim kept for the one that ended while
//! no engine lived, and stops the other.

mod common;

use std::time::Duration;

use common::{TempRoot, builder, eventually, next_exit, spec};
use robodeploy_core::runtime::{InstanceId, InstanceState, Runtime};

/// Set in the child: the root it runs its engine on.
const ENGINE_ROOT: &str = "ROBODEPLOY_TEST_ENGINE_ROOT";

fn main() {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    match std::env::var_os(ENGINE_ROOT) {
        Some(root) => rt.block_on(crashing_engine(root.into())),
        None => {
            rt.block_on(executables_outlive_an_engine_crash());
            println!("test executables_outlive_an_engine_crash ... ok");
        }
    }
}

async fn crashing_engine(root: std::path::PathBuf) {
    let runtime = robodeploy_process::ProcessRuntime::builder(root)
        .shim(robodeploy_process::Shim::Program(common::SHIM.into()))
        .build()
        .unwrap();
    let names = [
        spec("c", "long", &["sh", "-c", "echo up; exec sleep 60"]),
        spec("c", "short", &["sh", "-c", "sleep 0.5; echo done; exit 5"]),
    ];
    for s in &names {
        let id = runtime.start(s).await.unwrap();
        println!("{id}");
    }
    std::process::abort();
}

async fn executables_outlive_an_engine_crash() {
    let root = TempRoot::new("crash");
    let engine = std::process::Command::new(std::env::current_exe().unwrap())
        .env(ENGINE_ROOT, root.path())
        .stderr(std::process::Stdio::null())
        .output()
        .unwrap();
    assert!(!engine.status.success(), "the engine aborts");
    let out = String::from_utf8(engine.stdout).unwrap();
    let ids: Vec<InstanceId> = out.lines().map(|l| InstanceId(l.to_owned())).collect();
    assert_eq!(ids.len(), 2, "engine output: {out}");
    let (long, short) = (&ids[0], &ids[1]);

    let runtime = builder(&root).kill_on_drop(true).build().unwrap();
    let mut events = runtime.events().await.unwrap();
    let InstanceState::Running { pid: Some(pid), .. } = runtime.inspect(long).await.unwrap().state
    else {
        panic!("the long executable died with its engine");
    };
    assert!(std::path::Path::new(&format!("/proc/{pid}")).exists());
    // The short one ends after the crash; its shim records the code.
    let short_dir = runtime.instance_dir(short);
    assert!(
        eventually(Duration::from_secs(5), || short_dir
            .join("exit.json")
            .exists())
        .await
    );
    assert!(matches!(
        runtime.inspect(short).await.unwrap().state,
        InstanceState::Exited { exit_code: 5, .. }
    ));
    let mut logs = runtime.logs(short, Default::default()).await.unwrap();
    assert_eq!(logs.recv().await.unwrap().line, "done");
    runtime.stop(long, Duration::from_secs(5)).await.unwrap();
    assert_eq!(next_exit(&mut events, long).await, (143, false));
    let mut logs = runtime.logs(long, Default::default()).await.unwrap();
    assert_eq!(logs.recv().await.unwrap().line, "up");
}
