//! `apply -f FILE|DIR|-` and `delete -f FILE|DIR|-`: manifests read here (each file's job
//! scripts resolved against its own directory), sent to the server as one manifest, and, for
//! apply, waited for until everything stayed up (see [`super::wait`]).

use std::io::Read;
use std::path::{Path, PathBuf};

use robodeploy_core::engine::{DeploymentStatus, JobReport};
use robodeploy_core::manifest::{Document, Manifest};
use robodeploy_core::model::{JobStatus, RobotStatus};
use serde::Serialize;
use tokio::time::Instant;

use super::args::{ApplyArgs, DeleteArgs, Format};
use super::config::Settings;
use super::error::{CliError, Outcome};
use super::output::{self, count, line, printable};
use super::progress::JobProgress;
use super::wait::{self, Settled};
use crate::api::{ApplyReport, ApplyRequest, Change};

/// Reads every manifest named (files, directories of `*.yaml`, `*.yml`, `*.json`, or `-` for
/// standard input) into one, each job's relative script paths resolved against its file's
/// directory.
pub(crate) fn read_manifests(inputs: &[PathBuf]) -> Result<Manifest, CliError> {
    let mut files = Vec::new();
    for input in inputs {
        if input.as_os_str() == "-" {
            files.push(input.clone());
            continue;
        }
        let meta = std::fs::metadata(input).map_err(|source| CliError::Io {
            path: input.clone(),
            source,
        })?;
        if meta.is_dir() {
            let mut found: Vec<PathBuf> = std::fs::read_dir(input)
                .map_err(|source| CliError::Io {
                    path: input.clone(),
                    source,
                })?
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| {
                    p.is_file()
                        && p.extension()
                            .and_then(|x| x.to_str())
                            .is_some_and(|x| matches!(x, "yaml" | "yml" | "json"))
                })
                .collect();
            found.sort();
            if found.is_empty() {
                return Err(CliError::Failed(format!(
                    "{}: no manifest (*.yaml, *.yml, *.json) in this directory",
                    input.display()
                )));
            }
            files.extend(found);
        } else {
            files.push(input.clone());
        }
    }
    let mut all = Manifest::new(Vec::new());
    for file in files {
        let (text, dir) = if file.as_os_str() == "-" {
            let mut text = String::new();
            std::io::stdin()
                .read_to_string(&mut text)
                .map_err(|source| CliError::Io {
                    path: file.clone(),
                    source,
                })?;
            (text, std::env::current_dir().ok())
        } else {
            let text = std::fs::read_to_string(&file).map_err(|source| CliError::Io {
                path: file.clone(),
                source,
            })?;
            let dir = std::fs::canonicalize(&file)
                .ok()
                .and_then(|p| p.parent().map(Path::to_path_buf));
            (text, dir)
        };
        let manifest = Manifest::parse_str(&text).map_err(|e| {
            CliError::Failed(format!("{}: {e}", printable(&file.display().to_string())))
        })?;
        for doc in manifest.documents {
            let doc = match (doc, &dir) {
                (Document::DeploymentJob(mut job), Some(dir)) => {
                    job.resolve_paths(dir);
                    Document::DeploymentJob(job)
                }
                (doc, _) => doc,
            };
            all.push(doc);
        }
    }
    Ok(all)
}

fn request(args_files: &[PathBuf], dry_run: bool) -> Result<ApplyRequest, CliError> {
    let manifest = read_manifests(args_files)?;
    if manifest.is_empty() {
        return Err(CliError::Failed(
            "the manifests hold no document".to_owned(),
        ));
    }
    Ok(ApplyRequest {
        manifest: manifest.to_json()?,
        base_dir: None,
        dry_run,
    })
}

/// Prints what apply or delete did, one line per thing, then a summary.
fn print_report(report: &ApplyReport) {
    let verb = |c: Change| {
        if report.dry_run {
            format!("would be {c}")
        } else {
            c.to_string()
        }
    };
    for w in &report.warnings {
        output::diagnostic(format!("warning: {}", printable(w)));
    }
    for p in &report.packages {
        line(format!("package {} {}", printable(&p.name), verb(p.change)));
    }
    for d in &report.devices {
        line(format!("robot {} {}", printable(&d.name), verb(d.change)));
    }
    for f in &report.fleets {
        line(format!("fleet {} {}", printable(&f.name), verb(f.change)));
    }
    for d in &report.deployments {
        let id = d.id.map(|id| format!(" ({id})")).unwrap_or_default();
        line(format!(
            "deployment {}{id} {}",
            printable(&d.name),
            verb(d.change)
        ));
    }
    for j in &report.jobs {
        let id = j.id.map(|id| format!(" {id}")).unwrap_or_default();
        line(format!(
            "job{id} ({} {} to fleet {}) {}",
            printable(&j.application),
            j.version,
            printable(&j.fleet),
            verb(j.change)
        ));
    }
    if !report.changed() {
        line("nothing to change: everything is as the manifests say");
    }
}

