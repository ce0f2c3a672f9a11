//! An [`InstanceSpec`] as the body of Docker's container-create call.
//!
//! | spec | container |
//! |---|---|
//! | `command` | `Cmd` (the image's entrypoint stays, as with `docker run image cmd…`) |
//! | `shell` | entrypoint `/bin/sh -c`, `Cmd` the command joined by spaces |
//! | `env`, `working_dir`, `labels` | `Env`, `WorkingDir`, `Labels` |
//! | `mounts` | `Mounts`: absolute sources are binds, others named volumes |
//! | `ports` | `ExposedPorts` and, where a host port is given, `PortBindings` |
//! | `network` | `NetworkMode` = the network's name (joined at create) |
//! | `host_network` | `NetworkMode` = `host` |
//! | `restart_policy` | `RestartPolicy` `always` / `on-failure` / `no`, enforced by the engine |
//! | `limits` | `NanoCpus`, `Memory`, `Devices`, `User`, `ReadonlyRootfs`, `CapAdd`, `Privileged` ([`crate::limits`]) |
//!
//! Containers are unprivileged unless the manifest says `privileged: true` (which an engine
//! refuses unless its configuration allows it).

use std::collections::HashMap;

use bollard::models::{
    ContainerCreateBody, HostConfig, Mount as DockerMount, MountType, PortBinding,
    RestartPolicy as DockerRestartPolicy, RestartPolicyNameEnum,
};
use robodeploy_core::model::{Mount, RestartPolicy};
use robodeploy_core::runtime::{InstanceSpec, RuntimeError};

/// Whether a mount source is a host path (a bind) rather than a named volume.
pub(crate) fn is_bind(mount: &Mount) -> bool {
    mount.source.starts_with('/')
}

/// Docker's restart policy for robodeploy's.
pub(crate) fn restart_policy(policy: RestartPolicy) -> DockerRestartPolicy {
    let name = match policy {
        RestartPolicy::Always => RestartPolicyNameEnum::ALWAYS,
        RestartPolicy::OnFailure => RestartPolicyNameEnum::ON_FAILURE,
        _ => RestartPolicyNameEnum::NO,
    };
    DockerRestartPolicy {
        name: Some(name),
        maximum_retry_count: None,
    }
}

/// The longest container name accepted, in bytes.
const MAX_NAME_LEN: usize = 255;

/// Checks a container name whatever the engine passes (defence in depth under its validation):
/// Docker's alphabet (an ASCII letter or digit first, then letters, digits, `_`, `.`, `-`), no
/// `..`, at most [`MAX_NAME_LEN`] bytes. So no `/`, no NUL, nothing that reads as a path or
/// changes the API URL it is put in.
pub(crate) fn check_name(name: &str) -> Result<(), RuntimeError> {
    let shown = || format!("{:?}", name.chars().take(64).collect::<String>());
    let rule = if name.is_empty() {
        Some("must not be empty".to_owned())
    } else if name.len() > MAX_NAME_LEN {
        Some(format!(
            "{} bytes is longer than {MAX_NAME_LEN}",
            name.len()
        ))
    } else if !name.starts_with(|c: char| c.is_ascii_alphanumeric()) {
        Some(format!(
            "{} must start with an ASCII letter or digit",
            shown()
        ))
    } else if let Some(c) = name
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-')))
    {
        Some(format!(
            "{} contains {c:?}; only ASCII letters, digits, '_', '.' and '-' are allowed",
            shown()
        ))
    } else if name.contains("..") {
        Some(format!("{} must not contain \"..\"", shown()))
    } else {
        None
    };
    match rule {
        Some(message) => Err(RuntimeError::InvalidSpec {
            field: "name",
            message,
        }),
        None => Ok(()),
    }
}

/// Checks what the engine would otherwise refuse with a less precise message.
pub(crate) fn validate(spec: &InstanceSpec) -> Result<&str, RuntimeError> {
    check_name(&spec.name)?;
    let image = spec
        .image
        .as_deref()
        .filter(|i| !i.trim().is_empty())
        .ok_or_else(|| RuntimeError::InvalidSpec {
            field: "image",
            message: format!("{}: a Docker executable needs an image", spec.name),
        })?;
    if spec.host_network && spec.network.is_some() {
        return Err(RuntimeError::InvalidSpec {
            field: "network",
            message: format!(
                "{}: host networking and a routed network exclude each other",
                spec.name
            ),
        });
    }
    if spec.shell && spec.command.is_empty() {
        return Err(RuntimeError::InvalidSpec {
            field: "command",
            message: format!("{}: shell is set but the command is empty", spec.name),
        });
    }
    for m in &spec.mounts {
        if m.source.is_empty() || !m.target.starts_with('/') {
            return Err(RuntimeError::InvalidSpec {
                field: "mounts",
                message: format!(
                    "{}: mount {:?} -> {:?} needs a source and an absolute target",
                    spec.name, m.source, m.target
                ),
            });
        }
    }
    Ok(image)
}

