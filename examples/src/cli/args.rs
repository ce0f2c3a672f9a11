//! The command line: a small hand-written parser (six commands and a dozen flags do not need a
//! dependency), the help text, and the exit codes it documents.

use std::path::PathBuf;
use std::time::Duration;

use super::CliError;

/// The help text; the exit codes here are the contract scripts rely on.
pub(crate) const HELP: &str = "\
robodeploy: validate, plan and apply robodeploy manifests on this machine

usage: robodeploy [--json] [--state-dir DIR] <command> [arguments]

commands:
  validate FILE        parse FILE and check every rule; print every error and warning with
                       its document and field path
  plan FILE            dry-run FILE's deployment jobs against their fleets in the simulator
                         --seed N              seed of every random draw (default 1)
                         --failure-rate R      share of robots that fail, 0..=1 (default 0)
                         --offline-rate R      chance per step that a robot drops offline
                         --hang-rate R         chance per step that a robot goes silent
                         --speed PCT|MIN..MAX  robot speed in percent of the modelled step
                                               durations (100 = as modelled, 300 = 3x slower)
                         --model FILE          the whole fleet model (step durations and
                                               rates) as JSON; flags above override it
  apply FILE           run FILE's deployments (in dependency order) and deployment jobs on
                       local process runtimes, one per device under the state directory; wait
                       until every deployment runs or every job ends, then exit and leave the
                       executables running
                         --timeout DURATION    how long to wait (90s, 5m, 1h; default 5m)
  status [NAME]        what runs now: every live deployment as the engine reports it, per
                       executable (restarts, and its instance's pid or exit code)
  logs NAME            an executable's output
                         --component C --executable E   which one (default: all of NAME's)
                         --tail N              only the last N lines
                         --follow              keep printing new lines (one executable)
  deprovision NAME     stop and remove a deployment's executables
                         --grace SECONDS       SIGTERM, then SIGKILL after this (default 10)
  help                 this text

NAME is a live deployment's name, a deployment's id (also one deprovisioned: status shows its
last state), or a job id (all of the job's deployments).

options:
  --json               machine-readable output on stdout (serde JSON of robodeploy's types;
                       logs: one JSON object per line)
  --state-dir DIR      the engine's store and the devices' runtimes (default ./.robodeploy)

exit codes:
  0  success
  1  failed: the manifest does not parse or validate, a deployment did not reach Running, a
     job did not succeed, NAME matches nothing or is deprovisioned already, or apply refused
     (a deployment already applied, a package version applied before with other content, a
     device runtime this CLI does not run: docker)
  2  usage: unknown command or flag, missing or malformed argument
  3  runtime or engine error: the state directory or its store (damaged, written by a newer
     robodeploy, open in another program), a process runtime or the engine failed, or a
     deprovision could not stop every executable

DIR/state.redb is the engine's durable store (packages, devices, fleets, deployments, jobs) and
DIR/devices/<device> each device's process runtime. Every command starts the engine on the
store, registers the devices again and lets it reconcile what runs (a running executable is
adopted, not restarted; one that exited is restarted per its restart policy; a deprovision cut
short is finished), answers, and detaches, leaving everything running; status first waits a
few seconds for the restarts it scheduled. Between commands nothing supervises the executables.
Commands on one DIR run one at a time: a second one waits for the first (DIR/lock); logs
--follow lets go of DIR before it follows.
";

/// A parsed command line.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Cli {
    /// Machine-readable output.
    pub(crate) json: bool,
    /// The state directory.
    pub(crate) state_dir: PathBuf,
    /// What to do.
    pub(crate) command: Command,
}

/// The commands.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Command {
    Help,
    Validate(PathBuf),
    Plan(PathBuf, PlanFlags),
    Apply(PathBuf, Duration),
    Status(Option<String>),
    Logs(String, LogFlags),
    Deprovision(String, Duration),
}

/// The simulator knobs of `plan`; `None` keeps the model's value.
#[derive(Clone, Debug, Default, PartialEq)]
pub(crate) struct PlanFlags {
    pub(crate) seed: u64,
    pub(crate) failure_rate: Option<f64>,
    pub(crate) offline_rate: Option<f64>,
    pub(crate) hang_rate: Option<f64>,
    /// Robot speed in percent: a fixed value or a range.
    pub(crate) speed: Option<(u64, u64)>,
    pub(crate) model: Option<PathBuf>,
}

/// What `logs` shows.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct LogFlags {
    pub(crate) component: Option<String>,
    pub(crate) executable: Option<String>,
    pub(crate) tail: Option<usize>,
    pub(crate) follow: bool,
}

