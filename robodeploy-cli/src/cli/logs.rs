//! `logs NAME`: a deployment's output, or a whole job's (NAME a job id), each line prefixed
//! with its robot and its executable, `[robot component/executable] text`, or with its robot
//! only, `[robot] text`, when `--component` and `--executable` together name the executable
//! (`--executable` alone may match one in each of several components); `--follow` goes on across
//! restarts, until the deployment ends, Ctrl-C, or stdout's reader goes away (even while no line
//! comes).

use robodeploy_core::model::JobId;

use super::args::{Format, LogsArgs};
use super::config::Settings;
use super::error::Outcome;
use super::output::{self, line, printable};
use crate::api::{LogEntry, LogQuery};

/// `logs`.
pub(crate) async fn logs(args: &LogsArgs, settings: &Settings) -> Outcome {
    let client = settings.client()?;
    let query = LogQuery {
        component: args.component.clone(),
        executable: args.executable.clone(),
        tail: args.tail,
        follow: args.follow,
    };
    // A job's id names every robot's deployment; a deployment's name or id, one.
    let mut lines = match args.name.parse::<JobId>() {
        Ok(job) => match client.job_logs(job, &query).await {
            Ok(rx) => rx,
            Err(crate::client::ClientError::Refused { status: 404, .. }) => {
                client.deployment_logs(&args.name, &query).await?
            }
            Err(e) => return Err(e.into()),
        },
        Err(_) => client.deployment_logs(&args.name, &query).await?,
    };
    // A quiet executable followed into a closed pipe: nothing would be written, so nothing
    // would fail; the reader's going away is watched for as well.
    let gone = output::reader_gone();
    tokio::pin!(gone);
    loop {
        let entry = tokio::select! {
            entry = lines.recv() => entry,
            () = &mut gone => break,
        };
        let Some(entry) = entry else { break };
        let entry = entry?;
        if settings.output != Format::Table {
            output::json_line(&entry);
        } else {
            let named = args.component.is_some() && args.executable.is_some();
            line(prefixed(&entry, !named));
        }
        if output::closed() {
            break;
        }
    }
    Ok(true)
}

/// A line for people: `[robot component/executable] text`, or `[robot] text` when the
/// executable goes without saying.
fn prefixed(entry: &LogEntry, with_executable: bool) -> String {
    let text = printable(&entry.line.line);
    let robot = printable(&entry.device);
    if with_executable {
        format!(
            "[{robot} {}/{}] {text}",
            printable(&entry.component),
            printable(&entry.executable)
        )
    } else {
        format!("[{robot}] {text}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_line_names_its_robot_and_its_executable_unless_it_goes_without_saying() {
        let entry: LogEntry = serde_json::from_value(serde_json::json!({
            "deployment": "talker",
            "device": "robot-7",
            "component": "nav",
            "executable": "planner",
            "instance": "i-1",
            "stream": "stdout",
            "line": "ready\u{1b}[2J",
        }))
        .unwrap();
        assert_eq!(
            prefixed(&entry, true),
            "[robot-7 nav/planner] ready\\u{1b}[2J"
        );
        assert_eq!(prefixed(&entry, false), "[robot-7] ready\\u{1b}[2J");
    }
}
