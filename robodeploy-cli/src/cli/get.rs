//! `get` (tables of deployments, jobs, devices, fleets, packages) and `describe` (one thing in
//! full), and `deprovision`.

use robodeploy_core::engine::{DeploymentStatus, ExecutableReport, JobReport};
use robodeploy_core::model::{ExecutableStatus, JobId, Package, Placement, RobotStatus};
use robodeploy_core::rollout::WaveState;
use robodeploy_core::time::Time;
use robodeploy_core::time::duration::format as span;

use super::args::{DescribeArgs, Format, GetArgs, Resource, Single};
use super::config::Settings;
use super::error::{CliError, Outcome};
use super::output::{self, Table, count, line, printable};

/// How long ago `t` was, as `42s`, `7m`, `3h`, `2d` (`-` when unknown).
fn age(t: Time, now: Time) -> String {
    let s = now.since(t).as_secs();
    match s {
        0..=119 => format!("{s}s"),
        120..=7199 => format!("{}m", s / 60),
        7200..=172_799 => format!("{}h", s / 3600),
        _ => format!("{}d", s / 86_400),
    }
}

fn now() -> Time {
    Time::now()
}

/// An executable's status in a few words, its reason included.
pub(crate) fn executable_status(e: &ExecutableReport) -> String {
    match &e.status {
        ExecutableStatus::Running => "Running".to_owned(),
        ExecutableStatus::Pending { reason } => format!("Pending ({reason})"),
        ExecutableStatus::Error { reason } => format!("Error ({reason})"),
        ExecutableStatus::Unknown => "Unknown".to_owned(),
        ExecutableStatus::Stopped => "Stopped".to_owned(),
        _ => "Unknown".to_owned(),
    }
}

fn codes(d: &DeploymentStatus) -> String {
    if d.errors.is_empty() {
        return "-".to_owned();
    }
    d.errors
        .iter()
        .map(|e| e.code.to_string())
        .collect::<Vec<_>>()
        .join(",")
}

fn deployments_table(all: &[DeploymentStatus]) {
    let now = now();
    let mut t = Table::new(vec![
        "NAME", "PACKAGE", "PHASE", "STATUS", "RESTARTS", "ERRORS", "AGE",
    ]);
    for d in all {
        t.row(vec![
            printable(&d.name).into_owned(),
            format!("{}@{}", printable(&d.package), d.version),
            d.phase.to_string(),
            d.status.to_string(),
            d.restart_count.to_string(),
            codes(d),
            age(d.created_at, now),
        ]);
    }
    t.print("deployments");
}

fn jobs_table(all: &[JobReport]) {
    let now = now();
    let mut t = Table::new(vec![
        "ID",
        "APPLICATION",
        "FLEET",
        "STATUS",
        "IN SYNC",
        "FAILED",
        "THRESHOLD",
        "AGE",
    ]);
    for j in all {
        t.row(vec![
            j.id.to_string(),
            format!("{}@{}", printable(&j.application), j.version),
            printable(&j.fleet).into_owned(),
            format!("{:?}", j.status),
            format!("{}/{}", j.count(RobotStatus::InSync), j.robots.len()),
            j.count(RobotStatus::Failed).to_string(),
            j.failure_threshold.to_string(),
            age(j.created_at, now),
        ]);
    }
    t.print("deployment jobs");
}

