//! A container as the engine describes it, as an [`InstanceInfo`].
//!
//! | Docker state | instance state |
//! |---|---|
//! | `created` | `Created` |
//! | `running`, `paused` | `Running` (since `StartedAt`, with its pid) |
//! | `restarting`, `exited`, `dead`, `removing` | `Exited` (last exit code, `FinishedAt`) |
//!
//! `restarting` is the pause between an exit and the engine's next restart; the container is not
//! running then. `restart_count` is the engine's own `RestartCount`.
//!
//! An `exited` container is reported stopped by hand (`stopped_manually`) when Docker's own
//! policy would have restarted it had it not been stopped: under `always` or `unless-stopped`
//! whatever its exit code, under `on-failure` (no retry limit) with a non-zero code. Docker
//! leaves such a container exited only after `docker stop`/`docker kill` (until its daemon
//! restarts, when it starts it again), so an engine that finds it on recovery knows the
//! operator stopped it even though no engine saw it happen.

use std::collections::BTreeMap;

use bollard::models::{ContainerInspectResponse, ContainerStateStatusEnum, RestartPolicyNameEnum};
use robodeploy_core::runtime::{InstanceId, InstanceInfo, InstanceState};
use robodeploy_core::time::Time;

/// Docker's "never" instant (`0001-01-01T00:00:00Z`) and unparsable text are none.
fn instant(text: Option<&str>) -> Option<Time> {
    let ts: jiff::Timestamp = text?.parse().ok()?;
    (ts.as_second() > 0).then(|| Time::from(ts))
}

/// Whether the container's Docker restart policy restarts an exit with this code (so an
/// `exited` container under it was stopped by hand).
fn policy_would_restart(c: &ContainerInspectResponse, exit_code: i32) -> bool {
    let Some(policy) = c
        .host_config
        .as_ref()
        .and_then(|h| h.restart_policy.as_ref())
    else {
        return false;
    };
    match policy.name {
        Some(RestartPolicyNameEnum::ALWAYS | RestartPolicyNameEnum::UNLESS_STOPPED) => true,
        Some(RestartPolicyNameEnum::ON_FAILURE) => {
            exit_code != 0 && policy.maximum_retry_count.unwrap_or(0) == 0
        }
        _ => false,
    }
}

