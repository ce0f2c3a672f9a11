//! `validate` (offline), and the load-and-check step `plan` starts with.

use std::fmt::Display;
use std::path::Path;

use robodeploy_core::manifest::{Kind, Manifest, ManifestError};
use robodeploy_core::validate::{DocumentRef, Issue, Report, validate_manifest};
use serde::Serialize;

use super::args::Format;
use super::error::{CliError, Outcome};
use super::output::{self, line, printable};

/// One error or warning as `--json` prints it.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct IssueView {
    document: Option<DocumentView>,
    /// The field path inside the document (`spec.deploymentConfig.robotDeploymentTimeout`).
    path: String,
    /// The seed's error code, where one applies.
    code: Option<String>,
    message: String,
}

#[derive(Serialize)]
struct DocumentView {
    index: usize,
    kind: Kind,
    name: Option<String>,
}

impl From<&DocumentRef> for DocumentView {
    fn from(d: &DocumentRef) -> Self {
        DocumentView {
            index: d.index,
            kind: d.kind,
            name: d.name.clone(),
        }
    }
}

/// What `validate --json` prints.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ValidateView {
    file: String,
    valid: bool,
    /// Where the text stopped parsing (then nothing was validated).
    #[serde(skip_serializing_if = "Option::is_none")]
    parse_error: Option<ParseErrorView>,
    documents: Vec<DocumentView>,
    errors: Vec<IssueView>,
    warnings: Vec<IssueView>,
}

#[derive(Serialize)]
struct ParseErrorView {
    message: String,
    line: Option<u64>,
    column: Option<u64>,
}

fn issue_view<T: Display>(issue: &Issue<T>, path: String, code: Option<String>) -> IssueView {
    IssueView {
        document: issue.document.as_ref().map(DocumentView::from),
        path,
        code,
        message: issue.problem.to_string(),
    }
}

/// `validate FILE...`: every error and warning of each file, each with its document and field
/// path; fails when any file has an error.
pub(crate) fn validate_all(files: &[std::path::PathBuf], format: Format) -> Outcome {
    let mut ok = true;
    for file in files {
        ok &= validate(file, format)?;
    }
    Ok(ok)
}

/// `validate FILE`.
fn validate(file: &Path, format: Format) -> Outcome {
    let json = format != Format::Table;
    let manifest = match Manifest::load(file) {
        Ok(m) => m,
        Err(e @ ManifestError::Parse { .. }) if json => {
            let position = e.position();
            output::value(
                format,
                &ValidateView {
                    file: file.display().to_string(),
                    valid: false,
                    parse_error: Some(ParseErrorView {
                        message: e.to_string(),
                        line: position.map(|p| p.line),
                        column: position.map(|p| p.column),
                    }),
                    documents: Vec::new(),
                    errors: Vec::new(),
                    warnings: Vec::new(),
                },
            )?;
            return Ok(false);
        }
        Err(e) => return Err(e.into()),
    };
    let report = validate_manifest(&manifest);
    if json {
        output::value(
            format,
            &ValidateView {
                file: file.display().to_string(),
                valid: report.is_ok(),
                parse_error: None,
                documents: manifest
                    .documents
                    .iter()
                    .enumerate()
                    .map(|(i, d)| DocumentView::from(&DocumentRef::new(i, d)))
                    .collect(),
                errors: report
                    .errors
                    .iter()
                    .map(|i| {
                        let code = i.problem.error_code().map(|c| c.to_string());
                        issue_view(i, i.problem.path().to_string(), code)
                    })
                    .collect(),
                warnings: report
                    .warnings
                    .iter()
                    .map(|i| issue_view(i, i.problem.path().to_string(), None))
                    .collect(),
            },
        )?;
    } else {
        let names: Vec<String> = manifest
            .documents
            .iter()
            .map(|d| match d.name() {
                Some(name) => format!("{} {}", d.kind(), printable(name)),
                None => d.kind().to_string(),
            })
            .collect();
        line(format!(
            "{}: {} ({}), {}, {}",
            printable(&file.display().to_string()),
            output::count(manifest.len(), "document", "documents"),
            names.join(", "),
            output::count(report.errors.len(), "error", "errors"),
            output::count(report.warnings.len(), "warning", "warnings")
        ));
        print_report(&report);
    }
    Ok(report.is_ok())
}

/// Prints every error and warning, one per line, on stdout.
fn print_report(report: &Report) {
    for e in &report.errors {
        match e.problem.error_code() {
            Some(code) => line(format!("error [{code}]: {}", printable(&e.to_string()))),
            None => line(format!("error: {}", printable(&e.to_string()))),
        }
    }
    for w in &report.warnings {
        line(format!("warning: {}", printable(&w.to_string())));
    }
}

/// Loads and validates a manifest for `plan` and `apply`. `None`: it has errors, which were
/// printed (on stderr with `--json`, whose stdout is kept for the command's own document).
pub(crate) fn load_valid(file: &Path, json: bool) -> Result<Option<Manifest>, CliError> {
    let manifest = Manifest::load(file)?;
    let report = validate_manifest(&manifest);
    if report.is_ok() {
        for w in &report.warnings {
            output::diagnostic(format!("warning: {}", printable(&w.to_string())));
        }
        return Ok(Some(manifest));
    }
    if json {
        output::diagnostic(printable(&report.to_string()));
    } else {
        print_report(&report);
    }
    output::diagnostic(format!(
        "{}: {}; run `robodeploy validate` for details",
        printable(&file.display().to_string()),
        output::count(report.errors.len(), "error", "errors")
    ));
    Ok(None)
}
