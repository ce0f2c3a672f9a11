//! What a hostile or broken peer gets: an agent with a certificate of another authority never
//! links; malformed, oversized and other-version calls are answered with a named error and the
//! agent keeps serving.

mod common;

use std::time::Duration;

use common::pki::Ca;
use common::{free_port, memory_agent, orchestrator, quick, until_up};
use robodeploy_core::model::DeviceRuntime;
use robodeploy_core::runtime::{MemoryRuntime, Runtime};
use robodeploy_zenoh::wire::{self, Answer, MAX_MESSAGE, WireError};
use robodeploy_zenoh::{Agent, LinkConfig, Orchestrator};

/// Sends raw bytes as a call to `robot` and decodes the answer.
async fn raw_call(o: &Orchestrator, robot: &str, call: &str, payload: Vec<u8>) -> Answer {
    let replies = o
        .session()
        .get(format!("robodeploy/{robot}/rt/{call}"))
        .payload(payload)
        .timeout(Duration::from_secs(5))
        .await
        .unwrap();
    let reply = replies.recv_async().await.expect("an answer");
    let sample = reply.result().expect("a reply, not a timeout");
    wire::decode::<Answer>(&sample.payload().to_bytes()).expect("an answer of our schema")
}

#[tokio::test(flavor = "multi_thread")]
async fn malformed_oversized_and_other_version_calls_get_named_errors_and_the_agent_serves_on() {
    let port = free_port();
    let o = orchestrator(port, quick()).await;
    let (_agent, _s, local) = memory_agent(port, "r1").await;
    let remote = o.runtime("r1", DeviceRuntime::Preinstalled).unwrap();
    until_up(&remote).await;

    // Not JSON, and JSON that is no call of this version: malformed.
    for payload in [&b"{not json"[..], br#"{"v":1,"body":{"call":"start"}}"#] {
        let answer = raw_call(&o, "r1", "start", payload.to_vec()).await;
        assert!(
            matches!(answer, Err(WireError::Malformed { .. })),
            "{answer:?}"
        );
    }
    let answer = raw_call(
        &o,
        "r1",
        "health",
        br#"{"v":9,"body":{"call":"health"}}"#.to_vec(),
    )
    .await;
    assert_eq!(answer, Err(WireError::Incompatible { ours: 1, theirs: 9 }));
    let mut big = br#"{"v":1,"body":{"call":"health","pad":""#.to_vec();
    big.resize(MAX_MESSAGE + 16, b'x');
    let answer = raw_call(&o, "r1", "health", big).await;
    assert!(
        matches!(answer, Err(WireError::TooLarge { limit, .. }) if limit == MAX_MESSAGE as u64),
        "{answer:?}"
    );
    // Nothing was started, and the agent still answers.
    assert_eq!(local.start_count(), 0);
    assert!(remote.health().await.is_ok());
    assert!(remote.list(&Default::default()).await.unwrap().is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn an_agent_whose_certificate_another_authority_signed_never_links() {
    let dir = std::env::temp_dir().join(format!("rd-hostile-tls-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let ours = Ca::new("robodeploy fleet CA");
    let theirs = Ca::new("someone else's CA");
    let port = free_port();
    let router = LinkConfig::router([format!("tls/127.0.0.1:{port}")]).with_tls(ours.issue(
        &dir.join("router"),
        "orchestrator",
        &["127.0.0.1"],
    ));
    let o = Orchestrator::attach(router.open().await.unwrap(), quick())
        .await
        .unwrap();
    let client = |tls| LinkConfig::client([format!("tls/127.0.0.1:{port}")]).with_tls(tls);

    // A robot with a certificate of the fleet's CA links and is served.
    let good = client(ours.issue(&dir.join("r1"), "r1", &["r1"]))
        .open()
        .await
        .unwrap();
    let _agent = Agent::serve(&good, "r1", std::sync::Arc::new(MemoryRuntime::new("r1")))
        .await
        .unwrap();
    until_up(&o.runtime("r1", DeviceRuntime::Preinstalled).unwrap()).await;

    // One with another authority's never links: the agent keeps trying (and says why), and
    // the robot it would serve stays unreachable.
    let bad = theirs.issue(&dir.join("r2"), "r2", &["r2"]);
    let mut agent = std::process::Command::new(env!("CARGO_BIN_EXE_robodeploy-agent"))
        .args(["--robot", "r2", "--runtime", "process", "--state-dir"])
        .arg(dir.join("r2-state"))
        .args(["--connect", &format!("tls/127.0.0.1:{port}")])
        .arg("--tls-ca")
        .arg(&bad.ca)
        .arg("--tls-cert")
        .arg(&bad.certificate)
        .arg("--tls-key")
        .arg(&bad.key)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert!(agent.try_wait().unwrap().is_none(), "it keeps trying");
    let r2 = o.runtime("r2", DeviceRuntime::Preinstalled).unwrap();
    assert!(r2.health().await.is_err());
    assert_eq!(o.robots_up(), ["r1"]);
    assert!(
        o.runtime("r1", DeviceRuntime::Preinstalled)
            .unwrap()
            .health()
            .await
            .is_ok()
    );
    agent.kill().unwrap();
    agent.wait().unwrap();
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_robot_cannot_answer_for_another_call_agents_or_read_what_others_send() {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};

    use robodeploy_core::model::DeploymentId;
    use robodeploy_core::runtime::{InstanceSpec, LogOptions};

    let dir = std::env::temp_dir().join(format!("rd-hostile-acl-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let ca = Ca::new("robodeploy fleet CA");
    let port = free_port();
    let router = LinkConfig::router([format!("tls/127.0.0.1:{port}")])
        .with_tls(ca.issue(&dir.join("router"), "orchestrator", &["127.0.0.1"]))
        .with_robots(["r1", "r2"]);
    let o = Orchestrator::attach(router.open().await.unwrap(), quick())
        .await
        .unwrap();
    let client = |tls| LinkConfig::client([format!("tls/127.0.0.1:{port}")]).with_tls(tls);
    let r1_session = client(ca.issue(&dir.join("r1"), "r1", &["r1"]))
        .open()
        .await
        .unwrap();
    let local = Arc::new(MemoryRuntime::new("r1"));
    let _agent = Agent::serve(&r1_session, "r1", local.clone())
        .await
        .unwrap();
    let r1 = o.runtime("r1", DeviceRuntime::Preinstalled).unwrap();
    until_up(&r1).await;

    // r2, admitted to its own keys, tries r1's.
    let r2 = client(ca.issue(&dir.join("r2"), "r2", &["r2"]))
        .open()
        .await
        .unwrap();
    let impostor_asked = Arc::new(AtomicUsize::new(0));
    let asked = impostor_asked.clone();
    let impostor = r2
        .declare_queryable("robodeploy/r1/rt/*")
        .callback(move |q| {
            asked.fetch_add(1, Ordering::SeqCst);
            let key = q.key_expr().clone();
            let forged = wire::encode(&Answer::Ok(wire::Reply::Instances { instances: vec![] }));
            let _ = zenoh::Wait::wait(q.reply(key, forged));
        })
        .await
        .unwrap();
    let overheard = Arc::new(AtomicUsize::new(0));
    let heard = overheard.clone();
    let _eavesdropper = r2
        .declare_subscriber("robodeploy/r1/**")
        .callback(move |_| {
            heard.fetch_add(1, Ordering::SeqCst);
        })
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;

    // The orchestrator's calls reach r1's own agent only, and r1's events and logs reach the
    // orchestrator only.
    let mut events = r1.events().await.unwrap();
    let mut spec = InstanceSpec::new(DeploymentId::from_u128(1), "main", "node", "demo", "1");
    spec.command = vec!["/usr/bin/node".into()];
    let id = r1.start(&spec).await.unwrap();
    for _ in 0..5 {
        assert_eq!(r1.list(&Default::default()).await.unwrap().len(), 1);
    }
    let started = tokio::time::timeout(Duration::from_secs(5), events.recv()).await;
    assert!(matches!(started, Ok(Some(_))), "{started:?}");
    let mut logs = r1.logs(&id, LogOptions::default()).await.unwrap();
    let line = tokio::time::timeout(Duration::from_secs(5), logs.recv()).await;
    assert!(matches!(line, Ok(Some(_))), "{line:?}");
    tokio::time::sleep(Duration::from_millis(300)).await;
    // (Counted before r2 publishes anything itself: a session hears its own puts.)
    assert_eq!(overheard.load(Ordering::SeqCst), 0, "r2 overheard r1");

    // r2 may not call agents (its own impostor withdrawn first: a session answers its own
    // queries), nor forge r1's events.
    impostor.undeclare().await.unwrap();
    let replies = r2
        .get("robodeploy/r1/rt/list")
        .payload(wire::encode(&wire::Request::List {
            selector: Default::default(),
        }))
        .timeout(Duration::from_secs(1))
        .await
        .unwrap();
    while let Ok(reply) = replies.recv_async().await {
        assert!(
            reply.result().is_err(),
            "r2's call to r1's agent was answered"
        );
    }
    let forged = wire::encode(&wire::Event {
        seq: 99,
        item: robodeploy_core::runtime::RuntimeEvent {
            instance: id.clone(),
            at: robodeploy_core::time::Time::from_millis(0),
            kind: robodeploy_core::runtime::RuntimeEventKind::Removed,
        },
    });
    r2.put("robodeploy/r1/events", forged).await.unwrap();
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(
        events.try_recv().is_err(),
        "a forged event reached the orchestrator"
    );
    assert!(
        r1.health().await.is_ok(),
        "no gap was forged into r1's numbers"
    );

    assert_eq!(
        impostor_asked.load(Ordering::SeqCst),
        0,
        "the impostor was asked"
    );
    assert_eq!(local.start_count(), 1);
    let _ = std::fs::remove_dir_all(&dir);
}
