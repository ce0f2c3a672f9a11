//! `events [--watch]`: the engine's events. Without `--watch`, the current state of every
//! deployment and job, printed as the events that would report it; with it, every event from
//! now on until Ctrl-C or until stdout's reader goes away (even while nothing happens).

use robodeploy_core::engine::{EngineEvent, RecoveryAction};
use robodeploy_core::model::RobotStatus;
use serde_json::Value;

use super::args::{EventsArgs, Format};
use super::config::Settings;
use super::error::Outcome;
use super::get::executable_status;
use super::output::{self, line, printable};

/// One event in a line for people.
fn describe(event: &Value) -> String {
    match serde_json::from_value::<EngineEvent>(event.clone()) {
        Ok(EngineEvent::Deployment(s)) => {
            let exes: Vec<String> = s
                .executables
                .iter()
                .map(|e| format!("{}/{} {}", e.component, e.name, executable_status(e)))
                .collect();
            printable(&format!(
                "deployment {}: {}, {}, {}{}",
                s.name,
                s.phase,
                s.status,
                output::count(s.restart_count as usize, "restart", "restarts"),
                if exes.is_empty() {
                    String::new()
                } else {
                    format!(" ({})", exes.join("; "))
                }
            ))
            .into_owned()
        }
        Ok(EngineEvent::Robot { job, report }) => printable(&format!(
            "job {job}: robot {} {:?} at {} ({}%){}",
            report.robot,
            report.status,
            report.step,
            report.percent_done,
            report.failure.map(|c| format!(", {c}")).unwrap_or_default()
        ))
        .into_owned(),
        Ok(EngineEvent::Job { job, status }) => format!("job {job}: {status:?}"),
        Ok(EngineEvent::Device { device, online }) => printable(&format!(
            "device {device}: {}",
            if online { "online" } else { "offline" }
        ))
        .into_owned(),
        Ok(EngineEvent::Recovery(action)) => {
            printable(&format!("recovery: {}", recovery_line(&action))).into_owned()
        }
        _ => printable(&event.to_string()).into_owned(),
    }
}

/// What a recovery did, in words.
fn recovery_line(action: &RecoveryAction) -> String {
    match action {
        RecoveryAction::Adopted {
            deployment,
            component,
            executable,
            instance,
        } => format!(
            "deployment {deployment}: {component}/{executable} adopted, still running as {instance}"
        ),
        RecoveryAction::FoundExited {
            deployment,
            component,
            executable,
            instance,
        } => format!(
            "deployment {deployment}: {component}/{executable} found exited ({instance}); its restart policy decides"
        ),
        RecoveryAction::Missing {
            deployment,
            component,
            executable,
        } => format!("deployment {deployment}: {component}/{executable} has no instance"),
        RecoveryAction::StoppedOrphan {
            deployment,
            instance,
        } => format!(
            "deployment {deployment} was deprovisioned: its leftover {instance} stopped and removed"
        ),
        RecoveryAction::RobotResumed {
            job,
            robot,
            deployment,
        } => match deployment {
            Some(d) => format!("job {job}: robot {robot} carried on (deployment {d})"),
            None => format!("job {job}: robot {robot} carried on"),
        },
        RecoveryAction::Failed {
            deployment,
            message,
        } => format!("deployment {deployment} could not be brought back: {message}"),
        other => format!("{other:?}"),
    }
}

/// `events`.
pub(crate) async fn events(args: &EventsArgs, settings: &Settings) -> Outcome {
    let client = settings.client()?;
    let emit = |v: &Value| {
        if settings.output == Format::Table {
            line(describe(v));
        } else {
            output::json_line(v);
        }
    };
    if !args.watch {
        for d in client.deployments().await? {
            emit(&serde_json::to_value(EngineEvent::Deployment(Box::new(d))).unwrap_or_default());
        }
        for j in client.jobs().await? {
            for r in &j.robots {
                if r.status != RobotStatus::Available {
                    let e = EngineEvent::Robot {
                        job: j.id,
                        report: Box::new(r.clone()),
                    };
                    emit(&serde_json::to_value(e).unwrap_or_default());
                }
            }
            let e = EngineEvent::Job {
                job: j.id,
                status: j.status,
            };
            emit(&serde_json::to_value(e).unwrap_or_default());
        }
        return Ok(true);
    }
    let mut events = client.events().await?;
    // A quiet server watched into a closed pipe: nothing would be written, so nothing would
    // fail; the reader's going away is watched for as well.
    let gone = output::reader_gone();
    tokio::pin!(gone);
    loop {
        let event = tokio::select! {
            event = events.recv() => event,
            () = &mut gone => break,
        };
        let Some(event) = event else { break };
        emit(&event?);
        if output::closed() {
            break;
        }
    }
    Ok(true)
}
