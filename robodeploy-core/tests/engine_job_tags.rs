//! A job's tags (seed 004): in its report, readable and changeable after creation with
//! RoboMaker's rules, and stored so they survive a restart.

use std::collections::BTreeMap;
use std::sync::Arc;

use robodeploy_core::engine::{Engine, EngineError};
use robodeploy_core::model::{DeploymentJobRequest, Device, JobId};
use robodeploy_core::runtime::MemoryRuntime;
use robodeploy_core::store::MemoryStore;
use robodeploy_core::validate::{Report, ValidationError};
use serde_json::{Value, json};

fn from<T: serde::de::DeserializeOwned>(v: Value) -> T {
    serde_json::from_value(v).unwrap()
}

fn tags(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

fn device() -> Device {
    from(json!({"name": "r1", "architecture": "amd64", "runtime": "preinstalled"}))
}

/// An engine on `store` with robot r1, package demo@1 and fleet lab.
async fn engine(store: &Arc<MemoryStore>) -> Engine {
    let engine = Engine::builder().store(store.clone()).start();
    engine
        .add_device(device(), Arc::new(MemoryRuntime::new("r1")))
        .await
        .unwrap();
    engine
        .add_package(from(json!({
            "name": "demo", "version": "1",
            "components": [{
                "name": "main",
                "placement": {"kind": "device", "runtime": "preinstalled", "architecture": "amd64"},
                "executables": [{"name": "main", "command": ["/usr/bin/demo"]}]
            }]
        })))
        .await
        .unwrap();
    engine
        .add_fleet(from(json!({"name": "lab", "robots": [device()]})))
        .await
        .unwrap();
    engine
}

fn job(tags: Value) -> DeploymentJobRequest {
    from(json!({
        "fleet": "lab", "application": "demo", "applicationVersion": "1",
        "launchConfig": {"packageName": "demo", "launchFile": "demo.launch"},
        "deploymentConfig": {"concurrentDeploymentPercentage": 100,
                             "failureThresholdPercentage": 100},
        "tags": tags
    }))
}

fn refused(r: Result<(), EngineError>) -> Report {
    match r {
        Err(EngineError::Invalid(report)) => report,
        other => panic!("expected EngineError::Invalid, got {other:?}"),
    }
}

#[tokio::test]
async fn tags_are_in_the_report_and_can_be_added_overwritten_and_removed() {
    let store = Arc::new(MemoryStore::new());
    let engine = engine(&store).await;
    let id = engine
        .create_job(job(json!({"team": "nav", "site": "lab-1"})), None)
        .await
        .unwrap();
    let created = tags(&[("site", "lab-1"), ("team", "nav")]);
    assert_eq!(engine.job(id).await.unwrap().tags, created);
    assert_eq!(engine.job_tags(id).await.unwrap(), created);

    engine
        .tag_job(id, tags(&[("team", "perception"), ("stage", "")]))
        .await
        .unwrap();
    let tagged = tags(&[("site", "lab-1"), ("stage", ""), ("team", "perception")]);
    assert_eq!(engine.job_tags(id).await.unwrap(), tagged);
    assert_eq!(engine.job(id).await.unwrap().tags, tagged);
    assert_eq!(engine.jobs().await.unwrap()[0].tags, tagged);

    // A key the job does not have is ignored.
    engine
        .untag_job(id, &["site".into(), "absent".into()])
        .await
        .unwrap();
    let left = tags(&[("stage", ""), ("team", "perception")]);
    assert_eq!(engine.job_tags(id).await.unwrap(), left);
    // The report's JSON (what C and Python get) carries them.
    let report = serde_json::to_value(engine.job(id).await.unwrap()).unwrap();
    assert_eq!(report["tags"], json!({"stage": "", "team": "perception"}));
    engine.shutdown().await.unwrap();
}

#[tokio::test]
async fn tags_survive_a_restart() {
    let store = Arc::new(MemoryStore::new());
    let engine1 = engine(&store).await;
    let id = engine1
        .create_job(job(json!({"team": "nav"})), None)
        .await
        .unwrap();
    engine1
        .tag_job(id, tags(&[("release", "2026.12")]))
        .await
        .unwrap();
    engine1.untag_job(id, &["team".into()]).await.unwrap();
    engine1.detach().await.unwrap();

    let engine2 = Engine::builder().store(store.clone()).try_start().unwrap();
    assert_eq!(
        engine2.job_tags(id).await.unwrap(),
        tags(&[("release", "2026.12")])
    );
    assert_eq!(
        engine2.job(id).await.unwrap().tags,
        tags(&[("release", "2026.12")])
    );
    engine2.shutdown().await.unwrap();
}

#[tokio::test]
async fn tags_breaking_robomakers_rules_are_refused_naming_the_field_and_change_nothing() {
    let store = Arc::new(MemoryStore::new());
    let engine = engine(&store).await;
    let id = engine
        .create_job(job(json!({"team": "nav"})), None)
        .await
        .unwrap();
    let before = engine.job_tags(id).await.unwrap();

    let report = refused(engine.tag_job(id, tags(&[("aws:owner", "me")])).await);
    let e = &report.errors[0].problem;
    assert!(
        matches!(e, ValidationError::InvalidTagKey { key, .. } if key == "aws:owner"),
        "{e}"
    );
    assert_eq!(e.path().to_string(), r#"spec.tags["aws:owner"]"#);

    let long_key = "k".repeat(129);
    let report = refused(engine.tag_job(id, tags(&[(&long_key, "v")])).await);
    assert!(matches!(
        report.errors[0].problem,
        ValidationError::InvalidTagKey { .. }
    ));
    let report = refused(engine.tag_job(id, tags(&[("", "v")])).await);
    assert!(matches!(
        report.errors[0].problem,
        ValidationError::InvalidTagKey { .. }
    ));

    let long_value = "v".repeat(257);
    let report = refused(engine.tag_job(id, tags(&[("note", &long_value)])).await);
    let e = &report.errors[0].problem;
    assert!(
        matches!(e, ValidationError::InvalidTagValue { value, .. } if value.len() == 257),
        "{e}"
    );
    assert_eq!(e.path().to_string(), "spec.tags.note");
    // The bounds themselves are accepted.
    engine
        .tag_job(id, tags(&[(&"k".repeat(128), &"v".repeat(256))]))
        .await
        .unwrap();
    engine.untag_job(id, &["k".repeat(128)]).await.unwrap();

    // At most 50 tags, counted with the ones the job has.
    let many: BTreeMap<String, String> = (0..50).map(|i| (format!("t{i}"), "x".into())).collect();
    let report = refused(engine.tag_job(id, many).await);
    assert!(matches!(
        report.errors[0].problem,
        ValidationError::TooMany {
            count: 51,
            max: 50,
            ..
        }
    ));
    assert_eq!(report.errors[0].problem.path().to_string(), "spec.tags");
    let report = refused(engine.untag_job(id, &["aws:x".into()]).await);
    assert!(matches!(
        report.errors[0].problem,
        ValidationError::InvalidTagKey { .. }
    ));

    assert_eq!(engine.job_tags(id).await.unwrap(), before);
    // Nothing was stored either: a restarted engine sees the same tags.
    engine.detach().await.unwrap();
    let engine = Engine::builder().store(store.clone()).try_start().unwrap();
    assert_eq!(engine.job_tags(id).await.unwrap(), before);
    engine.shutdown().await.unwrap();
}

#[tokio::test]
async fn tag_calls_on_an_unknown_job_are_no_such_job() {
    let store = Arc::new(MemoryStore::new());
    let engine = engine(&store).await;
    let ghost = JobId::from_u128(42);
    assert!(matches!(
        engine.job_tags(ghost).await,
        Err(EngineError::NoSuchJob(j)) if j == ghost
    ));
    assert!(matches!(
        engine.tag_job(ghost, tags(&[("a", "b")])).await,
        Err(EngineError::NoSuchJob(_))
    ));
    assert!(matches!(
        engine.untag_job(ghost, &["a".into()]).await,
        Err(EngineError::NoSuchJob(_))
    ));
    engine.shutdown().await.unwrap();
}