/// The create body for `spec` (validated first).
pub(crate) fn create_body(spec: &InstanceSpec) -> Result<ContainerCreateBody, RuntimeError> {
    let image = validate(spec)?;
    let (entrypoint, cmd) = if spec.shell {
        (
            Some(vec!["/bin/sh".to_owned(), "-c".to_owned()]),
            Some(vec![spec.command.join(" ")]),
        )
    } else if spec.command.is_empty() {
        (None, None)
    } else {
        (None, Some(spec.command.clone()))
    };
    let env: Vec<String> = spec.env.iter().map(|(k, v)| format!("{k}={v}")).collect();
    let mounts: Vec<DockerMount> = spec
        .mounts
        .iter()
        .map(|m| DockerMount {
            target: Some(m.target.clone()),
            source: Some(m.source.clone()),
            typ: Some(if is_bind(m) {
                MountType::BIND
            } else {
                MountType::VOLUME
            }),
            read_only: Some(m.read_only),
            ..DockerMount::default()
        })
        .collect();
    let exposed: Vec<String> = spec
        .ports
        .iter()
        .map(|p| format!("{}/tcp", p.container))
        .collect();
    let bindings: HashMap<String, Option<Vec<PortBinding>>> = spec
        .ports
        .iter()
        .filter_map(|p| {
            p.host.map(|host| {
                (
                    format!("{}/tcp", p.container),
                    Some(vec![PortBinding {
                        host_ip: None,
                        host_port: Some(host.to_string()),
                    }]),
                )
            })
        })
        .collect();
    let network_mode = if spec.host_network {
        Some("host".to_owned())
    } else {
        spec.network.clone()
    };
    let mut host_config = HostConfig {
        mounts: (!mounts.is_empty()).then_some(mounts),
        port_bindings: (!bindings.is_empty()).then_some(bindings),
        network_mode,
        restart_policy: Some(restart_policy(spec.restart_policy)),
        privileged: Some(false),
        ..HostConfig::default()
    };
    let user = crate::limits::apply(spec, &mut host_config)?;
    Ok(ContainerCreateBody {
        image: Some(image.to_owned()),
        entrypoint,
        cmd,
        env: (!env.is_empty()).then_some(env),
        working_dir: spec.working_dir.clone(),
        user,
        labels: Some(
            spec.labels
                .iter()
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
        ),
        exposed_ports: (!exposed.is_empty()).then_some(exposed),
        host_config: Some(host_config),
        ..ContainerCreateBody::default()
    })
}

#[cfg(test)]
mod tests {
    use robodeploy_core::model::{DeploymentId, Port};

    use super::*;

    fn spec() -> InstanceSpec {
        let mut s = InstanceSpec::new(DeploymentId::from_u128(7), "nav", "planner", "demo", "3");
        s.image = Some("robodeploy/busybox:test".into());
        s.command = vec!["busybox".into(), "sleep".into(), "60".into()];
        s
    }

    #[test]
    fn container_names_that_could_leave_their_place_are_refused() {
        let long = "x".repeat(256);
        for bad in [
            "",
            "a/b",
            "../x",
            "a..b",
            "a\0b",
            "-a",
            ".a",
            "a b",
            "é",
            long.as_str(),
        ] {
            let mut s = spec();
            s.name = bad.to_owned();
            for result in [validate(&s).map(drop), create_body(&s).map(drop)] {
                let err = result.unwrap_err();
                assert!(
                    matches!(&err, RuntimeError::InvalidSpec { field: "name", .. }),
                    "{bad:?} gave {err:?}"
                );
                assert!(!err.to_string().contains('\0'), "{err}");
            }
        }
        for good in ["rd-1-nav-planner", "a.b_c-d", "x".repeat(255).as_str()] {
            let mut s = spec();
            s.name = good.to_owned();
            assert!(validate(&s).is_ok(), "{good:?}");
        }
    }