/// `get RESOURCE [NAME]`.
pub(crate) async fn get(args: &GetArgs, settings: &Settings) -> Outcome {
    let client = settings.client()?;
    let format = settings.output;
    let name = args.name.as_deref();
    match args.resource {
        Resource::Deployments => {
            let all = match name {
                Some(n) => vec![client.deployment(n).await?],
                None => client.deployments().await?,
            };
            if format == Format::Table {
                deployments_table(&all);
            } else {
                output::value(format, &all)?;
            }
        }
        Resource::Jobs => {
            let all = match name {
                Some(n) => vec![client.job(job_id(n)?).await?],
                None => client.jobs().await?,
            };
            if format == Format::Table {
                jobs_table(&all);
            } else {
                output::value(format, &all)?;
            }
        }
        Resource::Devices => {
            let mut all = client.devices().await?;
            if let Some(n) = name {
                all.retain(|d| d.name == n);
                if all.is_empty() {
                    return Err(CliError::Failed(format!("no device named {n:?}")));
                }
            }
            if format == Format::Table {
                let mut t = Table::new(vec![
                    "NAME", "RUNTIME", "ARCH", "ONLINE", "REACHED", "LABELS",
                ]);
                for d in &all {
                    t.row(vec![
                        printable(&d.name).into_owned(),
                        d.runtime.to_string(),
                        d.architecture.to_string(),
                        if d.online { "yes" } else { "no" }.to_owned(),
                        match &d.connection {
                            Some(c) => format!("agent {}", printable(&agent_name(c))),
                            None => "direct".to_owned(),
                        },
                        labels(&d.labels),
                    ]);
                }
                t.print("devices");
            } else {
                output::value(format, &all)?;
            }
        }
        Resource::Fleets => {
            let mut all = client.fleets().await?;
            if let Some(n) = name {
                all.retain(|f| f.name == n);
                if all.is_empty() {
                    return Err(CliError::Failed(format!("no fleet named {n:?}")));
                }
            }
            if format == Format::Table {
                let mut t = Table::new(vec!["NAME", "ROBOTS", "LABELS"]);
                for f in &all {
                    t.row(vec![
                        printable(&f.name).into_owned(),
                        f.robots.len().to_string(),
                        labels(&f.labels),
                    ]);
                }
                t.print("fleets");
            } else {
                output::value(format, &all)?;
            }
        }
        Resource::Packages => {
            let mut all = client.packages().await?;
            if let Some(n) = name {
                all.retain(|p| p.name == n);
                if all.is_empty() {
                    return Err(CliError::Failed(format!("no package named {n:?}")));
                }
            }
            if format == Format::Table {
                let mut t = Table::new(vec!["NAME", "VERSION", "COMPONENTS"]);
                for p in &all {
                    t.row(vec![
                        printable(&p.name).into_owned(),
                        p.version.to_string(),
                        p.components
                            .iter()
                            .map(|c| printable(&c.name).into_owned())
                            .collect::<Vec<_>>()
                            .join(","),
                    ]);
                }
                t.print("packages");
            } else {
                output::value(format, &all)?;
            }
        }
    }
    Ok(true)
}

/// A job's waves: robots (counted from 1, in fleet order), where each is, failures against
/// its share of the threshold, what comes after it.
fn wave_table(r: &JobReport) -> Table {
    let now = Time::now();
    let mut t = Table::new(vec!["WAVE", "ROBOTS", "STATE", "FAILED", "THEN"]);
    for (i, w) in r.waves.iter().enumerate() {
        let state = match w.state {
            WaveState::Waiting => "waiting".to_owned(),
            WaveState::Deploying => "deploying".to_owned(),
            WaveState::Soaking => match w.soak_ends_at {
                Some(end) => format!("soaking, {} left", span(end.since(now))),
                None => "soaking".to_owned(),
            },
            WaveState::AwaitingResume => "waiting for `jobs resume`".to_owned(),
            WaveState::Completed => "completed".to_owned(),
            WaveState::Halted => "halted".to_owned(),
            WaveState::Skipped => "skipped".to_owned(),
            _ => format!("{:?}", w.state),
        };
        let then = match (w.soak, w.manual_resume) {
            (Some(d), true) => format!("soak {}, resume", span(d)),
            (Some(d), false) => format!("soak {}", span(d)),
            (None, true) => "resume".to_owned(),
            (None, false) => "-".to_owned(),
        };
        t.row(vec![
            (i + 1).to_string(),
            format!("{}-{}", w.start + 1, w.end),
            state,
            format!("{} of {}", w.failed, w.threshold),
            then,
        ]);
    }
    t
}

