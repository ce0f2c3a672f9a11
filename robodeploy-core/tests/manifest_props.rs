//! The manifest parser never panics, whatever it is given, and what it accepts it writes back
//! unchanged.

use proptest::prelude::*;
use robodeploy_core::manifest::{Format, Manifest};
use robodeploy_core::strategies::{ci_config, valid::valid_manifest};
use robodeploy_core::validate::validate_manifest;

/// If `text` parses, the manifest survives writing and reading back in both syntaxes, and
/// validating it does not panic.
fn accepted_is_stable(text: &str) -> Result<(), TestCaseError> {
    for parsed in [
        Manifest::parse_str(text),
        Manifest::parse_yaml(text),
        Manifest::parse_json(text),
    ] {
        match parsed {
            Ok(m) => {
                prop_assert!(!m.is_empty());
                let yaml = m
                    .to_yaml()
                    .map_err(|e| TestCaseError::fail(e.to_string()))?;
                prop_assert_eq!(
                    &Manifest::parse_yaml(&yaml).map_err(|e| TestCaseError::fail(e.to_string()))?,
                    &m
                );
                let json = m
                    .to_json()
                    .map_err(|e| TestCaseError::fail(e.to_string()))?;
                prop_assert_eq!(
                    &Manifest::parse_json(&json).map_err(|e| TestCaseError::fail(e.to_string()))?,
                    &m
                );
                let _ = validate_manifest(&m);
            }
            Err(e) => {
                // Every error displays, and positions count from 1.
                prop_assert!(!e.to_string().is_empty());
                if let Some(p) = e.position() {
                    prop_assert!(p.line >= 1 && p.column >= 1, "{:?}", p);
                }
            }
        }
    }
    Ok(())
}

/// Text that looks like a manifest: keys and punctuation the format uses, in any order.
fn manifest_like() -> impl Strategy<Value = String> {
    let token = prop::sample::select(vec![
        "apiVersion: robodeploy/v1\n",
        "kind: Fleet\n",
        "kind: Package\n",
        "kind: Deployment\n",
        "kind: DeploymentJob\n",
        "spec:\n",
        "  name: lab\n",
        "  robots: []\n",
        "---\n",
        "- ",
        ": ",
        "{",
        "}",
        "[",
        "]",
        ",",
        "\"",
        "'",
        "&a ",
        "*a ",
        "<<: ",
        "!!str ",
        "  ",
        "\n",
        "\t",
        "#",
        "version: \"1\"\n",
        "components: []\n",
        "null",
        "~",
        "1e400",
        "-1",
        "\u{feff}",
        "\u{0}",
    ]);
    prop::collection::vec(token, 0..40).prop_map(|t| t.concat())
}

proptest! {
    #![proptest_config(ci_config())]

    #[test]
    fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..256)) {
        accepted_is_stable(&String::from_utf8_lossy(&bytes))?;
    }

    #[test]
    fn arbitrary_text_never_panics(text in ".{0,200}") {
        accepted_is_stable(&text)?;
    }

    #[test]
    fn manifest_like_text_never_panics(text in manifest_like()) {
        accepted_is_stable(&text)?;
    }

    #[test]
    fn damaged_valid_manifests_never_panic(
        m in valid_manifest(),
        json in any::<bool>(),
        cut in any::<prop::sample::Index>(),
        insert in prop::sample::select(vec!["", ":", "-", "{", "\n", "  ", "\"", "x: 1\n"]),
    ) {
        let format = if json { Format::Json } else { Format::Yaml };
        let mut text = m.to_format(format).map_err(|e| TestCaseError::fail(e.to_string()))?;
        let mut at = cut.index(text.len() + 1);
        while !text.is_char_boundary(at) {
            at -= 1;
        }
        // Remove one character there (if any) and insert a fragment.
        if let Some(c) = text[at..].chars().next() {
            text.replace_range(at..at + c.len_utf8(), "");
        }
        text.insert_str(at, insert);
        accepted_is_stable(&text)?;
    }
}