/// What `apply -o json` prints.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ApplyView {
    applied: ApplyReport,
    /// Every deployment's status once it settled (or the time ran out).
    deployments: Vec<DeploymentStatus>,
    /// Every job's report once it ended (or the time ran out).
    jobs: Vec<JobReport>,
    /// Whether everything stayed up and every job succeeded.
    ok: bool,
}

/// `apply`.
pub(crate) async fn apply(args: &ApplyArgs, settings: &Settings) -> Outcome {
    let request = request(&args.files, args.dry_run)?;
    let client = settings.client()?;
    let report = client.apply(&request).await?;
    let table = settings.output == Format::Table;
    if table {
        print_report(&report);
    }
    if args.dry_run || args.no_wait {
        if !table {
            output::value(
                settings.output,
                &ApplyView {
                    applied: report,
                    deployments: Vec::new(),
                    jobs: Vec::new(),
                    ok: true,
                },
            )?;
        }
        return Ok(true);
    }
    let deadline = Instant::now() + args.timeout;
    let mut ok = true;
    let mut statuses = Vec::new();
    for d in &report.deployments {
        let Some(id) = d.id else { continue };
        let settled = wait::deployment(&client, id, args.min_uptime, deadline).await?;
        ok &= settled.is_up();
        if table {
            print_settled(&settled, args.min_uptime);
        }
        statuses.push(settled.status().clone());
    }
    let mut reports = Vec::new();
    for j in &report.jobs {
        let Some(id) = j.id else { continue };
        let mut shown = JobProgress::new(table);
        let report = wait::job(&client, id, deadline, |r| shown.update(r)).await?;
        shown.finish(&report);
        ok &= report.status == JobStatus::Succeeded;
        if report.status == JobStatus::Succeeded {
            // A job succeeds with failed robots while they stay under its threshold; those
            // robots do not run what the file asked, so the apply did not succeed.
            if report
                .robots
                .iter()
                .any(|r| r.status == RobotStatus::Failed)
            {
                ok = false;
                if table {
                    line(format!(
                        "  job {} succeeded within its failure threshold, but:",
                        report.id
                    ));
                    print_job_failures(&report);
                }
            }
            for robot in &report.robots {
                let Some(dep) = robot.deployment else {
                    continue;
                };
                let settled = wait::deployment(&client, dep, args.min_uptime, deadline).await?;
                if !settled.is_up() {
                    ok = false;
                    if table {
                        line(format!("  robot {}:", printable(&robot.robot)));
                        print_settled(&settled, args.min_uptime);
                    }
                }
            }
        } else if table {
            print_job_failures(&report);
        }
        reports.push(report);
    }
    if table {
        if ok {
            line("applied: everything runs");
        } else {
            line("apply failed: not everything runs (see above)");
        }
    } else {
        output::value(
            settings.output,
            &ApplyView {
                applied: report,
                deployments: statuses,
                jobs: reports,
                ok,
            },
        )?;
    }
    Ok(ok)
}

/// The job's failure code and every failed robot with its code and detail, one line each.
pub(crate) fn print_job_failures(r: &JobReport) {
    if let Some(code) = &r.failure {
        line(format!("  job failed: {code}"));
    }
    for robot in r.robots.iter().filter(|x| x.status == RobotStatus::Failed) {
        line(format!(
            "  robot {}: {}{}",
            printable(&robot.robot),
            robot
                .failure
                .as_ref()
                .map_or("failed".to_owned(), |c| c.to_string()),
            robot
                .failure_detail
                .as_deref()
                .map(|d| format!(": {}", printable(d)))
                .unwrap_or_default()
        ));
    }
}

fn print_settled(settled: &Settled, min_uptime: std::time::Duration) {
    let s = settled.status();
    match settled {
        Settled::Up(_) => line(format!(
            "deployment {}: {}, {} (up {} s without a restart)",
            printable(&s.name),
            s.phase,
            s.status,
            min_uptime.as_secs_f64()
        )),
        Settled::Failed(why, _) => line(format!(
            "deployment {}: FAILED: {why} ({}, {}, {})",
            printable(&s.name),
            s.phase,
            s.status,
            count(s.restart_count as usize, "restart", "restarts")
        )),
        Settled::TimedOut(_) => line(format!(
            "deployment {}: not up before the timeout ({}, {})",
            printable(&s.name),
            s.phase,
            s.status
        )),
    }
    for e in &s.errors {
        line(format!(
            "  {}{}",
            e.code,
            e.detail
                .as_deref()
                .map(|d| format!(": {}", printable(d)))
                .unwrap_or_default()
        ));
    }
}

/// `delete`.
pub(crate) async fn delete(args: &DeleteArgs, settings: &Settings) -> Outcome {
    let request = request(&args.files, args.dry_run)?;
    let client = settings.client()?;
    let report = client.delete(&request).await?;
    if settings.output == Format::Table {
        print_report(&report);
    } else {
        output::value(settings.output, &report)?;
    }
    Ok(true)
}
