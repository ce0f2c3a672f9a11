//! Removing task containers an earlier process created and never started.
//!
//! A task container is created with auto-removal, so Docker removes it when it exits, even if
//! the process that ran it died first. The one thing Docker does not remove is a container that
//! never ran: a process killed between creating a task container and starting it leaves it in
//! the `created` state forever. A live runtime starts what it creates within milliseconds, so a
//! task container still `created` after [`DockerConfig::abandoned_task_age`] is abandoned; the
//! runtime removes such containers whenever it lists its instances (which an engine does when it
//! attaches a runtime, in particular on recovery).
//!
//! [`DockerConfig::abandoned_task_age`]: crate::DockerConfig::abandoned_task_age

use std::collections::HashMap;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use bollard::Docker;
use bollard::query_parameters::ListContainersOptions;

use crate::error::status_of;
use crate::exec::TASK_LABEL;

/// Removes the task containers created at least `age` ago and never started; returns how many
/// were removed. Failures are logged and skipped: the next listing tries again.
pub(crate) async fn sweep_abandoned_tasks(docker: &Docker, age: Duration) -> usize {
    let options = ListContainersOptions {
        all: true,
        filters: Some(HashMap::from([
            ("label".to_owned(), vec![format!("{TASK_LABEL}=true")]),
            ("status".to_owned(), vec!["created".to_owned()]),
        ])),
        ..ListContainersOptions::default()
    };
    let found = match docker.list_containers(Some(options)).await {
        Ok(found) => found,
        Err(e) => {
            tracing::warn!(error = %e, "could not list task containers to sweep");
            return 0;
        }
    };
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let mut removed = 0;
    for c in found {
        let (Some(id), Some(created)) = (c.id, c.created) else {
            continue;
        };
        if !is_abandoned(created, now, age) {
            continue;
        }
        match crate::runtime::force_remove(docker, &id).await {
            Ok(()) => {
                tracing::info!(container = %id, "removed a task container that never started");
                removed += 1;
            }
            // Gone or being removed by someone else: as good.
            Err(e) if matches!(status_of(&e), Some(404 | 409)) => {}
            Err(e) => {
                tracing::warn!(container = %id, error = %e, "could not remove a task container")
            }
        }
    }
    removed
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
