//! `logs`: an executable's output, asked of the engine once it has reconciled its store. The
//! engine is detached before the lines are read, so `--follow` holds no lock on the store.

use std::path::Path;

use robodeploy_core::engine::EngineConfig;
use robodeploy_core::runtime::{LogLine, LogOptions, LogReceiver};
use serde::Serialize;

use super::args::LogFlags;
use super::session::Session;
use super::state::StateDir;
use super::status::nothing_applied;
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

/// One executable's output being read.
struct Source {
    device: String,
    component: String,
    executable: String,
    lines: LogReceiver,
}

/// `logs NAME [--component C] [--executable E] [--tail N] [--follow]`.
pub(crate) async fn logs(state_dir: &Path, name: &str, flags: &LogFlags, json: bool) -> Outcome {
    let Some(state) = StateDir::existing(state_dir)? else {
        return Err(nothing_applied(state_dir, name));
    };
    let session = Session::open(state, EngineConfig::default()).await?;
    let sources = sources(&session, name, flags).await;
    let sources = session.finish(sources).await?;
    // The lock goes with the session: other commands may run while the lines are read.
    drop(session);
    // With several executables, each line says whose it is.
    let prefix = sources.len() > 1;
    for mut source in sources {
        while let Some(line) = source.lines.recv().await {
            if json {
                let view = LineView {
                    device: &source.device,
                    component: &source.component,
                    executable: &source.executable,
                    line,
                };
                match serde_json::to_string(&view) {
                    Ok(text) => println!("{text}"),
                    Err(e) => return Err(CliError::Refused(format!("cannot write JSON: {e}"))),
                }
            } else if prefix {
                println!("{}/{} | {}", source.component, source.executable, line.line);
            } else {
                println!("{}", line.line);
            }
        }
    }
    Ok(true)
}

/// The executables NAME and the flags choose (those that have an instance), their output
/// opened through the engine.
async fn sources(session: &Session, name: &str, flags: &LogFlags) -> Result<Vec<Source>, CliError> {
    let mut chosen = Vec::new();
    for deployment in session.resolve(name).await? {
        for e in deployment.executables {
            let wanted = flags.component.as_deref().is_none_or(|c| c == e.component)
                && flags.executable.as_deref().is_none_or(|x| x == e.name);
            if wanted && e.instance.is_some() {
                chosen.push((deployment.id, e));
            }
        }
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
    let mut sources = Vec::with_capacity(chosen.len());
    for (id, e) in chosen {
        let lines = session
            .engine
            .logs(id, &e.component, &e.name, options)
            .await?;
        sources.push(Source {
            device: e.device.unwrap_or_else(|| "cloud".to_owned()),
            component: e.component,
            executable: e.name,
            lines,
        });
    }
    Ok(sources)
}
