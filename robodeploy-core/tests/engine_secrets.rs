//! Environment values are secrets (tokens, keys, passwords live there): a canary value given to
//! an executable, a deployment and a job never appears in the engine's tracing output at any
//! level, its events, a status, a job report or an error message, whether things go well or
//! fail. The store holds the values by necessity (its file is 0600: tests/store_modes.rs).

use std::fmt::Write as _;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use robodeploy_core::engine::{Engine, EngineError, EngineEvent, Until};
use robodeploy_core::model::*;
use robodeploy_core::runtime::MemoryRuntime;
use robodeploy_testkit::model as kit;

const CANARY: &str = "canary-7d1f0c5e-secret";
const T: Duration = Duration::from_secs(30);

/// A tracing subscriber that writes every event and every span's fields, at every level, into
/// one text.
#[derive(Clone, Default)]
struct Everything(Arc<Mutex<String>>);

struct Fields<'a>(&'a mut String);

impl tracing::field::Visit for Fields<'_> {
    fn record_debug(&mut self, field: &tracing::field::Field, value: &dyn std::fmt::Debug) {
        let _ = write!(self.0, " {}={:?}", field.name(), value);
    }
}

impl tracing::Subscriber for Everything {
    fn enabled(&self, _: &tracing::Metadata<'_>) -> bool {
        true
    }
    fn register_callsite(
        &self,
        _: &'static tracing::Metadata<'static>,
    ) -> tracing::subscriber::Interest {
        tracing::subscriber::Interest::always()
    }
    fn max_level_hint(&self) -> Option<tracing::level_filters::LevelFilter> {
        Some(tracing::level_filters::LevelFilter::TRACE)
    }
    fn new_span(&self, span: &tracing::span::Attributes<'_>) -> tracing::span::Id {
        let mut text = self.0.lock().unwrap();
        let _ = write!(text, "\nspan {}", span.metadata().name());
        span.record(&mut Fields(&mut text));
        tracing::span::Id::from_u64(1)
    }
    fn record(&self, _: &tracing::span::Id, values: &tracing::span::Record<'_>) {
        values.record(&mut Fields(&mut self.0.lock().unwrap()));
    }
    fn record_follows_from(&self, _: &tracing::span::Id, _: &tracing::span::Id) {}
    fn event(&self, event: &tracing::Event<'_>) {
        let mut text = self.0.lock().unwrap();
        let _ = write!(
            text,
            "\n{} {}",
            event.metadata().level(),
            event.metadata().target()
        );
        event.record(&mut Fields(&mut text));
    }
    fn enter(&self, _: &tracing::span::Id) {}
    fn exit(&self, _: &tracing::span::Id) {}
}

/// Everything a user of the engine can read, as text: Debug and JSON of each value.
#[derive(Default)]
struct Seen(String);

impl Seen {
    fn add<V: std::fmt::Debug + serde::Serialize>(&mut self, v: &V) {
        let _ = write!(self.0, "\n{v:?}\n{}", serde_json::to_string(v).unwrap());
    }
    fn error(&mut self, e: &EngineError) {
        let _ = write!(self.0, "\n{e}\n{e:?}");
    }
}

#[test]
fn a_canary_environment_value_is_in_no_output() {
    let traced = Everything::default();
    let _guard = tracing::subscriber::set_default(traced.clone());
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    // The subscriber is the thread's default: the engine's tasks run on this thread.
    let seen = rt.block_on(run());
    let traced = traced.0.lock().unwrap().clone();
    assert!(
        traced.len() > 100,
        "the engine traced nothing: the check would be empty ({traced:?})"
    );
    assert!(
        seen.0.contains("ROBOT_TOKEN"),
        "the outputs name the variable, at least"
    );
    assert!(
        !traced.contains(CANARY),
        "tracing output holds the canary:\n{traced}"
    );
    assert!(
        !seen.0.contains(CANARY),
        "an output holds the canary:\n{}",
        seen.0
    );
}

async fn run() -> Seen {
    let mut seen = Seen::default();
    let engine = Engine::builder().start();
    let mut events = engine.subscribe();
    let robots = ["r1", "r2"];
    let mut devices = Vec::new();
    for name in robots {
        let rt = Arc::new(MemoryRuntime::new(name));
        // r2's pre-launch script fails: its failure is reported too.
        if name == "r2" {
            rt.set_task_exit("/opt/pre.sh", 3);
        }
        let device = kit::device(name, DeviceRuntime::Preinstalled);
        engine.add_device(device.clone(), rt).await.unwrap();
        devices.push(device);
    }
    let exe = kit::fake_exe("node").with_env("ROBOT_TOKEN", CANARY);
    engine
        .add_package(kit::package("app", "1", RestartPolicy::Always, [exe]))
        .await
        .unwrap();
    engine.add_fleet(kit::fleet("lab", devices)).await.unwrap();

    // A deployment with the canary in its own environment, running, then deprovisioned.
    let mut req = kit::request("app-r1", "app", "1", "r1");
    req.env.insert("ROBOT_TOKEN".into(), CANARY.into());
    // The search would see a leak: the request itself, printed, shows the value.
    assert!(format!("{req:?}").contains(CANARY));
    let id = engine.deploy(req.clone(), None).await.unwrap();
    let status = engine.wait_for(id, Until::Running, T).await.unwrap();
    seen.add(&status);
    seen.add(&engine.deployments().await.unwrap());
    // Refused requests: a duplicate name, an environment value over the limit.
    seen.error(&engine.deploy(req.clone(), None).await.unwrap_err());
    let mut long = req.clone();
    long.name = "app-long".into();
    long.env.insert(
        "ROBOT_TOKEN".into(),
        format!("{CANARY}{}", "x".repeat(1100)),
    );
    seen.error(&engine.deploy(long, None).await.unwrap_err());
    engine.deprovision(id).await.unwrap();

    // A job with the canary in its launch environment; one robot fails its pre-launch script.
    let mut job = kit::job("lab", "app", Some("/opt/pre.sh".into()), None, 100, 100);
    job.launch_config
        .environment_variables
        .insert("ROBOT_TOKEN".into(), CANARY.into());
    let job_id = engine.create_job(job.clone(), None).await.unwrap();
    let report = engine.wait_for_job(job_id, T).await.unwrap();
    assert_eq!(report.count(RobotStatus::Failed), 1, "{report:#?}");
    seen.add(&report);
    seen.add(&engine.jobs().await.unwrap());
    let mut bad = job;
    bad.launch_config
        .environment_variables
        .insert("bad name".into(), CANARY.into());
    seen.error(&engine.create_job(bad, None).await.unwrap_err());

    engine.shutdown().await.unwrap();
    while let Ok(event) = events.try_recv() {
        seen.add(&event);
        if let EngineEvent::Deployment(status) = &event {
            seen.add(status);
        }
    }
    seen
}
