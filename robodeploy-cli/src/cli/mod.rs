//! The `robodeploy` command line: one module per command, the settings that say which server to
//! talk to, the output every command prints through, and the error whose kind is the exit code.

mod apply;
pub(crate) mod args;
mod config;
mod error;
mod events;
mod exec;
mod get;
mod jobs;
mod logging;
mod logs;
mod output;
mod plan;
mod progress;
mod validate;
mod values;
mod wait;

use std::process::ExitCode;

use args::{Cli, Command};
use config::Settings;
use error::{CliError, Outcome};

/// Runs the command line of this process and returns its exit code (see `robodeploy --help`).
///
/// The binary's `main` calls this, after letting the process runtime's supervisor take over
/// when the process was started as one.
pub fn main() -> ExitCode {
    let cli = match Cli::parse_args() {
        Ok(c) => c,
        Err(e) => {
            // --help and --version print on stdout and exit 0; usage errors exit 2. Help that
            // could not be written (other than into a closed pipe) fails like any output.
            let code = e.exit_code();
            let printed = e
                .print()
                .and_then(|()| std::io::Write::flush(&mut std::io::stdout()));
            if let Err(why) = printed
                && code == 0
                && why.kind() != std::io::ErrorKind::BrokenPipe
            {
                output::diagnostic(format!("robodeploy: stdout: {why}"));
                return ExitCode::from(3);
            }
            return ExitCode::from(u8::try_from(code).unwrap_or(2));
        }
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            output::diagnostic(format!("robodeploy: cannot start tokio: {e}"));
            return ExitCode::from(3);
        }
    };
    let outcome = runtime.block_on(run(cli));
    // Output that could not be written (other than into a closed pipe) fails the command, whatever
    // it did: its result never reached the reader whole.
    let outcome = match (outcome, output::write_failure()) {
        (Ok(_), Some(why)) => Err(CliError::Io {
            path: "stdout".into(),
            source: std::io::Error::other(why.to_owned()),
        }),
        (outcome, _) => outcome,
    };
    match outcome {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::from(1),
        Err(e) => {
            let text = e.to_string();
            for (i, line) in text.lines().enumerate() {
                let prefix = if i == 0 { "robodeploy: " } else { "" };
                output::diagnostic(format!("{prefix}{}", output::printable(line)));
            }
            ExitCode::from(e.exit_code())
        }
    }
}

/// Runs a parsed command line.
async fn run(cli: Cli) -> Outcome {
    let settings = Settings::resolve(&cli)?;
    match &cli.command {
        Command::Serve(args) => serve(args, &settings).await,
        Command::Validate(args) => validate::validate_all(&args.files, settings.output),
        Command::Plan(args) => plan::plan(&args.file, args, settings.output),
        Command::Schema => {
            output::value(args::Format::Json, &crate::schema::manifest_schema())?;
            Ok(true)
        }
        Command::Openapi => {
            output::value(args::Format::Json, &crate::openapi::document())?;
            Ok(true)
        }
        Command::Apply(args) => apply::apply(args, &settings).await,
        Command::Delete(args) => apply::delete(args, &settings).await,
        Command::Get(args) => get::get(args, &settings).await,
        Command::Describe(args) => get::describe(args, &settings).await,
        Command::Jobs(args) => jobs::jobs(args, &settings).await,
        Command::Logs(args) => logs::logs(args, &settings).await,
        Command::Events(args) => events::events(args, &settings).await,
        Command::Exec(args) => exec::exec(args, &settings).await,
        Command::Deprovision(args) => get::deprovision(&args.name, &settings).await,
        Command::Completions(args) => {
            output::line(completions(args.shell)?.trim_end());
            Ok(true)
        }
        Command::Man => {
            output::line(MAN_PAGE.trim_end());
            Ok(true)
        }
    }
}

/// The manual page (roff), as the build script rendered it from the command line.
const MAN_PAGE: &str = include_str!(concat!(env!("OUT_DIR"), "/robodeploy.1"));

/// A shell's completions, as the build script rendered them from the command line.
fn completions(shell: clap_complete::Shell) -> Result<&'static str, CliError> {
    use clap_complete::Shell;
    Ok(match shell {
        Shell::Bash => include_str!(concat!(env!("OUT_DIR"), "/robodeploy.bash")),
        Shell::Elvish => include_str!(concat!(env!("OUT_DIR"), "/robodeploy.elvish")),
        Shell::Fish => include_str!(concat!(env!("OUT_DIR"), "/robodeploy.fish")),
        Shell::PowerShell => include_str!(concat!(env!("OUT_DIR"), "/robodeploy.powershell")),
        Shell::Zsh => include_str!(concat!(env!("OUT_DIR"), "/robodeploy.zsh")),
        // A shell a newer clap_complete knows (the enum is non-exhaustive): the build script
        // rendered it, but this build does not carry it.
        other => {
            return Err(CliError::Usage(format!(
                "no completions for {other} in this build"
            )));
        }
    })
}

/// `serve`: runs until SIGTERM or SIGINT.
async fn serve(args: &args::ServeArgs, settings: &Settings) -> Outcome {
    logging::install()?;
    let remote = match &args.remote {
        Some(path) => {
            let text = std::fs::read_to_string(path).map_err(|source| CliError::Io {
                path: path.clone(),
                source,
            })?;
            let link: robodeploy_zenoh::LinkConfig = serde_saphyr::from_str(&text)
                .map_err(|e| CliError::Usage(format!("--remote {}: {e}", path.display())))?;
            link.check()
                .map_err(|e| CliError::Usage(format!("--remote {}: {e}", path.display())))?;
            Some(link)
        }
        None => None,
    };
    let mut config = crate::server::ServeConfig::new(&settings.state_dir);
    config.listen = args.listen;
    config.remote = remote;
    config.engine = config
        .engine
        .with_job_retention(args.job_retention)
        .with_deployment_retention(args.deployment_retention);
    config.tls = match (&args.tls_cert, &args.tls_key) {
        (Some(certificate), Some(key)) => Some(crate::server::ServerTls {
            certificate: certificate.clone(),
            key: key.clone(),
        }),
        _ => None,
    };
    crate::server::serve(config).await?;
    Ok(true)
}
