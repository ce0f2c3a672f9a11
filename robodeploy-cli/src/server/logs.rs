//! The output of a deployment's executables, or of every deployment of a job, streamed as JSON
//! lines: each line says which deployment, robot, executable and instance wrote it.
//!
//! With `follow`, each executable is followed across restarts: when its instance ends, the
//! stream waits for the instance the engine starts next and goes on with that one's output from
//! its first line, until the deployment ends, the server stops or the client goes away. An
//! executable that already ended (exited, not restarted) is read too: its last instance's
//! output first, then whatever instance the engine starts next.

use std::sync::Arc;

use robodeploy_core::engine::{DeploymentStatus, ExecutableReport};
use robodeploy_core::model::{DeploymentId, ExecutableStatus};
use robodeploy_core::runtime::LogOptions;
use tokio::sync::watch;

use super::Ctx;
use super::error::Refusal;
use super::streams::{Lines, channel};
use crate::api::{LogEntry, LogQuery};

/// One executable whose output is read.
struct Source {
    deployment: DeploymentId,
    deployment_name: String,
    executable: ExecutableReport,
}

/// Streams the output of the executables of `deployments` that the query chooses.
pub(crate) fn stream(
    ctx: Arc<Ctx>,
    deployments: Vec<DeploymentStatus>,
    query: LogQuery,
) -> Result<axum::response::Response, Refusal> {
    let mut sources = Vec::new();
    for d in deployments {
        for e in d.executables {
            let wanted = query.component.as_deref().is_none_or(|c| c == e.component)
                && query.executable.as_deref().is_none_or(|x| x == e.name);
            if wanted && (e.instance.is_some() || query.follow) {
                sources.push(Source {
                    deployment: d.id,
                    deployment_name: d.name.clone(),
                    executable: e,
                });
            }
        }
    }
    if sources.is_empty() {
        return Err(Refusal::not_found(
            "no executable matches (or none has started yet): see its status",
        ));
    }
    let (lines, response) = channel();
    tokio::spawn(async move {
        if query.follow {
            let mut followers = Vec::new();
            for source in sources {
                followers.push(tokio::spawn(follow(
                    Arc::clone(&ctx),
                    source,
                    query.tail,
                    lines.clone(),
                )));
            }
            drop(lines);
            for f in followers {
                let _ = f.await;
            }
        } else {
            for source in sources {
                if !read(&ctx, &source, query.tail, &lines).await {
                    return;
                }
            }
        }
    });
    Ok(response)
}

fn entry(source: &Source, instance: &str, line: robodeploy_core::runtime::LogLine) -> LogEntry {
    LogEntry {
        deployment: source.deployment_name.clone(),
        device: source
            .executable
            .device
            .clone()
            .unwrap_or_else(|| "cloud".to_owned()),
        component: source.executable.component.clone(),
        executable: source.executable.name.clone(),
        instance: instance.to_owned(),
        line,
    }
}

/// Sends what the executable's current instance wrote; `false` once the client is gone.
async fn read(ctx: &Ctx, source: &Source, tail: Option<usize>, lines: &Lines) -> bool {
    let instance = source.executable.instance.clone().unwrap_or_default();
    let options = LogOptions {
        tail,
        follow: false,
    };
    let e = &source.executable;
    let Ok(mut rx) = ctx
        .engine
        .logs(source.deployment, &e.component, &e.name, options)
        .await
    else {
        // It has no instance any more (it ended since the status was read): nothing to send.
        return true;
    };
    while let Some(line) = rx.recv().await {
        if !lines.send(&entry(source, &instance, line)).await {
            return false;
        }
    }
    true
}

/// Whether an executable's instance has started: a restart is counted when it is ordered, and
/// its output is read only once the new instance runs (before, the old one's is all there is).
fn started(e: &ExecutableReport) -> bool {
    e.instance.is_some() && matches!(e.status, ExecutableStatus::Running)
}

/// Follows one executable across its restarts (see the [module docs](self)).
async fn follow(ctx: Arc<Ctx>, mut source: Source, mut tail: Option<usize>, lines: Lines) {
    let mut stopping: watch::Receiver<bool> = ctx.stopping.clone();
    let mut watch = ctx.engine.watch(source.deployment);
    // The instance followed last, and the restart count then: a restarted executable may keep
    // its instance's name, and is told apart by its restart count.
    let mut followed: Option<(String, u32)> = None;
    let current = |e: &ExecutableReport| e.instance.clone().map(|i| (i, e.restart_count));
    loop {
        // Wait for an instance not followed yet, unless the deployment ends first. The first
        // may have ended already (an executable that exited and was not restarted): its
        // output is still there to read.
        let readable =
            |e: &ExecutableReport, first: bool| started(e) || (first && e.instance.is_some());
        while !readable(&source.executable, followed.is_none())
            || current(&source.executable) == followed
        {
            let next = tokio::select! {
                () = super::stopped(&mut stopping) => return,
                next = watch.next() => next,
            };
            let Some(status) = next else { return };
            if status.phase.is_terminal() {
                return;
            }
            if let Some(e) = status.executables.into_iter().find(|e| {
                e.component == source.executable.component && e.name == source.executable.name
            }) {
                source.executable = e;
            }
        }
        let instance = source.executable.instance.clone().unwrap_or_default();
        let e = &source.executable;
        let options = LogOptions { tail, follow: true };
        // From the second instance on, all of its output.
        tail = None;
        followed = current(e);
        let Ok(mut rx) = ctx
            .engine
            .logs(source.deployment, &e.component, &e.name, options)
            .await
        else {
            continue;
        };
        loop {
            let line = tokio::select! {
                () = super::stopped(&mut stopping) => return,
                next = rx.recv() => next,
                status = watch.next() => {
                    // A runtime may keep following the old instance's output after it ended
                    // (its file is not closed by a restart): a restart or the deployment's
                    // end is learned from the engine instead.
                    let Some(status) = status else { return };
                    if status.phase.is_terminal() {
                        return;
                    }
                    if let Some(e) = status.executables.into_iter().find(|e| {
                        e.component == source.executable.component
                            && e.name == source.executable.name
                    }) {
                        let moved_on = current(&e) != followed && started(&e);
                        source.executable = e;
                        if moved_on {
                            break;
                        }
                    }
                    continue;
                }
            };
            let Some(line) = line else { break };
            if !lines.send(&entry(&source, &instance, line)).await {
                return;
            }
        }
        if lines.is_closed() {
            return;
        }
    }
}
