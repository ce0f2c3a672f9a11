//! A start killed half-way never blocks its name. A start claims an instance's name by renaming
//! a directory that already holds the record into place, so a killed start leaves either a
//! whole record or nothing under the name. Before, the name was claimed with an empty directory
//! first: a start killed right after it left a directory that blocked every later start
//! ("already exists") while no listing showed it (found by the engine-kill test under load:
//! the robot ended `LaunchFailure`, "exists but cannot be found").

mod common;

use std::collections::BTreeMap;
use std::time::Duration;

use common::{TempRoot, builder, next_event, spec};
use robodeploy_core::runtime::{InstanceState, Runtime, RuntimeError};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bare_directory_left_under_a_name_does_not_block_its_start() {
    let root = TempRoot::new("claims-bare");
    let rt = builder(&root).kill_on_drop(true).build().unwrap();
    let mut events = rt.events().await.unwrap();
    let s = spec("c", "e", &["sleep", "30"]);
    // What an older runtime killed between claiming the name and writing the record left.
    let instances = root.path().join("instances");
    std::fs::create_dir_all(instances.join(&s.name)).unwrap();
    assert!(rt.list(&BTreeMap::new()).await.unwrap().is_empty());

    let id = rt.start(&s).await.expect("the bare directory gives way");
    next_event(&mut events, &id, Duration::from_secs(10)).await;
    let info = rt.inspect(&id).await.unwrap();
    assert!(
        matches!(info.state, InstanceState::Running { .. }),
        "{info:?}"
    );
    // A second start of the name is refused, as always.
    assert!(matches!(
        rt.start(&s).await,
        Err(RuntimeError::AlreadyExists(_))
    ));
    rt.stop(&id, Duration::from_secs(5)).await.unwrap();
    rt.remove(&id).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn claims_of_dead_processes_are_swept_and_never_listed() {
    let root = TempRoot::new("claims-stale");
    let instances = root.path().join("instances");
    std::fs::create_dir_all(&instances).unwrap();
    // A claim a killed start left (its pid is gone), holding a record; and one of this
    // process (alive), which is not swept.
    let mut child = std::process::Command::new("true").spawn().unwrap();
    let dead = child.id();
    child.wait().unwrap();
    let stale = instances.join(format!(".claim-rd-x-main-node-{dead}-0"));
    let mine = instances.join(format!(".claim-rd-y-main-node-{}-7", std::process::id()));
    for dir in [&stale, &mine] {
        std::fs::create_dir_all(dir).unwrap();
        std::fs::write(dir.join("instance.json"), "{}").unwrap();
    }
    let rt = builder(&root).kill_on_drop(true).build().unwrap();
    assert!(!stale.exists(), "the dead start's claim is swept");
    assert!(mine.exists(), "a live process's claim is left alone");
    assert!(rt.list(&BTreeMap::new()).await.unwrap().is_empty());
}
