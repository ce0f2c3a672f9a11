//! What validation found: every error and every warning, each with the document it is in.

use std::fmt;

use super::{ValidationError, ValidationWarning};
use crate::manifest::{Document, Kind};

/// The problems found in one document (or one value), before they are placed in a report.
#[derive(Debug, Default)]
pub(super) struct Findings {
    pub(super) errors: Vec<ValidationError>,
    pub(super) warnings: Vec<ValidationWarning>,
}

impl Findings {
    pub(super) fn error(&mut self, e: ValidationError) {
        self.errors.push(e);
    }

    pub(super) fn warn(&mut self, w: ValidationWarning) {
        self.warnings.push(w);
    }
}

/// Which document of a manifest an issue is in.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DocumentRef {
    /// Its position in the manifest, from 0.
    pub index: usize,
    /// Its kind.
    pub kind: Kind,
    /// Its name, when its kind has one.
    pub name: Option<String>,
}

impl DocumentRef {
    /// The reference to `doc`, the `index`th document.
    pub fn new(index: usize, doc: &Document) -> Self {
        DocumentRef {
            index,
            kind: doc.kind(),
            name: doc.name().map(str::to_owned),
        }
    }
}

/// Shown as people count, from 1: `document 3 (Deployment "talker")` is the third document.
impl fmt::Display for DocumentRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "document {} ({}", self.index + 1, self.kind)?;
        if let Some(name) = &self.name {
            write!(f, " {name:?}")?;
        }
        f.write_str(")")
    }
}

/// One error or warning, with the document it is in (none when a single value was validated).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Issue<T> {
    /// The document, when validating a manifest.
    pub document: Option<DocumentRef>,
    /// The problem.
    pub problem: T,
}

impl<T: fmt::Display> fmt::Display for Issue<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.document {
            Some(d) => write!(f, "{d}: {}", self.problem),
            None => fmt::Display::fmt(&self.problem, f),
        }
    }
}

/// Everything validation found: all errors and, separately, all warnings, in document order.
///
/// A report with errors is itself an error (it implements [`std::error::Error`]), listing them
/// one per line; [`Report::into_result`] turns it into a `Result`.
///
/// ```
/// use robodeploy_core::validate::{Report, ValidationError};
/// let report = Report::default();
/// assert!(report.is_ok());
/// assert!(report.into_result().unwrap().is_empty());
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Report {
    /// The errors: each breaks a rule.
    pub errors: Vec<Issue<ValidationError>>,
    /// The warnings: legal, but probably not what was meant.
    pub warnings: Vec<Issue<ValidationWarning>>,
}

impl Report {
    /// Whether there are no errors (warnings allowed).
    pub fn is_ok(&self) -> bool {
        self.errors.is_empty()
    }

    /// The errors, without their documents.
    pub fn problems(&self) -> impl Iterator<Item = &ValidationError> {
        self.errors.iter().map(|i| &i.problem)
    }

    /// `Ok(warnings)` when there are no errors, the report itself otherwise.
    pub fn into_result(self) -> Result<Vec<Issue<ValidationWarning>>, Report> {
        if self.is_ok() {
            Ok(self.warnings)
        } else {
            Err(self)
        }
    }

    pub(super) fn add(&mut self, document: Option<DocumentRef>, findings: Findings) {
        self.errors
            .extend(findings.errors.into_iter().map(|problem| Issue {
                document: document.clone(),
                problem,
            }));
        self.warnings
            .extend(findings.warnings.into_iter().map(|problem| Issue {
                document: document.clone(),
                problem,
            }));
    }
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut first = true;
        for e in &self.errors {
            if !first {
                f.write_str("\n")?;
            }
            first = false;
            write!(f, "error: {e}")?;
        }
        for w in &self.warnings {
            if !first {
                f.write_str("\n")?;
            }
            first = false;
            write!(f, "warning: {w}")?;
        }
        if first {
            f.write_str("no problems")?;
        }
        Ok(())
    }
}

impl std::error::Error for Report {}