/// The instance described by an inspect response.
pub(crate) fn instance_info(c: &ContainerInspectResponse) -> InstanceInfo {
    let state = c.state.clone().unwrap_or_default();
    let status = state.status.unwrap_or(ContainerStateStatusEnum::EMPTY);
    let instance_state = match status {
        ContainerStateStatusEnum::CREATED | ContainerStateStatusEnum::EMPTY => {
            InstanceState::Created
        }
        ContainerStateStatusEnum::RUNNING | ContainerStateStatusEnum::PAUSED => {
            InstanceState::Running {
                started_at: instant(state.started_at.as_deref()).unwrap_or_default(),
                pid: state
                    .pid
                    .and_then(|p| u32::try_from(p).ok())
                    .filter(|p| *p > 0),
            }
        }
        _ => {
            let exit_code = state
                .exit_code
                .and_then(|c| i32::try_from(c).ok())
                .unwrap_or(-1);
            InstanceState::Exited {
                exit_code,
                finished_at: instant(state.finished_at.as_deref()),
                stopped_manually: status == ContainerStateStatusEnum::EXITED
                    && policy_would_restart(c, exit_code),
            }
        }
    };
    let labels: BTreeMap<String, String> = c
        .config
        .as_ref()
        .and_then(|cfg| cfg.labels.clone())
        .unwrap_or_default()
        .into_iter()
        .collect();
    InstanceInfo {
        id: InstanceId(c.id.clone().unwrap_or_default()),
        name: c
            .name
            .as_deref()
            .unwrap_or_default()
            .trim_start_matches('/')
            .to_owned(),
        labels,
        state: instance_state,
        restart_count: c
            .restart_count
            .and_then(|n| u32::try_from(n).ok())
            .unwrap_or(0),
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use bollard::models::{ContainerConfig, ContainerState, HostConfig, RestartPolicy};

    use super::*;

    fn inspected(status: ContainerStateStatusEnum) -> ContainerInspectResponse {
        ContainerInspectResponse {
            id: Some("abc123".into()),
            name: Some("/rd-1-nav-planner".into()),
            restart_count: Some(2),
            state: Some(ContainerState {
                status: Some(status),
                pid: Some(4242),
                exit_code: Some(3),
                started_at: Some("2025-11-21T10:00:00.5Z".into()),
                finished_at: Some("0001-01-01T00:00:00Z".into()),
                ..ContainerState::default()
            }),
            config: Some(ContainerConfig {
                labels: Some(HashMap::from([(
                    "io.robodeploy.component".to_owned(),
                    "nav".to_owned(),
                )])),
                ..ContainerConfig::default()
            }),
            ..ContainerInspectResponse::default()
        }
    }

    #[test]
    fn running_container() {
        let info = instance_info(&inspected(ContainerStateStatusEnum::RUNNING));
        assert_eq!(info.id, InstanceId("abc123".into()));
        assert_eq!(info.name, "rd-1-nav-planner");
        assert_eq!(info.restart_count, 2);
        assert_eq!(info.labels["io.robodeploy.component"], "nav");
        assert_eq!(
            info.state,
            InstanceState::Running {
                started_at: Time::from_millis(1_763_719_200_500),
                pid: Some(4242)
            }
        );
    }

    #[test]
    fn restarting_and_exited_are_exits_and_zero_time_is_none() {
        for status in [
            ContainerStateStatusEnum::RESTARTING,
            ContainerStateStatusEnum::EXITED,
            ContainerStateStatusEnum::DEAD,
        ] {
            assert_eq!(
                instance_info(&inspected(status)).state,
                InstanceState::Exited {
                    exit_code: 3,
                    finished_at: None,
                    stopped_manually: false,
                }
            );
        }
        assert_eq!(
            instance_info(&inspected(ContainerStateStatusEnum::CREATED)).state,
            InstanceState::Created
        );
    }

    fn under(name: RestartPolicyNameEnum, retries: Option<i64>, exit_code: i64) -> bool {
        let mut c = inspected(ContainerStateStatusEnum::EXITED);
        c.state.as_mut().unwrap().exit_code = Some(exit_code);
        c.host_config = Some(HostConfig {
            restart_policy: Some(RestartPolicy {
                name: Some(name),
                maximum_retry_count: retries,
            }),
            ..HostConfig::default()
        });
        match instance_info(&c).state {
            InstanceState::Exited {
                stopped_manually, ..
            } => stopped_manually,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn an_exited_container_its_policy_would_restart_was_stopped_by_hand() {
        use RestartPolicyNameEnum::*;
        assert!(under(ALWAYS, None, 0));
        assert!(under(ALWAYS, None, 143));
        assert!(under(UNLESS_STOPPED, None, 137));
        assert!(under(ON_FAILURE, None, 1));
        assert!(under(ON_FAILURE, Some(0), 143));
        // Not restarted by the policy: a plain exit.
        assert!(!under(ON_FAILURE, None, 0));
        assert!(!under(ON_FAILURE, Some(3), 1), "retries may have run out");
        assert!(!under(NO, None, 143));
        // A container that is restarting is not stopped.
        let mut c = inspected(ContainerStateStatusEnum::RESTARTING);
        c.host_config = Some(HostConfig {
            restart_policy: Some(RestartPolicy {
                name: Some(ALWAYS),
                maximum_retry_count: None,
            }),
            ..HostConfig::default()
        });
        assert!(matches!(
            instance_info(&c).state,
            InstanceState::Exited {
                stopped_manually: false,
                ..
            }
        ));
    }
}