fn agent_name(c: &robodeploy_core::model::Connection) -> String {
    match c {
        robodeploy_core::model::Connection::Agent(name) => name.clone(),
        _ => "?".to_owned(),
    }
}

fn labels(labels: &std::collections::BTreeMap<String, String>) -> String {
    if labels.is_empty() {
        return "-".to_owned();
    }
    labels
        .iter()
        .map(|(k, v)| format!("{}={}", printable(k), printable(v)))
        .collect::<Vec<_>>()
        .join(",")
}

pub(crate) fn job_id(text: &str) -> Result<JobId, CliError> {
    text.parse()
        .map_err(|_| CliError::Usage(format!("{text:?} is not a job id (a UUID)")))
}

/// Prints a deployment in full.
pub(crate) fn print_deployment(s: &DeploymentStatus) {
    line(format!(
        "{}: {}, {} ({}@{}, id {})",
        printable(&s.name),
        s.phase,
        s.status,
        printable(&s.package),
        s.version,
        s.id
    ));
    if let Some(job) = s.job {
        line(format!("  job {job}"));
    }
    if !s.depends_on.is_empty() {
        line(format!(
            "  depends on {}",
            s.depends_on
                .iter()
                .map(|d| printable(d).into_owned())
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    for e in &s.executables {
        line(format!(
            "  {}/{} on {}: {}, {}{}",
            printable(&e.component),
            printable(&e.name),
            printable(e.device.as_deref().unwrap_or("cloud")),
            executable_status(e),
            count(e.restart_count as usize, "restart", "restarts"),
            e.instance
                .as_deref()
                .map(|i| format!(", instance {}", printable(i)))
                .unwrap_or_default()
        ));
    }
    for e in &s.errors {
        let at: Vec<&str> = [e.component.as_deref(), e.executable.as_deref()]
            .into_iter()
            .flatten()
            .collect();
        line(format!(
            "  {} {}{}",
            e.code,
            printable(&at.join("/")),
            e.detail
                .as_deref()
                .map(|d| format!(": {}", printable(d)))
                .unwrap_or_default()
        ));
    }
}

/// `describe KIND NAME`.
pub(crate) async fn describe(args: &DescribeArgs, settings: &Settings) -> Outcome {
    let client = settings.client()?;
    let format = settings.output;
    match args.kind {
        Single::Deployment => {
            let s = client.deployment(&args.name).await?;
            if format == Format::Table {
                print_deployment(&s);
            } else {
                output::value(format, &s)?;
            }
        }
        Single::Job => {
            let r = client.job(job_id(&args.name)?).await?;
            if format != Format::Table {
                output::value(format, &r)?;
                return Ok(true);
            }
            line(format!(
                "job {}: {:?}{} ({}@{} to fleet {})",
                r.id,
                r.status,
                r.failure.map(|c| format!(", {c}")).unwrap_or_default(),
                printable(&r.application),
                r.version,
                printable(&r.fleet)
            ));
            line(format!(
                "  {} at once; halts at {} failed; {} failed now",
                count(r.in_flight_limit as usize, "robot", "robots"),
                r.failure_threshold,
                r.count(RobotStatus::Failed)
            ));
            for (k, v) in &r.tags {
                line(format!("  tag {}={}", printable(k), printable(v)));
            }
            let mut t = Table::new(vec!["ROBOT", "STATUS", "STEP", "DONE", "FAILURE"]);
            for robot in &r.robots {
                t.row(vec![
                    printable(&robot.robot).into_owned(),
                    format!("{:?}", robot.status),
                    robot.step.to_string(),
                    format!("{}%", robot.percent_done),
                    match (&robot.failure, &robot.failure_detail) {
                        (Some(c), Some(d)) => format!("{c}: {}", printable(d)),
                        (Some(c), None) => c.to_string(),
                        _ => "-".to_owned(),
                    },
                ]);
            }
            t.print("robots");
            if r.waves.len() > 1 {
                wave_table(&r).print("waves");
            }
        }
        Single::Device => {
            let all = client.devices().await?;
            let Some(d) = all.into_iter().find(|d| d.name == args.name) else {
                return Err(CliError::Failed(format!("no device named {:?}", args.name)));
            };
            if format != Format::Table {
                output::value(format, &d)?;
                return Ok(true);
            }
            line(format!(
                "{}: {} {}, {}",
                printable(&d.name),
                d.runtime,
                d.architecture,
                if d.online { "online" } else { "offline" }
            ));
            if let Some(c) = &d.connection {
                line(format!(
                    "  reached through agent {}",
                    printable(&agent_name(c))
                ));
            }
            if let Some(e) = &d.endpoint {
                line(format!("  endpoint {}", printable(e)));
            }
            line(format!("  labels {}", labels(&d.labels)));
            for (app, v) in &d.installed {
                line(format!("  installed {}@{v}", printable(app)));
            }
            let live = client.deployments().await?;
            for s in live.iter().filter(|s| {
                s.executables
                    .iter()
                    .any(|e| e.device.as_deref() == Some(d.name.as_str()))
            }) {
                line(format!(
                    "  runs {}: {}, {}",
                    printable(&s.name),
                    s.phase,
                    s.status
                ));
            }
        }
        Single::Package => {
            let (name, version) = match args.name.split_once('@') {
                Some((n, v)) => (n, Some(v)),
                None => (args.name.as_str(), None),
            };
            let mut all = client.packages().await?;
            all.retain(|p| p.name == name && version.is_none_or(|v| p.version.to_string() == v));
            if all.is_empty() {
                return Err(CliError::Failed(format!(
                    "no package {:?}",
                    printable(&args.name)
                )));
            }
            if format != Format::Table {
                output::value(format, &all)?;
                return Ok(true);
            }
            for p in &all {
                print_package(p);
            }
        }
    }
    Ok(true)
}

/// A package in words: its components, where they run, how they restart, and what each
/// executable runs (environment variables by name only: their values are secrets).
fn print_package(p: &Package) {
    line(format!("package {}@{}", printable(&p.name), p.version));
    if let Some(d) = &p.description {
        line(format!("  {}", printable(d)));
    }
    if !p.labels.is_empty() {
        line(format!("  labels {}", labels(&p.labels)));
    }
    for c in &p.components {
        let place = match &c.placement {
            Placement::Cloud => "in the cloud".to_owned(),
            Placement::Device {
                runtime,
                architecture,
            } => format!("on a {runtime} {architecture} device"),
            _ => "elsewhere".to_owned(),
        };
        line(format!(
            "  component {}: {place}, restart {}{}",
            printable(&c.name),
            c.restart_policy
                .map_or_else(|| "by default".to_owned(), |r| r.to_string()),
            if c.shared { ", shared" } else { "" }
        ));
        for e in &c.executables {
            let what = match &e.image {
                Some(image) => format!("image {}", printable(image)),
                None => format!("runs {}", printable(&e.command.join(" "))),
            };
            let env = if e.env.is_empty() {
                String::new()
            } else {
                let names: Vec<&str> = e.env.keys().map(String::as_str).collect();
                format!("; env {}", printable(&names.join(",")))
            };
            line(format!(
                "    executable {}: {what}{env}",
                printable(&e.name)
            ));
        }
    }
}

/// `deprovision NAME`.
pub(crate) async fn deprovision(name: &str, settings: &Settings) -> Outcome {
    let client = settings.client()?;
    let s = client.deprovision(name).await?;
    if settings.output == Format::Table {
        print_deployment(&s);
    } else {
        output::value(settings.output, &s)?;
    }
    Ok(s.phase.is_terminal())
}
