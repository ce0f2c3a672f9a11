//! Environment values stay where they must be (each instance's `instance.json`, 0600, and what
//! the executable itself prints) and nowhere else the runtime writes: not the supervisor's log,
//! not the process or exit records, not an error message, not an inspection, whether the
//! executable runs, fails to start or exits with an error.

mod common;

use std::path::Path;
use std::time::Duration;

use common::{TempRoot, builder, next_event, next_exit, spec};
use robodeploy_core::runtime::Runtime;

const CANARY: &str = "canary-5b2e-process-secret";

/// Every file under `dir` but the instance records and the executables' own output, as
/// `(path, content)`.
fn written(dir: &Path, out: &mut Vec<(String, String)>) {
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let path = entry.path();
        if path.is_dir() {
            written(&path, out);
            continue;
        }
        let name = entry.file_name().to_string_lossy().into_owned();
        if name == "instance.json" || name.starts_with("output.log") {
            continue;
        }
        if let Ok(bytes) = std::fs::read(&path) {
            out.push((
                path.display().to_string(),
                String::from_utf8_lossy(&bytes).into_owned(),
            ));
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_canary_environment_value_is_only_in_the_instance_record() {
    let root = TempRoot::new("secrets");
    let rt = builder(&root).kill_on_drop(true).build().unwrap();
    let mut events = rt.events().await.unwrap();
    let mut seen = String::new();

    // Runs, then is stopped.
    let mut running = spec("c", "runs", &["sleep", "30"]);
    running.env.insert("TOKEN".into(), CANARY.into());
    let id = rt.start(&running).await.unwrap();
    next_event(&mut events, &id, Duration::from_secs(5)).await;
    seen.push_str(&format!("{:?}", rt.inspect(&id).await.unwrap()));
    seen.push_str(&format!(
        "{:?}",
        rt.list(&Default::default()).await.unwrap()
    ));
    // Exits with an error.
    let mut failing = spec("c", "fails", &["sh", "-c", "exit 3"]);
    failing.env.insert("TOKEN".into(), CANARY.into());
    let failed = rt.start(&failing).await.unwrap();
    next_event(&mut events, &failed, Duration::from_secs(5)).await;
    assert_eq!(next_exit(&mut events, &failed).await.0, 3);
    seen.push_str(&format!("{:?}", rt.inspect(&failed).await.unwrap()));
    // Cannot start: no such program.
    let mut missing = spec("c", "missing", &["/nonexistent/program"]);
    missing.env.insert("TOKEN".into(), CANARY.into());
    match rt.start(&missing).await {
        Err(e) => seen.push_str(&format!("{e} {e:?}")),
        Ok(id) => {
            next_event(&mut events, &id, Duration::from_secs(5)).await;
            let (code, _) = next_exit(&mut events, &id).await;
            assert_ne!(code, 0);
            seen.push_str(&format!("{:?}", rt.inspect(&id).await.unwrap()));
        }
    }
    // A duplicate start is refused: its error must not quote the spec either.
    if let Err(e) = rt.start(&running).await {
        seen.push_str(&format!("{e} {e:?}"));
    }
    rt.stop(&id, Duration::from_secs(5)).await.unwrap();
    next_exit(&mut events, &id).await;

    // The record holds the value (the check would see it), nothing else does.
    let record = std::fs::read_to_string(rt.instance_dir(&id).join("instance.json")).unwrap();
    assert!(record.contains(CANARY));
    let mut files = Vec::new();
    written(root.path(), &mut files);
    assert!(
        files.iter().any(|(p, _)| p.ends_with("supervisor.log")),
        "{files:?}"
    );
    for (path, content) in &files {
        assert!(
            !content.contains(CANARY),
            "{path} holds the canary:\n{content}"
        );
    }
    assert!(
        !seen.contains(CANARY),
        "an answer holds the canary:\n{seen}"
    );
}
