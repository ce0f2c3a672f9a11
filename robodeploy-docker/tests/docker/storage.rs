//! Named volumes, binds and a routed network: created for the deployment, shared by its
//! containers, removed with the last of them when robodeploy created them, kept otherwise.

use std::collections::HashMap;
use std::time::Duration;

use bollard::models::VolumeCreateRequest;
use bollard::query_parameters::InspectNetworkOptions;
use robodeploy_core::model::{DeploymentId, Mount};
use robodeploy_core::runtime::Runtime;
use robodeploy_docker::CREATED_BY_LABEL;

use crate::support::{Leftovers, docker, spec};

fn mount(source: &str, target: &str, read_only: bool) -> Mount {
    Mount {
        source: source.to_owned(),
        target: target.to_owned(),
        read_only,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn volumes_binds_and_a_routed_network() {
    let rt = runtime_or_skip!();
    let dep = DeploymentId::new_random();
    let tag = dep.as_uuid().simple().to_string();
    let network = format!("rd-test-net-{tag}");
    let volume = format!("rd-test-maps-{tag}");
    let existing = format!("rd-test-kept-{tag}");
    let mut leftovers = Leftovers::new(dep);
    leftovers.volumes.push(existing.clone());
    let host_dir = std::env::temp_dir().join(format!("rd-test-bind-{tag}"));
    std::fs::create_dir_all(&host_dir).unwrap();
    let docker = docker().await;
    docker
        .create_volume(VolumeCreateRequest {
            name: Some(existing.clone()),
            ..Default::default()
        })
        .await
        .unwrap();

    let mut writer = spec(
        dep,
        "mapping",
        "writer",
        &[
            "sh",
            "-c",
            "echo map-v1 > /maps/current; echo bound > /host/out; echo kept > /kept/x; sleep 600",
        ],
    );
    writer.mounts = vec![
        mount(&volume, "/maps", false),
        mount(host_dir.to_str().unwrap(), "/host", false),
        mount(&existing, "/kept", false),
    ];
    writer.network = Some(network.clone());
    let mut reader = spec(dep, "nav", "reader", &["sleep", "600"]);
    reader.mounts = vec![mount(&volume, "/maps", true)];
    reader.network = Some(network.clone());

    let w = rt.start(&writer).await.expect("writer");
    let r = rt.start(&reader).await.expect("reader");

    let mut seen = String::new();
    for _ in 0..100 {
        seen = rt
            .exec(&r, &["cat".into(), "/maps/current".into()])
            .await
            .unwrap()
            .stdout;
        if !seen.is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(seen, "map-v1\n", "the reader sees the writer's volume");
    let ro = rt
        .exec(&r, &["sh".into(), "-c".into(), "echo x > /maps/y".into()])
        .await
        .unwrap();
    assert_ne!(ro.exit_code, 0, "read-only mount");
    assert_eq!(
        std::fs::read_to_string(host_dir.join("out")).unwrap(),
        "bound\n"
    );

    let net = docker
        .inspect_network(&network, None::<InspectNetworkOptions>)
        .await
        .unwrap();
    let net_labels = net.labels.clone().unwrap_or_default();
    assert_eq!(net_labels.get(CREATED_BY_LABEL), Some(&dep.to_string()));
    let members = net.containers.clone().unwrap_or_default();
    assert!(
        members.contains_key(&w.0) && members.contains_key(&r.0),
        "{members:?}"
    );
    let vol = docker.inspect_volume(&volume).await.unwrap();
    assert_eq!(vol.labels.get(CREATED_BY_LABEL), Some(&dep.to_string()));

    // Removing the writer keeps what the reader still uses.
    rt.stop(&w, Duration::from_secs(1)).await.unwrap();
    rt.remove(&w).await.unwrap();
    assert!(
        docker
            .inspect_network(&network, None::<InspectNetworkOptions>)
            .await
            .is_ok()
    );
    assert!(docker.inspect_volume(&volume).await.is_ok());
    // ... and the last one takes them along; what existed before stays, and so does host data.
    rt.stop(&r, Duration::from_secs(1)).await.unwrap();
    rt.remove(&r).await.unwrap();
    let status = |e: bollard::errors::Error| match e {
        bollard::errors::Error::DockerResponseServerError { status_code, .. } => status_code,
        other => panic!("{other}"),
    };
    assert_eq!(
        docker
            .inspect_network(&network, None::<InspectNetworkOptions>)
            .await
            .map(|_| ())
            .map_err(status),
        Err(404)
    );
    assert_eq!(
        docker
            .inspect_volume(&volume)
            .await
            .map(|_| ())
            .map_err(status),
        Err(404)
    );
    assert!(
        docker.inspect_volume(&existing).await.is_ok(),
        "a volume robodeploy did not create is kept"
    );
    assert_eq!(
        std::fs::read_to_string(host_dir.join("out")).unwrap(),
        "bound\n"
    );
    let leftover: HashMap<String, String> = HashMap::new();
    assert!(
        rt.list(&crate::support::by_deployment(dep))
            .await
            .unwrap()
            .is_empty(),
        "{leftover:?}"
    );
    std::fs::remove_dir_all(&host_dir).unwrap();
}
