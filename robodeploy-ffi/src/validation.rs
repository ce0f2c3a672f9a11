//! A validation [`Report`] as JSON: the one shape both `rd_manifest_validate` and the details
//! of `RD_ERR_VALIDATION` use.
//!
//! ```json
//! {"valid": false,
//!  "errors": [{"document": {"index": 0, "kind": "DeploymentJob", "name": null},
//!              "path": "spec.applicationVersion", "rule": "LatestVersion",
//!              "code": null, "message": "spec.applicationVersion: …"}],
//!  "warnings": [{"document": …, "path": …, "rule": …, "message": …}]}
//! ```
//!
//! `rule` is the name of the rule broken (the variant of robodeploy-core's `ValidationError`
//! or `ValidationWarning`), `code` the seed's error code a deployment would show (`DEP_E162`)
//! where one applies, `document` null when a single value (not a manifest) was validated.

use std::fmt::Debug;

use robodeploy_core::validate::{DocumentRef, Issue, Report};
use serde_json::{Value, json};

/// The variant name of an error enum value: the start of its `Debug` form.
fn rule_name(problem: &impl Debug) -> String {
    let text = format!("{problem:?}");
    text.chars().take_while(|c| c.is_alphanumeric()).collect()
}

fn document_json(d: &Option<DocumentRef>) -> Value {
    match d {
        Some(d) => json!({"index": d.index, "kind": d.kind.to_string(), "name": d.name}),
        None => Value::Null,
    }
}

fn issue_json<T: Debug + std::fmt::Display>(
    issue: &Issue<T>,
    path: String,
    code: Option<String>,
) -> Value {
    let mut v = json!({
        "document": document_json(&issue.document),
        "path": path,
        "rule": rule_name(&issue.problem),
        "message": issue.problem.to_string(),
    });
    if let Some(code) = code {
        v["code"] = Value::String(code);
    }
    v
}

/// The report as the JSON value described in the module docs.
pub(crate) fn report_json(report: &Report) -> Value {
    let errors: Vec<Value> = report
        .errors
        .iter()
        .map(|i| {
            let code = i.problem.error_code().map(|c| c.to_string());
            issue_json(i, i.problem.path().to_string(), code)
        })
        .collect();
    let warnings: Vec<Value> = report
        .warnings
        .iter()
        .map(|i| issue_json(i, i.problem.path().to_string(), None))
        .collect();
    json!({"valid": report.is_ok(), "errors": errors, "warnings": warnings})
}

#[cfg(test)]
mod tests {
    use super::*;
    use robodeploy_core::validate::{FieldPath, ValidationError};

    #[test]
    fn errors_carry_path_rule_and_code() {
        let mut report = Report::default();
        report.errors.push(Issue {
            document: None,
            problem: ValidationError::LatestVersion {
                path: FieldPath::spec().field("applicationVersion"),
            },
        });
        let v = report_json(&report);
        assert_eq!(v["valid"], false);
        assert_eq!(v["errors"][0]["path"], "spec.applicationVersion");
        assert_eq!(v["errors"][0]["rule"], "LatestVersion");
        assert_eq!(v["errors"][0]["document"], Value::Null);
        assert!(v["errors"][0].get("code").is_none());
        assert_eq!(v["warnings"], json!([]));
    }
}
