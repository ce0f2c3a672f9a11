//! Output: captured from both streams into the instance's log, tail, follow, rotation.

mod common;

use std::time::Duration;

use common::{TempRoot, builder, next_event, next_exit, runtime, spec};
use robodeploy_core::runtime::{LogLine, LogOptions, LogReceiver, LogStreamKind, Runtime};
use robodeploy_process::MIN_LOG_LIMIT;

async fn collect(mut rx: LogReceiver) -> Vec<LogLine> {
    let mut lines = Vec::new();
    while let Some(line) = tokio::time::timeout(Duration::from_secs(10), rx.recv())
        .await
        .expect("log stream ended")
    {
        lines.push(line);
    }
    lines
}

/// Starts `script` under `sh -c` as executable c/e.
async fn sh(rt: &impl Runtime, script: &str) -> robodeploy_core::runtime::InstanceId {
    rt.start(&spec("c", "e", &["sh", "-c", script]))
        .await
        .unwrap()
}

fn texts(lines: &[LogLine]) -> Vec<&str> {
    lines.iter().map(|l| l.line.as_str()).collect()
}

#[tokio::test]
async fn both_streams_are_captured_each_in_order_with_times_and_tail_keeps_the_last() {
    let (rt, _root) = runtime("tail");
    let mut events = rt.events().await.unwrap();
    let script = "echo one; echo two >&2; echo three; printf 'no newline'";
    let id = sh(&rt, script).await;
    next_event(&mut events, &id, Duration::from_secs(5)).await;
    next_exit(&mut events, &id).await;
    let all = collect(rt.logs(&id, LogOptions::default()).await.unwrap()).await;
    // Each stream keeps its order; the two pipes are read concurrently, so lines of different
    // streams written close together may swap.
    let of = |stream| -> Vec<&str> {
        all.iter()
            .filter(|l| l.stream == stream)
            .map(|l| l.line.as_str())
            .collect()
    };
    assert_eq!(of(LogStreamKind::Stdout), ["one", "three", "no newline"]);
    assert_eq!(of(LogStreamKind::Stderr), ["two"]);
    assert!(all.iter().all(|l| l.at.is_some()));
    let last_two = LogOptions {
        tail: Some(2),
        follow: false,
    };
    let tail = collect(rt.logs(&id, last_two).await.unwrap()).await;
    assert_eq!(tail[..], all[2..]);
    let more_than_all = LogOptions {
        tail: Some(100),
        follow: false,
    };
    assert_eq!(
        collect(rt.logs(&id, more_than_all).await.unwrap()).await,
        all
    );
}

#[tokio::test]
async fn follow_delivers_lines_as_they_come_and_ends_when_the_instance_exits() {
    let (rt, _root) = runtime("follow");
    let script = "echo first; sleep 0.3; echo second; sleep 0.3; echo third >&2; exit 2";
    let id = sh(&rt, script).await;
    let follow = LogOptions {
        tail: None,
        follow: true,
    };
    let mut rx = rt.logs(&id, follow).await.unwrap();
    // "first" arrives while the instance still runs.
    let first = tokio::time::timeout(Duration::from_secs(5), rx.recv())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(first.line, "first");
    assert!(matches!(
        rt.inspect(&id).await.unwrap().state,
        robodeploy_core::runtime::InstanceState::Running { .. }
    ));
    let rest = collect(rx).await;
    assert_eq!(texts(&rest), ["second", "third"]);
    assert_eq!(rest[1].stream, LogStreamKind::Stderr);
}

#[tokio::test]
async fn follow_with_tail_starts_from_the_last_lines() {
    let (rt, _root) = runtime("followtail");
    let script = "echo a; echo b; echo c; sleep 0.3; echo d";
    let id = sh(&rt, script).await;
    tokio::time::sleep(Duration::from_millis(150)).await;
    let options = LogOptions {
        tail: Some(1),
        follow: true,
    };
    let lines = collect(rt.logs(&id, options).await.unwrap()).await;
    assert_eq!(texts(&lines), ["c", "d"]);
}

#[tokio::test]
async fn output_rotates_at_the_limit_keeping_one_predecessor() {
    let root = TempRoot::new("rotate");
    let limit = MIN_LOG_LIMIT;
    let rt = builder(&root)
        .log_limit(limit)
        .kill_on_drop(true)
        .build()
        .unwrap();
    let mut events = rt.events().await.unwrap();
    // About 25 bytes a record: 4,000 lines are three times the limit.
    let script = "i=0; while [ $i -lt 4000 ]; do echo \"line $i\"; i=$((i+1)); done";
    let id = sh(&rt, script).await;
    next_event(&mut events, &id, Duration::from_secs(5)).await;
    assert_eq!(next_exit(&mut events, &id).await.0, 0);
    let dir = rt.instance_dir(&id);
    let current = std::fs::metadata(dir.join("output.log")).unwrap().len();
    let previous = std::fs::metadata(dir.join("output.log.1")).unwrap().len();
    assert!(
        current <= limit && previous <= limit,
        "{current} {previous} > {limit}"
    );
    assert!(
        previous > limit - 64,
        "the predecessor was rotated full: {previous}"
    );
    assert!(!dir.join("output.log.2").exists());
    // What is left is the newest output, in order, without a gap between the two files.
    let lines = collect(rt.logs(&id, LogOptions::default()).await.unwrap()).await;
    let numbers: Vec<u32> = lines
        .iter()
        .map(|l| l.line.strip_prefix("line ").unwrap().parse().unwrap())
        .collect();
    assert_eq!(numbers.last(), Some(&3999));
    assert!(numbers.len() < 4000 && numbers.len() as u64 > limit / 30);
    assert!(
        numbers.windows(2).all(|w| w[1] == w[0] + 1),
        "not consecutive"
    );
}

#[tokio::test]
async fn a_follower_keeps_up_across_rotations() {
    let root = TempRoot::new("rotfollow");
    let rt = builder(&root)
        .log_limit(MIN_LOG_LIMIT)
        .kill_on_drop(true)
        .build()
        .unwrap();
    // Slow enough (a pause every 500 lines) that the follower sees every file.
    let script = "i=0; while [ $i -lt 6000 ]; do echo \"line $i\"; i=$((i+1)); \
                  [ $((i % 500)) -eq 0 ] && sleep 0.1; done";
    let id = sh(&rt, script).await;
    let follow = LogOptions {
        tail: None,
        follow: true,
    };
    let lines = collect(rt.logs(&id, follow).await.unwrap()).await;
    let numbers: Vec<u32> = lines
        .iter()
        .map(|l| l.line.strip_prefix("line ").unwrap().parse().unwrap())
        .collect();
    assert_eq!(numbers, (0..6000).collect::<Vec<_>>());
}
