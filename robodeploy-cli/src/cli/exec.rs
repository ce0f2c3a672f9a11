//! `exec NAME -- CMD...`: a command run inside a running executable.

use super::args::{ExecArgs, Format};
use super::config::Settings;
use super::error::{CliError, Outcome};
use super::output::{self, line};
use crate::api::ExecRequest;

/// `exec`: prints the command's output; fails (exit 1) when it exits non-zero.
pub(crate) async fn exec(args: &ExecArgs, settings: &Settings) -> Outcome {
    let client = settings.client()?;
    let (component, executable) = match (&args.component, &args.executable) {
        (Some(c), Some(e)) => (c.clone(), e.clone()),
        _ => {
            let s = client.deployment(&args.name).await?;
            let chosen: Vec<_> = s
                .executables
                .iter()
                .filter(|e| args.component.as_ref().is_none_or(|c| *c == e.component))
                .filter(|e| args.executable.as_ref().is_none_or(|x| *x == e.name))
                .collect();
            match chosen.as_slice() {
                [one] => (one.component.clone(), one.name.clone()),
                [] => {
                    return Err(CliError::Failed(format!(
                        "{}: no executable matches",
                        args.name
                    )));
                }
                many => {
                    let names: Vec<String> = many
                        .iter()
                        .map(|e| format!("{}/{}", e.component, e.name))
                        .collect();
                    return Err(CliError::Usage(format!(
                        "{} has {} executables ({}): choose with --component and --executable",
                        args.name,
                        many.len(),
                        names.join(", ")
                    )));
                }
            }
        }
    };
    let out = client
        .exec(
            &args.name,
            &ExecRequest {
                component,
                executable,
                command: args.command.clone(),
            },
        )
        .await?;
    if settings.output == Format::Table {
        if !out.stdout.is_empty() {
            line(out.stdout.trim_end_matches('\n'));
        }
        if !out.stderr.is_empty() {
            output::diagnostic(out.stderr.trim_end_matches('\n'));
        }
    } else {
        output::value(settings.output, &out)?;
    }
    Ok(out.exit_code == 0)
}
