//! Manifests across the ABI: parse YAML or JSON into the model's JSON, and validate.

use std::ffi::c_char;

use robodeploy_core::manifest::Manifest;
use robodeploy_core::validate::validate_manifest;

use crate::boundary::{guard, out_arg, str_arg, to_json, write_string};
use crate::result::rd_result;
use crate::validation::report_json;

/// Parses a manifest (YAML, or JSON when its first non-blank character is `{` or `[`) and
/// returns its documents as a JSON array of `{"apiVersion", "kind", "spec"}` objects in the
/// model's camelCase field names: how a program reads YAML manifests without a YAML parser.
///
/// Returns `RD_OK` and writes `*json_out` (free it with `rd_string_free`);
/// `RD_ERR_MANIFEST_SYNTAX` when the text does not parse (the detail names line and column);
/// `RD_ERR_NULL_ARGUMENT`, `RD_ERR_INVALID_UTF8`.
///
/// # Safety
/// `text` is NULL or a NUL-terminated string; `json_out` is NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn rd_manifest_to_json(
    text: *const c_char,
    json_out: *mut *mut c_char,
) -> rd_result {
    guard(|| {
        let out = out_arg(json_out, "json_out")?;
        // SAFETY: the caller's contract.
        let text = unsafe { str_arg(text, "text") }?;
        let manifest = Manifest::parse_str(text)?;
        let json = to_json(&manifest.documents)?;
        // SAFETY: checked by out_arg; writable per the caller's contract.
        unsafe { write_string(out, json) }
    })
}

/// Parses and validates a manifest (every document, the references between them, unique
/// names, dependency cycles) and returns the validation report as JSON:
/// `{"valid": bool, "errors": [...], "warnings": [...]}`, each entry with its `document`
/// (index, kind, name), field `path` (`spec.deploymentConfig.robotDeploymentTimeout`), `rule`,
/// `message`, and for errors the seed's `code` where one applies.
///
/// A manifest that parses gives `RD_OK` whether or not it is valid: read `valid`. Returns
/// `RD_ERR_MANIFEST_SYNTAX` when the text does not parse; `RD_ERR_NULL_ARGUMENT`,
/// `RD_ERR_INVALID_UTF8`.
///
/// # Safety
/// `text` is NULL or a NUL-terminated string; `report_json_out` is NULL or writable.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn rd_manifest_validate(
    text: *const c_char,
    report_json_out: *mut *mut c_char,
) -> rd_result {
    guard(|| {
        let out = out_arg(report_json_out, "report_json_out")?;
        // SAFETY: the caller's contract.
        let text = unsafe { str_arg(text, "text") }?;
        let manifest = Manifest::parse_str(text)?;
        let report = validate_manifest(&manifest);
        let json = report_json(&report).to_string();
        // SAFETY: checked by out_arg; writable per the caller's contract.
        unsafe { write_string(out, json) }
    })
}
