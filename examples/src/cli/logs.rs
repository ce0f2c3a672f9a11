//! `logs`: an executable's output, read from its process runtime's log files.

use std::path::Path;

use robodeploy_core::runtime::{LogLine, LogOptions, Runtime};
use serde::Serialize;

use super::args::LogFlags;
use super::inventory::{Instance, Inventory};
use super::state::StateDir;
use super::{CliError, Outcome};

/// One line as `--json` prints it (one object per line).
#[derive(Serialize)]
struct LineView<'a> {
    device: &'a str,
    component: &'a str,
    executable: &'a str,
    #[serde(flatten)]
    line: LogLine,
}

/// `logs NAME [--component C] [--executable E] [--tail N] [--follow]`.
pub(crate) async fn logs(state_dir: &Path, name: &str, flags: &LogFlags, json: bool) -> Outcome {
    let state = StateDir::open(state_dir, false)?;
    let inventory = Inventory::take(&state).await?;
    let mut chosen: Vec<&Instance> = Vec::new();
    for target in inventory.resolve(name)? {
        chosen.extend(inventory.instances(target.id).iter().filter(|i| {
            let (c, e) = i.executable();
            flags.component.as_deref().is_none_or(|want| want == c)
                && flags.executable.as_deref().is_none_or(|want| want == e)
        }));
    }
    if chosen.is_empty() {
        return Err(CliError::Refused(format!(
            "{name}: no executable matches (see `robodeploy status {name}`)"
        )));
    }
    if flags.follow && chosen.len() > 1 {
        return Err(CliError::Usage(format!(
            "{name} has {} executables: --follow needs one (--component, --executable)",
            chosen.len()
        )));
    }
    let options = LogOptions {
        tail: flags.tail,
        follow: flags.follow,
    };
    // With several executables, each line says whose it is.
    let prefix = chosen.len() > 1;
    for instance in chosen {
        let Some(runtime) = inventory.runtimes.get(&instance.device) else {
            continue;
        };
        let (component, executable) = instance.executable();
        let mut lines = runtime.logs(&instance.info.id, options).await?;
        while let Some(line) = lines.recv().await {
            if json {
                let view = LineView {
                    device: &instance.device,
                    component,
                    executable,
                    line,
                };
                match serde_json::to_string(&view) {
                    Ok(text) => println!("{text}"),
                    Err(e) => return Err(CliError::Refused(format!("cannot write JSON: {e}"))),
                }
            } else if prefix {
                println!("{component}/{executable} | {}", line.line);
            } else {
                println!("{}", line.line);
            }
        }
    }
    Ok(true)
}
