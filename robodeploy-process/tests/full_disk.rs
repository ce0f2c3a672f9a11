//! A runtime root on a full file system: no write to a log stops supervision, exits are still
//! reported (and recorded once there is room), the device stays healthy, a start says the disk
//! is full, and everything works again once space is back.
//!
//! The test mounts a small tmpfs of its own, which needs root (or CAP_SYS_ADMIN). Where
//! mounting is not permitted it says so and passes, unless `CI` or
//! `ROBODEPLOY_REQUIRE_FS_FAULTS=1` is set: then it fails.

mod common;

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use common::{
    SHIM, eventually, next_event, next_exit, processes_with_argv, processes_with_argv_ending, spec,
    unique,
};
use robodeploy_core::model::ErrorCode;
use robodeploy_core::runtime::{InstanceState, Runtime, RuntimeError, RuntimeEventKind};
use robodeploy_process::shim::SHIM_ARG;
use robodeploy_process::{ProcessRuntime, Shim};
use robodeploy_testkit::tmpfs::{Tmpfs, fill};

/// A small tmpfs holding a runtime root (`<mount>/root`); whatever still runs from that root
/// (after a failed assertion) is killed before it is unmounted, or the unmount is refused.
struct Disk(Tmpfs);

impl Disk {
    fn mount(size: &str) -> Option<Disk> {
        let dir = std::env::temp_dir().join(format!(
            "rd-process-full-{}-{}",
            std::process::id(),
            unique()
        ));
        Tmpfs::mount(dir, size, "0700").map(Disk)
    }
}

impl Drop for Disk {
    fn drop(&mut self) {
        for pid in supervisors(&self.0.path().join("root")) {
            let _ = Command::new("kill").args(["-9", &pid.to_string()]).status();
        }
    }
}

/// Pids of the supervisors serving `root`.
fn supervisors(root: &Path) -> Vec<u32> {
    processes_with_argv_ending(&[SHIM_ARG, root.to_str().unwrap()])
}

