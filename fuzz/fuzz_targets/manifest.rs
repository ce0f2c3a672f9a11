//! Manifest parse + validate, YAML and JSON: any text parses to a manifest or to an error
//! that says what is wrong; every validation error names its field path, and its message
//! names that path; a parsed manifest can be written back out. No panic.

#![no_main]

use libfuzzer_sys::fuzz_target;
use robodeploy_core::manifest::{Format, Manifest};
use robodeploy_core::validate::validate_manifest;

fuzz_target!(|data: &[u8]| {
    let Some((&which, rest)) = data.split_first() else {
        return;
    };
    let Ok(text) = std::str::from_utf8(rest) else {
        return;
    };
    let parsed = match which % 3 {
        0 => Manifest::parse(text, Format::Yaml),
        1 => Manifest::parse(text, Format::Json),
        _ => Manifest::parse_str(text),
    };
    let manifest = match parsed {
        Ok(m) => m,
        Err(e) => {
            assert!(!e.to_string().is_empty(), "{e:?}");
            return;
        }
    };
    let report = validate_manifest(&manifest);
    for issue in &report.errors {
        let path = issue.problem.path().to_string();
        assert!(!path.is_empty(), "no field path: {issue:?}");
        let message = issue.problem.to_string();
        assert!(
            message.contains(&path),
            "{message:?} does not name {path:?}"
        );
    }
    for issue in &report.warnings {
        assert!(!issue.problem.path().to_string().is_empty(), "{issue:?}");
    }
    let _ = manifest.to_json();
    let _ = manifest.to_yaml();
});
