//! The command line, as clap reads it. `robodeploy help COMMAND` and `--help` print it.
//!
//! The build script (`build.rs`) compiles this file too, to render the man page and the shell
//! completions: everything it names must resolve there as well (clap, clap_complete and
//! `crate::cli::values`, of which the build script has its own copy), so it names nothing else.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Parser, Subcommand, ValueEnum};

// The same path in the crate and in the build script, which brings its own versions.
use crate::cli::values::{duration, retention, share, speed};

/// The exit codes every command documents.
pub(crate) const EXIT_CODES: &str = "\
Exit codes:
  0  success
  1  failed: a manifest does not parse or validate, a deployment did not stay up, a job did not
     succeed (for apply, also: a robot of a job failed, even within the job's failure
     threshold), the server refused the request (nothing of that name, a conflict)
  2  usage: unknown command or flag, a missing or malformed argument
  3  the server could not be reached or failed, a file could not be read or written, stdout
     could not be written (a reader that closes the pipe early, as `| head` does, is not a
     failure: the output ends quietly and the code is the command's own)

Which server: --server, else ROBODEPLOY_SERVER, else `server` in the config file, else the URL
a server on the state directory wrote (<state-dir>/endpoint), else http://127.0.0.1:7670.
The token: --token, else ROBODEPLOY_TOKEN, else `token` in the config file, else
<state-dir>/token.";

/// robodeploy: deploy robot applications to fleets and keep them running.
#[derive(Debug, Parser)]
#[command(name = "robodeploy", version, about, after_help = EXIT_CODES)]
pub(crate) struct Cli {
    /// Output format.
    #[arg(short, long, global = true, value_enum, env = "ROBODEPLOY_OUTPUT")]
    pub(crate) output: Option<Format>,
    /// The server's URL (`http://127.0.0.1:7670`).
    #[arg(long, global = true, env = "ROBODEPLOY_SERVER")]
    pub(crate) server: Option<String>,
    /// The server's bearer token.
    #[arg(long, global = true, env = "ROBODEPLOY_TOKEN", hide_env_values = true)]
    pub(crate) token: Option<String>,
    /// A CA certificate (PEM) to trust for an https server.
    #[arg(long, global = true, env = "ROBODEPLOY_CA_CERT", value_name = "FILE")]
    pub(crate) ca_cert: Option<PathBuf>,
    /// The state directory: the server's store, token and endpoint (default ./.robodeploy).
    #[arg(long, global = true, env = "ROBODEPLOY_STATE_DIR")]
    pub(crate) state_dir: Option<PathBuf>,
    /// A config file (YAML: server, token, stateDir, output); default
    /// $XDG_CONFIG_HOME/robodeploy/config.yaml when it exists.
    #[arg(long, global = true, env = "ROBODEPLOY_CONFIG")]
    pub(crate) config: Option<PathBuf>,
    /// What to do.
    #[command(subcommand)]
    pub(crate) command: Command,
}

impl Cli {
    /// The command line, every subcommand's help ending with the exit codes.
    pub(crate) fn full_command() -> clap::Command {
        use clap::CommandFactory;
        Cli::command().mut_subcommands(|c| c.after_help(EXIT_CODES))
    }

    /// Parses this process's arguments.
    pub(crate) fn parse_args() -> Result<Cli, clap::Error> {
        use clap::FromArgMatches;
        let matches = Cli::full_command().try_get_matches()?;
        Cli::from_arg_matches(&matches)
    }
}

/// Output formats.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub(crate) enum Format {
    /// Lines and tables for people.
    Table,
    /// JSON (the API's own bodies).
    Json,
    /// YAML.
    Yaml,
}

/// The commands.
#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// Run the server: the engine, its store and the API, until SIGTERM.
    ///
    /// The server logs on stderr; ROBODEPLOY_LOG sets what (a tracing filter: `debug`,
    /// `warn,robodeploy_core=trace`, …; default: robodeploy's crates from info, others from
    /// warn). Environment values never appear in it.
    Serve(ServeArgs),
    /// Check manifests against every rule (offline).
    Validate(ValidateArgs),
    /// Simulate a manifest's deployment jobs against their fleets (offline).
    Plan(PlanArgs),
    /// Print the JSON Schema of a manifest document (offline).
    Schema,
    /// Print the OpenAPI document of the server's API (offline).
    Openapi,
    /// Make the server hold what manifests describe; wait until it runs.
    Apply(ApplyArgs),
    /// Remove what manifests applied (their deployments and jobs).
    Delete(DeleteArgs),
    /// List deployments, jobs, devices, fleets or packages.
    Get(GetArgs),
    /// Show one deployment, job or device in full.
    Describe(DescribeArgs),
    /// Wait for, cancel or resume a deployment job.
    Jobs(JobsArgs),
    /// Print the output of a deployment's executables, or of a whole job.
    Logs(LogsArgs),
    /// Print the engine's events.
    Events(EventsArgs),
    /// Run a command inside a running executable.
    Exec(ExecArgs),
    /// Stop and remove a deployment.
    Deprovision(DeprovisionArgs),
    /// Print shell completions.
    Completions(CompletionsArgs),
    /// Print the manual page (roff).
    Man,
}