fn running_pid(state: &InstanceState) -> u32 {
    match state {
        InstanceState::Running { pid: Some(pid), .. } => *pid,
        other => panic!("not running: {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_disk_stops_no_supervision_and_everything_recovers_once_space_is_back() {
    let Some(disk) = Disk::mount("2m") else {
        return;
    };
    let root = disk.0.path().join("root");
    let filler = disk.0.path().join("filler");
    let rt = ProcessRuntime::builder(&root)
        .shim(Shim::Program(SHIM.into()))
        .build()
        .unwrap();
    let mut events = rt.events().await.unwrap();
    // Long lines, so a page of the log fills within a fraction of a second.
    let chatty = |what: &str| {
        vec![
            "sh".to_owned(),
            "-c".to_owned(),
            format!(
                "while :; do echo {what}-{}; sleep 0.01; done",
                "z".repeat(300)
            ),
        ]
    };
    let mut doomed = spec("c", "doomed", &[]);
    doomed.command = chatty("doomed");
    let mut survivor = spec("c", "survivor", &[]);
    survivor.command = chatty("survivor");
    let marker = unique().to_string();
    let quiet = spec("c", "quiet", &["sleep", &marker]);
    let mut ids = Vec::new();
    for s in [&doomed, &survivor, &quiet] {
        let id = rt.start(s).await.unwrap();
        next_event(&mut events, &id, Duration::from_secs(5)).await;
        ids.push(id);
    }
    let (doomed_id, survivor_id, quiet_id) = (&ids[0], &ids[1], &ids[2]);

    // The disk fills up under running instances that write output all the time.
    fill(&filler);
    tokio::time::sleep(Duration::from_millis(300)).await;
    fill(&filler);
    // Full for the survivor's log too: it stops growing (its last page is used up).
    let survivor_log = rt.instance_dir(&ids[1]).join("output.log");
    let size = || std::fs::metadata(&survivor_log).map_or(0, |m| m.len());
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    loop {
        let before = size();
        tokio::time::sleep(Duration::from_millis(300)).await;
        fill(&filler);
        if size() == before {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the log never stopped growing"
        );
    }

    // An exit is still reported, and the status says so, though exit.json has no room.
    let doomed_pid = running_pid(&rt.inspect(doomed_id).await.unwrap().state);
    rustix::process::kill_process_group(
        rustix::process::Pid::from_raw(doomed_pid as i32).unwrap(),
        rustix::process::Signal::KILL,
    )
    .unwrap();
    assert_eq!(next_exit(&mut events, doomed_id).await, (137, false));
    assert!(
        matches!(
            rt.inspect(doomed_id).await.unwrap().state,
            InstanceState::Exited { exit_code: 137, .. }
        ),
        "{:?}",
        rt.inspect(doomed_id).await
    );
    let doomed_dir = rt.instance_dir(doomed_id);
    assert!(
        !doomed_dir.join("exit.json").exists(),
        "the disk was not full"
    );

    // The device is reachable: a full disk is no offline device.
    rt.health().await.unwrap();

    // A start says why it cannot run, and leaves nothing behind.
    let blocked = spec("c", "blocked", &["sh", "-c", "exit 0"]);
    let err = rt.start(&blocked).await.unwrap_err();
    assert!(err.to_string().contains("No space left on device"), "{err}");
    assert!(err.to_string().contains("disk is full"), "{err}");
    assert_eq!(err.error_code(false, false), ErrorCode::InternalDevice(300));
    assert!(err.is_retryable(), "{err:?}");
    assert!(matches!(&err, RuntimeError::Internal { .. }), "{err:?}");
    assert!(
        !rt.instance_dir(&robodeploy_core::runtime::InstanceId(blocked.name.clone()))
            .exists()
    );

    // Stopping works on a full disk.
    rt.stop(quiet_id, Duration::from_secs(5)).await.unwrap();
    assert_eq!(next_exit(&mut events, quiet_id).await, (143, false));
    assert!(processes_with_argv(&["sleep", &marker]).is_empty());

    // Space is back: the pending exit record is written, output flows again with a note of
    // what was lost, and a start works.
    std::fs::remove_file(&filler).unwrap();
    assert!(
        eventually(Duration::from_secs(5), || doomed_dir
            .join("exit.json")
            .exists())
        .await,
        "exit.json never written"
    );
    let exit: serde_json::Value =
        serde_json::from_slice(&std::fs::read(doomed_dir.join("exit.json")).unwrap()).unwrap();
    assert_eq!(exit["exitCode"], 137);
    assert!(
        eventually(Duration::from_secs(5), || std::fs::read_to_string(
            &survivor_log
        )
        .is_ok_and(
            |t| t.contains("line(s) of output lost: No space left on device")
        ))
        .await,
        "no note of the lost output"
    );
    let after = spec("c", "after", &["sh", "-c", "echo after; exit 0"]);
    let after_id = rt.start(&after).await.unwrap();
    assert_eq!(
        next_event(&mut events, &after_id, Duration::from_secs(5))
            .await
            .kind,
        RuntimeEventKind::Started
    );
    assert_eq!(next_exit(&mut events, &after_id).await, (0, false));
    let mut logs = rt.logs(&after_id, Default::default()).await.unwrap();
    assert_eq!(logs.recv().await.unwrap().line, "after");
    // The supervisor's own log says the disk was full (as written then, or as a note of the
    // diagnostics it lost, once it could write again).
    let sup_log = std::fs::read_to_string(root.join("supervisor.log")).unwrap();
    assert!(sup_log.contains("No space left on device"), "{sup_log}");

    // Deprovision: everything stops and goes, and the supervisor leaves.
    rt.stop(survivor_id, Duration::from_secs(5)).await.unwrap();
    for id in [doomed_id, survivor_id, quiet_id, &after_id] {
        rt.remove(id).await.unwrap();
    }
    drop(rt);
    assert!(
        eventually(Duration::from_secs(5), || supervisors(&root).is_empty()).await,
        "the supervisor stayed"
    );
}
