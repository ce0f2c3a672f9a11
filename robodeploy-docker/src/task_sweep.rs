//! Task containers an earlier process left: created and never started, or running for a caller
//! that is gone.
//!
//! A task container is created with auto-removal, so Docker removes it when it exits, even if
//! the process that ran it died first. Two things Docker does not do:
//!
//! - remove a container that never ran: a process killed between creating a task container
//!   and starting it leaves it in the `created` state forever. A live runtime starts what it
//!   creates within milliseconds, so a task container still `created` after
//!   [`DockerConfig::abandoned_task_age`] is abandoned, and removed;
//! - stop a task whose caller died: a job's script would run on, and run a second time beside
//!   itself when a restarted engine runs the step again. Every task container names its caller
//!   ([`OWNER_LABEL`](crate::OWNER_LABEL), see `task_owner`); one that runs for a caller that
//!   ran on this machine in this boot and is gone is killed (auto-removal then removes it).
//!
//! The runtime sweeps whenever it lists its instances (which an engine does when it attaches a
//! runtime, in particular on recovery).
//!
//! [`DockerConfig::abandoned_task_age`]: crate::DockerConfig::abandoned_task_age

use std::collections::HashMap;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use bollard::Docker;
use bollard::models::ContainerSummaryStateEnum;
use bollard::query_parameters::{KillContainerOptions, ListContainersOptions};

use crate::error::status_of;
use crate::exec::TASK_LABEL;
use crate::task_owner::{OWNER_LABEL, TaskOwner};

/// Removes the task containers created at least `age` ago and never started, and kills the
/// running ones whose caller is gone. Failures are logged and skipped: the next listing tries
/// again.
pub(crate) async fn sweep_tasks(docker: &Docker, age: Duration) {
    let options = ListContainersOptions {
        all: true,
        filters: Some(HashMap::from([(
            "label".to_owned(),
            vec![format!("{TASK_LABEL}=true")],
        )])),
        ..ListContainersOptions::default()
    };
    let found = match docker.list_containers(Some(options)).await {
        Ok(found) => found,
        Err(e) => {
            tracing::warn!(error = %e, "could not list task containers to sweep");
            return;
        }
    };
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    for c in found {
        let Some(id) = c.id else { continue };
        match c.state {
            Some(ContainerSummaryStateEnum::CREATED) => {
                if !c.created.is_some_and(|t| is_abandoned(t, now, age)) {
                    continue;
                }
                match crate::runtime::force_remove(docker, &id).await {
                    Ok(()) => {
                        tracing::info!(container = %id, "removed a task container that never started");
                    }
                    // Gone or being removed by someone else: as good.
                    Err(e) if matches!(status_of(&e), Some(404 | 409)) => {}
                    Err(e) => {
                        tracing::warn!(container = %id, error = %e, "could not remove a task container")
                    }
                }
            }
            Some(ContainerSummaryStateEnum::RUNNING) => {
                let orphan = c
                    .labels
                    .as_ref()
                    .and_then(|l| l.get(OWNER_LABEL))
                    .and_then(|v| TaskOwner::parse(v))
                    .is_some_and(|owner| owner.is_gone_here());
                if !orphan {
                    continue;
                }
                match docker
                    .kill_container(&id, None::<KillContainerOptions>)
                    .await
                {
                    Ok(()) => {
                        tracing::info!(container = %id, "killed a task container whose caller is gone");
                    }
                    // Exited or removed meanwhile: as good.
                    Err(e) if matches!(status_of(&e), Some(404 | 409)) => {}
                    Err(e) => {
                        tracing::warn!(container = %id, error = %e, "could not kill an orphan task container")
                    }
                }
            }
            _ => {}
        }
    }
}

/// Whether a container created at `created` (Unix seconds, as Docker lists it) is at least
/// `age` old at `now`. Docker gives whole seconds, so a container is counted as old from the
/// start of its second.
fn is_abandoned(created: i64, now: u64, age: Duration) -> bool {
    let created = u64::try_from(created).unwrap_or(0);
    now.saturating_sub(created) >= age.as_secs()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_container_is_abandoned_once_it_is_old_enough() {
        let age = Duration::from_secs(60);
        assert!(!is_abandoned(1_000, 1_059, age));
        assert!(is_abandoned(1_000, 1_060, age));
        assert!(is_abandoned(1_000, 5_000, age));
        // A clock behind the engine's, or a created time in the future: not abandoned.
        assert!(!is_abandoned(2_000, 1_000, age));
        // Age zero: everything never started is abandoned.
        assert!(is_abandoned(1_000, 1_000, Duration::ZERO));
        assert!(is_abandoned(-5, 0, Duration::ZERO));
    }
}
