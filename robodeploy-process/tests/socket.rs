//! The supervisor's socket trusts no client: a start of an instance it already started is
//! refused, an overlong or malformed line gets an `error` answer and the connection answers on,
//! and the supervisor's own log stays capped whatever a client sends.

mod common;

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::time::Duration;

use common::{next_event, next_exit, processes_become, processes_with_argv, runtime, spec, unique};
use robodeploy_core::runtime::{Runtime, RuntimeEventKind};
use robodeploy_process::shim::{MAX_REQUEST_LINE, SUPERVISOR_LOG_LIMIT};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader, Lines};
use tokio::net::UnixStream;
use tokio::net::unix::{OwnedReadHalf, OwnedWriteHalf};

/// A raw client of a root's supervisor, greeted; holds the supervisor's pid.
struct Client {
    lines: Lines<BufReader<OwnedReadHalf>>,
    write: OwnedWriteHalf,
    supervisor: u32,
}

impl Client {
    async fn connect(root: &Path) -> Client {
        let stream = UnixStream::connect(root.join("supervisor.sock"))
            .await
            .expect("connect to the supervisor");
        let (read, write) = stream.into_split();
        let mut client = Client {
            lines: BufReader::new(read).lines(),
            write,
            supervisor: 0,
        };
        let greeting = client.line().await;
        let mut words = greeting.split(' ');
        assert_eq!(words.next(), Some("ready"), "{greeting:?}");
        client.supervisor = words.next().unwrap().parse().unwrap();
        client
    }

    async fn send(&mut self, bytes: &[u8]) {
        self.write.write_all(bytes).await.expect("send");
    }

    /// The next line the supervisor sends, within 10 s.
    async fn line(&mut self) -> String {
        tokio::time::timeout(Duration::from_secs(10), self.lines.next_line())
            .await
            .expect("an answer within 10 s")
            .expect("readable")
            .expect("the connection is open")
    }

    /// Whether the connection still answers: `watch` of an unknown instance gets `unknown`.
    async fn answers(&mut self) {
        let name = format!("probe-{}", unique());
        self.send(format!("watch {name} 1\n").as_bytes()).await;
        assert_eq!(self.line().await, format!("unknown {name}"));
    }
}

/// The peak resident memory of a process, in KiB.
fn peak_rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmHWM")
}