    #[test]
    fn maps_command_env_workdir_labels_and_policy() {
        let mut s = spec();
        s.env.insert("ROS_DOMAIN_ID".into(), "7".into());
        s.working_dir = Some("/work".into());
        s.restart_policy = RestartPolicy::OnFailure;
        let body = create_body(&s).unwrap();
        assert_eq!(body.image.as_deref(), Some("robodeploy/busybox:test"));
        assert_eq!(body.cmd, Some(s.command.clone()));
        assert_eq!(body.entrypoint, None);
        assert_eq!(body.env, Some(vec!["ROS_DOMAIN_ID=7".to_owned()]));
        assert_eq!(body.working_dir.as_deref(), Some("/work"));
        let labels = body.labels.unwrap();
        assert_eq!(labels["io.robodeploy.executable"], "planner");
        assert_eq!(labels["io.robodeploy.version"], "3");
        let hc = body.host_config.unwrap();
        assert_eq!(hc.privileged, Some(false));
        assert_eq!(hc.network_mode, None);
        assert_eq!(
            hc.restart_policy.unwrap().name,
            Some(RestartPolicyNameEnum::ON_FAILURE)
        );
    }

    #[test]
    fn each_policy_maps_to_dockers_own_name() {
        for (p, name) in [
            (RestartPolicy::Always, "always"),
            (RestartPolicy::OnFailure, "on-failure"),
            (RestartPolicy::Never, "no"),
        ] {
            assert_eq!(restart_policy(p).name.unwrap().to_string(), name);
            assert_eq!(p.as_docker_str(), name);
        }
    }

    #[test]
    fn shell_runs_through_sh_c() {
        let mut s = spec();
        s.shell = true;
        s.command = vec!["echo".into(), "$HOME".into()];
        let body = create_body(&s).unwrap();
        assert_eq!(
            body.entrypoint,
            Some(vec!["/bin/sh".to_owned(), "-c".to_owned()])
        );
        assert_eq!(body.cmd, Some(vec!["echo $HOME".to_owned()]));
    }

    #[test]
    fn mounts_ports_and_networks() {
        let mut s = spec();
        s.mounts = vec![
            Mount {
                source: "maps".into(),
                target: "/maps".into(),
                read_only: false,
            },
            Mount {
                source: "/etc/robot".into(),
                target: "/config".into(),
                read_only: true,
            },
        ];
        s.ports = vec![
            Port {
                container: 80,
                host: Some(8080),
            },
            Port {
                container: 9090,
                host: None,
            },
        ];
        s.network = Some("rd-net".into());
        let body = create_body(&s).unwrap();
        assert_eq!(
            body.exposed_ports,
            Some(vec!["80/tcp".to_owned(), "9090/tcp".to_owned()])
        );
        let hc = body.host_config.unwrap();
        let mounts = hc.mounts.unwrap();
        assert_eq!(mounts[0].typ, Some(MountType::VOLUME));
        assert_eq!(mounts[1].typ, Some(MountType::BIND));
        assert_eq!(mounts[1].read_only, Some(true));
        let bindings = hc.port_bindings.unwrap();
        assert_eq!(bindings.len(), 1);
        assert_eq!(
            bindings["80/tcp"].as_ref().unwrap()[0].host_port.as_deref(),
            Some("8080")
        );
        assert_eq!(hc.network_mode.as_deref(), Some("rd-net"));

        s.network = None;
        s.host_network = true;
        let hc = create_body(&s).unwrap().host_config.unwrap();
        assert_eq!(hc.network_mode.as_deref(), Some("host"));
    }

    #[test]
    fn bad_specs_name_the_field() {
        let mut s = spec();
        s.image = None;
        assert!(matches!(
            create_body(&s),
            Err(RuntimeError::InvalidSpec { field: "image", .. })
        ));
        let mut s = spec();
        s.host_network = true;
        s.network = Some("rd-net".into());
        assert!(matches!(
            create_body(&s),
            Err(RuntimeError::InvalidSpec {
                field: "network",
                ..
            })
        ));
        let mut s = spec();
        s.mounts = vec![Mount {
            source: "data".into(),
            target: "relative".into(),
            read_only: false,
        }];
        assert!(matches!(
            create_body(&s),
            Err(RuntimeError::InvalidSpec {
                field: "mounts",
                ..
            })
        ));
        let mut s = spec();
        s.shell = true;
        s.command.clear();
        assert!(matches!(
            create_body(&s),
            Err(RuntimeError::InvalidSpec {
                field: "command",
                ..
            })
        ));
    }
}