/// Parses the arguments after the program name.
pub(crate) fn parse(args: impl IntoIterator<Item = String>) -> Result<Cli, CliError> {
    let mut json = false;
    let mut help = false;
    let mut state_dir = PathBuf::from("./.robodeploy");
    let mut positional = Vec::new();
    let mut flags = Vec::new();
    let mut it = args.into_iter();
    while let Some(arg) = it.next() {
        match arg.as_str() {
            "--json" => json = true,
            "--state-dir" => state_dir = PathBuf::from(value(&mut it, "--state-dir")?),
            "-h" | "--help" => help = true,
            "--follow" => flags.push((arg, String::new())),
            flag if flag.starts_with("--") => {
                let v = value(&mut it, flag)?;
                flags.push((arg, v));
            }
            _ => positional.push(arg),
        }
    }
    if help {
        return Ok(Cli {
            json,
            state_dir,
            command: Command::Help,
        });
    }
    let mut positional = positional.into_iter();
    let name = positional.next().unwrap_or_else(|| "help".to_owned());
    let mut target = |what: &str| {
        positional
            .next()
            .ok_or_else(|| CliError::Usage(format!("{name} needs {what}")))
    };
    let command = match name.as_str() {
        "help" => Command::Help,
        "validate" => Command::Validate(target("a FILE")?.into()),
        "plan" => Command::Plan(target("a FILE")?.into(), plan_flags(&mut flags)?),
        "apply" => {
            let file = target("a FILE")?.into();
            let timeout = take(&mut flags, "--timeout")
                .map(|v| parse_duration("--timeout", &v))
                .transpose()?
                .unwrap_or(Duration::from_secs(300));
            Command::Apply(file, timeout)
        }
        "status" => Command::Status(positional.next()),
        "logs" => Command::Logs(target("a deployment NAME")?, log_flags(&mut flags)?),
        "deprovision" => {
            let target = target("a deployment NAME")?;
            let grace = take(&mut flags, "--grace")
                .map(|v| number::<u64>("--grace", &v))
                .transpose()?
                .unwrap_or(10);
            Command::Deprovision(target, Duration::from_secs(grace))
        }
        other => return Err(CliError::Usage(format!("unknown command {other:?}"))),
    };
    if let Some(extra) = positional.next() {
        return Err(CliError::Usage(format!("unexpected argument {extra:?}")));
    }
    if let Some((flag, _)) = flags.first() {
        return Err(CliError::Usage(format!("{flag} is not a flag of {name}")));
    }
    Ok(Cli {
        json,
        state_dir,
        command,
    })
}

fn value(it: &mut impl Iterator<Item = String>, flag: &str) -> Result<String, CliError> {
    it.next()
        .ok_or_else(|| CliError::Usage(format!("{flag} needs a value")))
}

/// Removes a flag from the list and returns its value (the last one when given twice).
fn take(flags: &mut Vec<(String, String)>, name: &str) -> Option<String> {
    let mut found = None;
    flags.retain(|(f, v)| {
        if f == name {
            found = Some(v.clone());
            false
        } else {
            true
        }
    });
    found
}

fn number<T: std::str::FromStr>(flag: &str, v: &str) -> Result<T, CliError>
where
    T::Err: std::fmt::Display,
{
    v.parse()
        .map_err(|e| CliError::Usage(format!("{flag} {v:?}: {e}")))
}

fn rate(flag: &str, v: &str) -> Result<f64, CliError> {
    let r: f64 = number(flag, v)?;
    if (0.0..=1.0).contains(&r) {
        Ok(r)
    } else {
        Err(CliError::Usage(format!(
            "{flag} {v}: must be a share within 0..=1"
        )))
    }
}

