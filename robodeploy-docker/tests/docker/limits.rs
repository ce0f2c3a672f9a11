//! An executable's limits reach the container's host config: inspected value by value, and
//! seen from inside (the user, the read-only root, the device).

use std::time::Duration;

use bollard::query_parameters::InspectContainerOptions;
use robodeploy_core::model::{DeploymentId, DeviceMapping, Limits, Quantity};
use robodeploy_core::runtime::Runtime;

use crate::support::{Leftovers, docker, spec};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_limit_is_in_the_containers_host_config() {
    let rt = runtime_or_skip!();
    let dep = DeploymentId::new_random();
    let _leftovers = Leftovers::new(dep);
    let mut s = spec(dep, "camera", "cam", &["sleep", "600"]);
    s.host_network = true;
    s.limits = Limits {
        cpu: Some(Quantity::Text("500m".into())),
        memory: Some(Quantity::Text("64Mi".into())),
        devices: vec![DeviceMapping::Mapped {
            host: "/dev/null".into(),
            container: Some("/dev/rd-camera".into()),
        }],
        host_network: true,
        user: Some("1000:1000".into()),
        read_only_root_filesystem: true,
        capabilities: vec!["SYS_NICE".into(), "CAP_NET_ADMIN".into()],
        privileged: false,
    };
    let id = rt.start(&s).await.expect("start");
    let inspected = docker()
        .await
        .inspect_container(&id.0, None::<InspectContainerOptions>)
        .await
        .unwrap();
    let hc = inspected.host_config.unwrap();
    assert_eq!(hc.nano_cpus, Some(500_000_000));
    assert_eq!(hc.memory, Some(64 << 20));
    let devices = hc.devices.unwrap();
    assert_eq!(devices.len(), 1);
    assert_eq!(
        (
            devices[0].path_on_host.as_deref(),
            devices[0].path_in_container.as_deref(),
            devices[0].cgroup_permissions.as_deref()
        ),
        (Some("/dev/null"), Some("/dev/rd-camera"), Some("rwm"))
    );
    assert_eq!(hc.network_mode.as_deref(), Some("host"));
    assert_eq!(hc.readonly_rootfs, Some(true));
    assert_eq!(
        hc.cap_add.unwrap(),
        ["CAP_SYS_NICE".to_owned(), "CAP_NET_ADMIN".to_owned()]
    );
    assert_eq!(hc.privileged, Some(false));
    assert_eq!(inspected.config.unwrap().user.as_deref(), Some("1000:1000"));

    // Seen from inside: the user, the read-only root, the device.
    let sh = |script: &str| vec!["sh".to_owned(), "-c".to_owned(), script.to_owned()];
    let ids = rt.exec(&id, &sh("id -u; id -g")).await.unwrap();
    assert_eq!(ids.stdout, "1000\n1000\n");
    let write = rt.exec(&id, &sh("echo x > /rd-probe")).await.unwrap();
    assert_ne!(write.exit_code, 0, "the root filesystem is read-only");
    let dev = rt
        .exec(&id, &sh("test -c /dev/rd-camera && echo char"))
        .await
        .unwrap();
    assert_eq!(dev.stdout, "char\n");
    rt.stop(&id, Duration::from_secs(1)).await.unwrap();
    rt.remove(&id).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn containers_are_unprivileged_unless_the_spec_says_so() {
    let rt = runtime_or_skip!();
    let dep = DeploymentId::new_random();
    let _leftovers = Leftovers::new(dep);
    let plain = rt
        .start(&spec(dep, "plain", "main", &["sleep", "600"]))
        .await
        .unwrap();
    let mut p = spec(dep, "priv", "main", &["sleep", "600"]);
    p.limits.privileged = true;
    let mut started = vec![(plain, false)];
    match rt.start(&p).await {
        Ok(id) => started.push((id, true)),
        // A Docker engine that itself runs with restricted capabilities (this machine's and
        // CI's, inside a VM that withholds some) cannot give a container every capability: runc
        // refuses while applying them. That refusal only comes from a privileged request, so
        // it shows the request reached the engine as privileged; the container's own host
        // config is then not there to inspect.
        Err(e)
            if e.to_string()
                .contains("unable to apply caps: operation not permitted") =>
        {
            eprintln!(
                "\n!!!!!!!! The privileged container was refused by this engine's runc ({e}); \
                 its host config is not inspected. !!!!!!!!\n"
            );
        }
        Err(e) => panic!("starting a privileged container: {e}"),
    }
    let docker = docker().await;
    for (id, want) in started.iter().map(|(id, w)| (id, *w)) {
        let hc = docker
            .inspect_container(&id.0, None::<InspectContainerOptions>)
            .await
            .unwrap()
            .host_config
            .unwrap();
        assert_eq!(hc.privileged, Some(want), "{id}");
        assert_eq!(hc.readonly_rootfs, Some(false), "{id}");
        assert_eq!(
            (hc.nano_cpus, hc.memory),
            (Some(0), Some(0)),
            "{id}: no limit"
        );
        assert!(hc.cap_add.is_none(), "{id}");
    }
    for (id, _) in started {
        rt.stop(&id, Duration::from_secs(1)).await.unwrap();
        rt.remove(&id).await.unwrap();
    }
}
