//! An executable's limits on a process: memory as its address-space limit (read back from
//! `/proc/PID/limits`), the user it runs as (from `/proc/PID/status`), and what a process
//! cannot apply refused with the field named.

mod common;

use std::os::unix::fs::PermissionsExt;
use std::time::Duration;

use robodeploy_core::model::{DeviceMapping, Limits, Quantity};
use robodeploy_core::runtime::{InstanceState, Runtime, RuntimeError};

use common::{eventually, runtime, spec};

/// The running instance's pid once it runs `program` (after the limited exec).
async fn pid_running(
    rt: &robodeploy_process::ProcessRuntime,
    id: &robodeploy_core::runtime::InstanceId,
    program: &str,
) -> u32 {
    let InstanceState::Running { pid: Some(pid), .. } = rt.inspect(id).await.unwrap().state else {
        panic!("{id} is not running")
    };
    let is_program = || {
        std::fs::read(format!("/proc/{pid}/cmdline"))
            .is_ok_and(|c| c.split(|b| *b == 0).next() == Some(program.as_bytes()))
    };
    assert!(
        eventually(Duration::from_secs(10), is_program).await,
        "{pid} never ran {program}"
    );
    pid
}

/// The line of `/proc/PID/<file>` starting with `key`.
fn proc_line(pid: u32, file: &str, key: &str) -> String {
    std::fs::read_to_string(format!("/proc/{pid}/{file}"))
        .unwrap()
        .lines()
        .find(|l| l.starts_with(key))
        .unwrap_or_else(|| panic!("no {key} in /proc/{pid}/{file}"))
        .to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn memory_becomes_the_address_space_limit() {
    let (rt, _root) = runtime("limits-mem");
    let mut s = spec("main", "capped", &["sleep", "600"]);
    s.limits.memory = Some(Quantity::Text("256Mi".into()));
    let id = rt.start(&s).await.unwrap();
    let pid = pid_running(&rt, &id, "sleep").await;
    let line = proc_line(pid, "limits", "Max address space");
    let fields: Vec<&str> = line.split_whitespace().collect();
    assert_eq!(fields[3..], ["268435456", "268435456", "bytes"], "{line}");
    // Without a limit, none is set.
    let free = rt
        .start(&spec("main", "free", &["sleep", "600"]))
        .await
        .unwrap();
    let pid = pid_running(&rt, &free, "sleep").await;
    let line = proc_line(pid, "limits", "Max address space");
    assert_eq!(line.split_whitespace().nth(3), Some("unlimited"), "{line}");

    // The limit holds: a program that needs more than it allows cannot start its allocation.
    let mut greedy = spec(
        "main",
        "greedy",
        &[
            "sh",
            "-c",
            "head -c 300000000 /dev/zero | tr '\\0' x | { v=$(cat); echo ${#v}; }",
        ],
    );
    greedy.limits.memory = Some(Quantity::Text("64Mi".into()));
    let mut rx = rt.events().await.unwrap();
    let g = rt.start(&greedy).await.unwrap();
    common::next_event(&mut rx, &g, Duration::from_secs(10)).await; // started
    let (code, _) = common::next_exit(&mut rx, &g).await;
    assert_ne!(code, 0, "a shell holding 300 MB under a 64Mi limit fails");
    for id in [id, free] {
        rt.stop(&id, Duration::from_secs(1)).await.unwrap();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_user_is_applied_as_root_and_refused_otherwise() {
    let (rt, _root) = runtime("limits-user");
    let me = rustix::process::geteuid().as_raw();
    let mut s = spec("main", "nobody", &["sleep", "600"]);
    s.limits.user = Some("65534:65534".into());
    // The working directory must be one the user can enter: by default it is the engine's,
    // which may not be (a checkout under root's 0700 home).
    s.working_dir = Some("/".into());
    if me == 0 {
        // One it cannot enter: the start fails and says which directory, as which user.
        let private = _root.path().join("private");
        std::fs::create_dir(&private).unwrap();
        std::fs::set_permissions(&private, std::fs::Permissions::from_mode(0o700)).unwrap();
        let mut shut_out = spec("main", "shut-out", &["sleep", "600"]);
        shut_out.limits.user = Some("65534:65534".into());
        shut_out.working_dir = Some(private.to_str().unwrap().to_owned());
        let e = rt.start(&shut_out).await.unwrap_err().to_string();
        assert!(
            e.contains(&format!(
                "as user 65534:65534 in working directory {}",
                private.display()
            )) && e.contains("Permission denied"),
            "{e}"
        );
        let id = rt.start(&s).await.unwrap();
        let pid = pid_running(&rt, &id, "sleep").await;
        let uid: Vec<String> = proc_line(pid, "status", "Uid:")
            .split_whitespace()
            .map(str::to_owned)
            .collect();
        assert_eq!(uid[1..], ["65534", "65534", "65534", "65534"]);
        let gid: Vec<String> = proc_line(pid, "status", "Gid:")
            .split_whitespace()
            .map(str::to_owned)
            .collect();
        assert_eq!(gid[1..], ["65534", "65534", "65534", "65534"]);
        let groups = proc_line(pid, "status", "Groups:");
        assert_eq!(
            groups.split_whitespace().count(),
            1,
            "no root groups kept: {groups}"
        );
        rt.stop(&id, Duration::from_secs(1)).await.unwrap();
    } else {
        match rt.start(&s).await {
            Err(RuntimeError::InvalidSpec { field, message }) => {
                assert_eq!(field, "limits.user");
                assert!(
                    message.contains("needs the runtime to run as root"),
                    "{message}"
                );
            }
            other => panic!("{other:?}"),
        }
    }
    // One's own user is always accepted.
    let gid = rustix::process::getegid().as_raw();
    let mut own = spec("main", "own", &["sleep", "600"]);
    own.limits.user = Some(format!("{me}:{gid}"));
    let id = rt.start(&own).await.unwrap();
    let pid = pid_running(&rt, &id, "sleep").await;
    let uid = proc_line(pid, "status", "Uid:");
    assert_eq!(uid.split_whitespace().nth(1), Some(me.to_string().as_str()));
    rt.stop(&id, Duration::from_secs(1)).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn what_a_process_cannot_apply_is_refused_naming_the_field() {
    let (rt, _root) = runtime("limits-refuse");
    type Set = fn(&mut Limits);
    let cases: [(Set, &str); 5] = [
        (
            |l| l.cpu = Some(Quantity::Text("500m".into())),
            "limits.cpu",
        ),
        (
            |l| l.devices = vec![DeviceMapping::Path("/dev/null".into())],
            "limits.devices",
        ),
        (
            |l| l.read_only_root_filesystem = true,
            "limits.readOnlyRootFilesystem",
        ),
        (
            |l| l.capabilities = vec!["SYS_NICE".into()],
            "limits.capabilities",
        ),
        (|l| l.privileged = true, "limits.privileged"),
    ];
    for (set, want) in cases {
        let mut s = spec("main", "refused", &["sleep", "600"]);
        set(&mut s.limits);
        match rt.start(&s).await {
            Err(RuntimeError::InvalidSpec { field, message }) => {
                assert_eq!(field, want);
                assert!(message.contains("only containers"), "{message}");
            }
            other => panic!("{want}: {other:?}"),
        }
    }
    // Host network is what a process has anyway: accepted.
    let mut s = spec("main", "hostnet", &["sleep", "600"]);
    s.limits.host_network = true;
    s.host_network = true;
    let id = rt.start(&s).await.unwrap();
    rt.stop(&id, Duration::from_secs(1)).await.unwrap();
}