/// `serve`.
#[derive(Debug, Args)]
pub(crate) struct ServeArgs {
    /// Where the API listens (port 0 picks one, written to <state-dir>/endpoint); an address
    /// other than loopback needs --tls-cert and --tls-key.
    #[arg(long, default_value = "127.0.0.1:7670")]
    pub(crate) listen: SocketAddr,
    /// Serve the API over TLS with this certificate chain (PEM).
    #[arg(long, value_name = "FILE", requires = "tls_key")]
    pub(crate) tls_cert: Option<PathBuf>,
    /// The TLS certificate's private key (PEM).
    #[arg(long, value_name = "FILE", requires = "tls_cert")]
    pub(crate) tls_key: Option<PathBuf>,
    /// A Zenoh link for robots reached through the device agent (YAML: mode, listen, connect,
    /// tls, robots; see the robodeploy-zenoh crate).
    #[arg(long, value_name = "FILE")]
    pub(crate) remote: Option<PathBuf>,
    /// How long a job is kept after its creation ("90d", "7 days", "12h"); an ended job past it
    /// is deleted, report and journal, from memory and the store.
    #[arg(long, value_name = "SPAN", default_value = "90d", value_parser = retention)]
    pub(crate) job_retention: Duration,
    /// How long the last status of a deployment that ended is kept after its end ("90d",
    /// "12h"); past it the status and the request token that named the deployment are deleted
    /// from the store.
    #[arg(long, value_name = "SPAN", default_value = "90d", value_parser = retention)]
    pub(crate) deployment_retention: Duration,
}

/// `validate`.
#[derive(Debug, Args)]
pub(crate) struct ValidateArgs {
    /// Manifest files (YAML or JSON).
    #[arg(required = true)]
    pub(crate) files: Vec<PathBuf>,
}

/// `plan`.
#[derive(Debug, Args)]
pub(crate) struct PlanArgs {
    /// The manifest.
    pub(crate) file: PathBuf,
    /// Seed of every random draw.
    #[arg(long, default_value_t = 1)]
    pub(crate) seed: u64,
    /// Share of robots that fail, 0 to 1.
    #[arg(long, value_parser = share)]
    pub(crate) failure_rate: Option<f64>,
    /// Chance per step that a robot drops offline, 0 to 1.
    #[arg(long, value_parser = share)]
    pub(crate) offline_rate: Option<f64>,
    /// Chance per step that a robot goes silent, 0 to 1.
    #[arg(long, value_parser = share)]
    pub(crate) hang_rate: Option<f64>,
    /// Robot speed in percent of the modelled step durations (100 = as modelled, 300 = three
    /// times slower), or a range MIN..MAX.
    #[arg(long, value_parser = speed)]
    pub(crate) speed: Option<(u64, u64)>,
    /// The whole fleet model (step durations and rates) as JSON; the flags above override it.
    #[arg(long, value_name = "FILE")]
    pub(crate) model: Option<PathBuf>,
    /// Also draw each job's planned timeline (robots × time) as SVG into FILE; with several
    /// jobs, the second and later go to FILE's name with -2, -3, … before the extension.
    #[arg(long, value_name = "FILE")]
    pub(crate) svg: Option<PathBuf>,
}

/// `apply`.
#[derive(Debug, Args)]
pub(crate) struct ApplyArgs {
    /// Manifest files, directories of them (*.yaml, *.yml, *.json), or - for standard input.
    #[arg(short, long = "filename", value_name = "FILE|DIR|-", required = true)]
    pub(crate) files: Vec<PathBuf>,
    /// Say what would change; change nothing.
    #[arg(long)]
    pub(crate) dry_run: bool,
    /// Do not wait for deployments and jobs to settle.
    #[arg(long)]
    pub(crate) no_wait: bool,
    /// How long to wait for everything to run (90s, 5m, 1h 30m, 2 days, PT5H).
    #[arg(long, default_value = "5m", value_parser = duration)]
    pub(crate) timeout: Duration,
    /// How long every executable must stay up, without a restart, to count as running.
    #[arg(long, default_value = "5s", value_parser = duration)]
    pub(crate) min_uptime: Duration,
}

/// `delete`.
#[derive(Debug, Args)]
pub(crate) struct DeleteArgs {
    /// Manifest files, directories of them, or - for standard input.
    #[arg(short, long = "filename", value_name = "FILE|DIR|-", required = true)]
    pub(crate) files: Vec<PathBuf>,
    /// Say what would be deleted; change nothing.
    #[arg(long)]
    pub(crate) dry_run: bool,
}

/// What `get` lists.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub(crate) enum Resource {
    /// Deployments.
    #[value(alias = "deployment", alias = "dep")]
    Deployments,
    /// Deployment jobs.
    #[value(alias = "job")]
    Jobs,
    /// Devices (robots).
    #[value(alias = "device", alias = "robots", alias = "robot")]
    Devices,
    /// Fleets.
    #[value(alias = "fleet")]
    Fleets,
    /// Packages.
    #[value(alias = "package", alias = "pkg")]
    Packages,
}