#[tokio::test]
async fn a_second_start_of_a_running_instance_is_refused_and_nothing_runs_twice() {
    let (rt, root) = runtime("sock-dup");
    let mut events = rt.events().await.unwrap();
    let marker = unique().to_string();
    let s = spec("c", "e", &["sleep", &marker]);
    let id = rt.start(&s).await.unwrap();
    next_event(&mut events, &id, Duration::from_secs(5)).await;
    let sleeper = ["sleep", marker.as_str()];
    assert!(processes_become(&sleeper, 1, Duration::from_secs(5)).await);

    let mut client = Client::connect(root.path()).await;
    client.send(format!("start {}\n", s.name).as_bytes()).await;
    let answer = client.line().await;
    assert!(
        answer.starts_with(&format!("failed {} exists ", s.name)),
        "{answer:?}"
    );
    client.answers().await;
    // Still one copy, and it is the one the runtime tracks: stopping it leaves none.
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(processes_with_argv(&sleeper).len(), 1);
    rt.stop(&id, Duration::from_secs(5)).await.unwrap();
    assert_eq!(next_exit(&mut events, &id).await, (143, false));
    assert!(processes_become(&sleeper, 0, Duration::from_secs(5)).await);

    // An instance that exited is not started again either: its name was used.
    client.send(format!("start {}\n", s.name).as_bytes()).await;
    let answer = client.line().await;
    assert!(
        answer.starts_with(&format!("failed {} exists ", s.name)),
        "{answer:?}"
    );
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(processes_with_argv(&sleeper).is_empty());
    assert!(matches!(
        rt.inspect(&id).await.unwrap().state,
        robodeploy_core::runtime::InstanceState::Exited { exit_code: 143, .. }
    ));
    rt.remove(&id).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_overlong_line_is_refused_without_being_buffered_and_the_connection_answers_on() {
    let (rt, root) = runtime("sock-long");
    let mut events = rt.events().await.unwrap();
    let id = rt.start(&spec("c", "e", &["sleep", "30"])).await.unwrap();
    next_event(&mut events, &id, Duration::from_secs(5)).await;
    let mut client = Client::connect(root.path()).await;
    let before = peak_rss_kib(client.supervisor);

    // 64 MiB without a newline, then a newline: one request, refused.
    let mut long = vec![b'x'; 64 << 20];
    long.push(b'\n');
    let (mut write, mut lines) = (client.write, client.lines);
    let sender = tokio::spawn(async move {
        write.write_all(&long).await.unwrap();
        write
    });
    let answer = tokio::time::timeout(Duration::from_secs(30), lines.next_line())
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    assert!(answer.starts_with("error "), "{answer:?}");
    assert!(answer.contains(&MAX_REQUEST_LINE.to_string()), "{answer:?}");
    assert!(
        answer.len() < 1024,
        "the answer echoes the line: {} bytes",
        answer.len()
    );
    client.write = sender.await.unwrap();
    client.lines = lines;
    client.answers().await;

    // Nothing of it was kept: not in memory, not in the log.
    let grown = peak_rss_kib(client.supervisor).saturating_sub(before);
    assert!(
        grown < 8 * 1024,
        "the supervisor's peak memory grew by {grown} KiB"
    );
    let log = std::fs::metadata(root.path().join("supervisor.log")).unwrap();
    assert!(
        log.len() < 64 * 1024,
        "supervisor.log holds {} bytes",
        log.len()
    );

    // The runtime's own connection was not disturbed.
    rt.stop(&id, Duration::from_secs(5)).await.unwrap();
    assert_eq!(next_exit(&mut events, &id).await, (143, false));
}

#[tokio::test]
async fn malformed_requests_get_an_error_and_never_stop_the_connection() {
    let (rt, root) = runtime("sock-bad");
    let mut events = rt.events().await.unwrap();
    let id = rt.start(&spec("c", "e", &["sleep", "30"])).await.unwrap();
    next_event(&mut events, &id, Duration::from_secs(5)).await;
    let mut client = Client::connect(root.path()).await;
    let bad: [&[u8]; 9] = [
        b"\n",
        b"hello\n",
        b"start\n",
        b"start ../../etc\n",
        b"start a b\n",
        b"watch x notapid\n",
        b"start \xff\xfe\n",
        b"\0\0\0\n",
        b"start a\0b\n",
    ];
    for line in bad {
        client.send(line).await;
        let answer = client.line().await;
        assert!(answer.starts_with("error "), "{line:?} got {answer:?}");
        // No raw control character comes back.
        assert!(!answer.contains('\0'), "{answer:?}");
        client.answers().await;
    }
    // A last line without its newline, then the client half-closes: still answered.
    client.send(b"bogus").await;
    client.write.shutdown().await.unwrap();
    assert!(client.line().await.starts_with("error "));
    // The supervisor still serves its runtime.
    let other = rt
        .start(&spec("c", "f", &["sh", "-c", "exit 3"]))
        .await
        .unwrap();
    assert_eq!(
        next_event(&mut events, &other, Duration::from_secs(5))
            .await
            .kind,
        RuntimeEventKind::Started
    );
    assert_eq!(next_exit(&mut events, &other).await, (3, false));
}

#[tokio::test]
async fn the_supervisors_own_log_is_capped_and_rotated_keeping_one_old_file() {
    let (rt, root) = runtime("sock-log");
    let mut events = rt.events().await.unwrap();
    let id = rt.start(&spec("c", "e", &["sleep", "30"])).await.unwrap();
    next_event(&mut events, &id, Duration::from_secs(5)).await;
    let mut client = Client::connect(root.path()).await;
    // Every malformed line is one diagnostic: send enough for three times the cap.
    let line = format!("bogus {}\n", "y".repeat(500));
    let count = 3 * SUPERVISOR_LOG_LIMIT as usize / 100;
    let batch = line.repeat(1000);
    for _ in 0..count / 1000 {
        client.send(batch.as_bytes()).await;
        for _ in 0..1000 {
            assert!(client.line().await.starts_with("error "));
        }
    }
    client.answers().await;
    let log = root.path().join("supervisor.log");
    let old = root.path().join("supervisor.log.1");
    for file in [&log, &old] {
        let meta = std::fs::metadata(file).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
        assert!(
            meta.len() <= SUPERVISOR_LOG_LIMIT,
            "{} holds {} bytes",
            file.display(),
            meta.len()
        );
        assert_eq!(
            meta.permissions().mode() & 0o777,
            0o600,
            "{}",
            file.display()
        );
    }
    assert!(!root.path().join("supervisor.log.2").exists());
    // The newest diagnostics are in the current file.
    let text = std::fs::read_to_string(&log).unwrap();
    assert!(text.contains("bogus"), "{text}");
    rt.stop(&id, Duration::from_secs(5)).await.unwrap();
}
