//! `logs NAME`: a deployment's output, or a whole job's (NAME a job id), each line prefixed
//! with its robot (a job) or its executable (unless `--executable` names one); `--follow` goes
//! on across restarts.

use robodeploy_core::model::JobId;

use super::args::{Format, LogsArgs};
use super::config::Settings;
use super::error::Outcome;
use super::output::{self, line, printable};
use crate::api::LogQuery;

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
    let (mut lines, whole_job) = match args.name.parse::<JobId>() {
        Ok(job) => match client.job_logs(job, &query).await {
            Ok(rx) => (rx, true),
            Err(crate::client::ClientError::Refused { status: 404, .. }) => {
                (client.deployment_logs(&args.name, &query).await?, false)
            }
            Err(e) => return Err(e.into()),
        },
        Err(_) => (client.deployment_logs(&args.name, &query).await?, false),
    };
    while let Some(entry) = lines.recv().await {
        let entry = entry?;
        if settings.output != Format::Table {
            output::json_line(&entry);
        } else {
            let text = printable(&entry.line.line);
            if whole_job {
                line(format!("[{}] {text}", printable(&entry.device)));
            } else if args.executable.is_none() {
                line(format!(
                    "[{}/{}] {text}",
                    printable(&entry.component),
                    printable(&entry.executable)
                ));
            } else {
                line(text);
            }
        }
        if output::closed() {
            break;
        }
    }
    Ok(true)
}