/// `get`.
#[derive(Debug, Args)]
pub(crate) struct GetArgs {
    /// What to list.
    #[arg(value_enum)]
    pub(crate) resource: Resource,
    /// Only this one (a name, or a job's id).
    pub(crate) name: Option<String>,
}

/// What `describe` shows.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub(crate) enum Single {
    /// A deployment, by name or id.
    #[value(alias = "deployments", alias = "dep")]
    Deployment,
    /// A deployment job, by id.
    #[value(alias = "jobs")]
    Job,
    /// A device, by name.
    #[value(alias = "devices", alias = "robot")]
    Device,
    /// A package, by name (every version) or `NAME@VERSION`.
    #[value(alias = "packages", alias = "pkg")]
    Package,
}

/// `describe`.
#[derive(Debug, Args)]
pub(crate) struct DescribeArgs {
    /// What kind of thing.
    #[arg(value_enum)]
    pub(crate) kind: Single,
    /// Its name or id.
    pub(crate) name: String,
}

/// `jobs`.
#[derive(Debug, Args)]
pub(crate) struct JobsArgs {
    /// What to do.
    #[command(subcommand)]
    pub(crate) action: JobAction,
}

/// `jobs` subcommands.
#[derive(Debug, Subcommand)]
pub(crate) enum JobAction {
    /// Wait until a job ends (and its robots' live deployments stay up); exit 1 unless it
    /// succeeded.
    Wait {
        /// The job's id.
        id: String,
        /// How long to wait (90s, 5m, 1h).
        #[arg(long, default_value = "30m", value_parser = duration)]
        timeout: Duration,
        /// How long every deployment the job made must stay up, without a restart.
        #[arg(long, default_value = "5s", value_parser = duration)]
        min_uptime: Duration,
    },
    /// Cancel a job: no new robots, robots in flight aborted.
    Cancel {
        /// The job's id.
        id: String,
    },
    /// Resume a paused or halted job.
    Resume {
        /// The job's id.
        id: String,
    },
    /// Roll a job back: a running job stops (as on cancel), then every robot it updated returns
    /// to the version it ran before; an ended job is rolled back the same way. It then ends
    /// Canceled (Failed if it had failed). Exit 1 when nothing is left to roll back.
    Rollback {
        /// The job's id.
        id: String,
        /// Wait until the rollback ends; exit 1 unless every robot it covered went back.
        #[arg(long)]
        wait: bool,
        /// How long to wait with --wait (90s, 5m, 1h).
        #[arg(long, default_value = "30m", value_parser = duration)]
        timeout: Duration,
    },
}

/// `logs`.
#[derive(Debug, Args)]
pub(crate) struct LogsArgs {
    /// A deployment's name or id, or a job's id (every robot's output). Each line is prefixed
    /// with its robot and executable, `[robot component/executable]`, or with its robot only
    /// when --component and --executable together name the executable.
    pub(crate) name: String,
    /// Only this component's executables.
    #[arg(long)]
    pub(crate) component: Option<String>,
    /// Only executables of this name.
    #[arg(long)]
    pub(crate) executable: Option<String>,
    /// Only the last N lines of each executable.
    #[arg(long, value_name = "N")]
    pub(crate) tail: Option<usize>,
    /// Keep printing new lines, across restarts, until the deployment ends or Ctrl-C.
    #[arg(short, long)]
    pub(crate) follow: bool,
}

/// `events`.
#[derive(Debug, Args)]
pub(crate) struct EventsArgs {
    /// Keep printing events as they happen (until Ctrl-C); without it, print the current state
    /// of every deployment and job as events and exit.
    #[arg(short, long)]
    pub(crate) watch: bool,
}

/// `exec`.
#[derive(Debug, Args)]
pub(crate) struct ExecArgs {
    /// The deployment's name or id.
    pub(crate) name: String,
    /// The component (default: the deployment's only one).
    #[arg(long)]
    pub(crate) component: Option<String>,
    /// The executable (default: the component's only one).
    #[arg(long)]
    pub(crate) executable: Option<String>,
    /// The command and its arguments.
    #[arg(last = true, required = true)]
    pub(crate) command: Vec<String>,
}

/// `deprovision`.
#[derive(Debug, Args)]
pub(crate) struct DeprovisionArgs {
    /// The deployment's name or id.
    pub(crate) name: String,
}

/// `completions`.
#[derive(Debug, Args)]
pub(crate) struct CompletionsArgs {
    /// The shell.
    #[arg(value_enum)]
    pub(crate) shell: clap_complete::Shell,
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn the_command_line_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn global_flags_go_anywhere() {
        let cli = Cli::try_parse_from(["robodeploy", "get", "deployments", "-o", "json"]).unwrap();
        assert_eq!(cli.output, Some(Format::Json));
        let cli = Cli::try_parse_from([
            "robodeploy",
            "--server",
            "http://127.0.0.1:1",
            "logs",
            "talker",
            "-f",
        ])
        .unwrap();
        assert_eq!(cli.server.as_deref(), Some("http://127.0.0.1:1"));
        let Command::Logs(logs) = cli.command else {
            panic!("not logs")
        };
        assert!(logs.follow);
    }
}