fn plan_flags(flags: &mut Vec<(String, String)>) -> Result<PlanFlags, CliError> {
    let rate_of = |flags: &mut Vec<_>, name| take(flags, name).map(|v| rate(name, &v));
    Ok(PlanFlags {
        seed: take(flags, "--seed")
            .map(|v| number("--seed", &v))
            .transpose()?
            .unwrap_or(1),
        failure_rate: rate_of(flags, "--failure-rate").transpose()?,
        offline_rate: rate_of(flags, "--offline-rate").transpose()?,
        hang_rate: rate_of(flags, "--hang-rate").transpose()?,
        speed: take(flags, "--speed").map(|v| speed(&v)).transpose()?,
        model: take(flags, "--model").map(PathBuf::from),
    })
}

fn speed(v: &str) -> Result<(u64, u64), CliError> {
    let (min, max) = match v.split_once("..") {
        Some((a, b)) => (number("--speed", a)?, number("--speed", b)?),
        None => {
            let n = number("--speed", v)?;
            (n, n)
        }
    };
    if min == 0 || min > max {
        return Err(CliError::Usage(format!(
            "--speed {v}: percentages must be positive, the minimum first"
        )));
    }
    Ok((min, max))
}

fn log_flags(flags: &mut Vec<(String, String)>) -> Result<LogFlags, CliError> {
    Ok(LogFlags {
        component: take(flags, "--component"),
        executable: take(flags, "--executable"),
        tail: take(flags, "--tail")
            .map(|v| number("--tail", &v))
            .transpose()?,
        follow: take(flags, "--follow").is_some(),
    })
}

/// `90s`, `5m`, `1h`, or plain seconds.
fn parse_duration(flag: &str, v: &str) -> Result<Duration, CliError> {
    let (digits, unit) = v.split_at(v.find(|c: char| !c.is_ascii_digit()).unwrap_or(v.len()));
    let n: u64 = number(flag, digits)?;
    let secs = match unit {
        "" | "s" => n,
        "m" => n.saturating_mul(60),
        "h" => n.saturating_mul(3600),
        _ => {
            return Err(CliError::Usage(format!(
                "{flag} {v:?}: a duration is a number followed by s, m or h"
            )));
        }
    };
    Ok(Duration::from_secs(secs))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cli(args: &str) -> Result<Cli, CliError> {
        parse(args.split_whitespace().map(str::to_owned))
    }

    #[test]
    fn global_flags_go_anywhere() {
        let c = cli("logs hello --json --tail 5 --state-dir /tmp/s").unwrap();
        assert!(c.json);
        assert_eq!(c.state_dir, PathBuf::from("/tmp/s"));
        let flags = LogFlags {
            tail: Some(5),
            ..LogFlags::default()
        };
        assert_eq!(c.command, Command::Logs("hello".into(), flags));
        assert_eq!(cli("").unwrap().command, Command::Help);
        assert_eq!(cli("status --help").unwrap().command, Command::Help);
    }

    #[test]
    fn plan_and_apply_flags_are_read() {
        let c = cli("plan f.yaml --seed 7 --failure-rate 0.2 --speed 100..300").unwrap();
        let Command::Plan(file, flags) = c.command else {
            panic!("{c:?}")
        };
        assert_eq!(file, PathBuf::from("f.yaml"));
        assert_eq!(
            (flags.seed, flags.failure_rate, flags.speed),
            (7, Some(0.2), Some((100, 300)))
        );
        assert_eq!(
            cli("apply f.yaml --timeout 2m").unwrap().command,
            Command::Apply("f.yaml".into(), Duration::from_secs(120))
        );
    }

    #[test]
    fn usage_errors_name_the_problem() {
        for (args, expected) in [
            ("frobnicate", "unknown command \"frobnicate\""),
            ("validate", "validate needs a FILE"),
            ("validate a b", "unexpected argument \"b\""),
            ("status --tail 3", "--tail is not a flag of status"),
            (
                "plan f --failure-rate 2",
                "--failure-rate 2: must be a share within 0..=1",
            ),
            (
                "apply f --timeout 5d",
                "a duration is a number followed by s, m or h",
            ),
            ("logs x --tail", "--tail needs a value"),
            ("plan f --speed 300..100", "the minimum first"),
        ] {
            let err = cli(args).unwrap_err();
            assert!(matches!(err, CliError::Usage(_)), "{args}: {err:?}");
            assert!(err.to_string().contains(expected), "{args}: {err}");
        }
    }
}
