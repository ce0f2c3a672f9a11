//! The manifest JSON Schema (`manifest::json_schema`) against the parser: every sample document
//! and every document the model can write validates; documents the parser refuses for an unknown
//! kind, a wrong type, an unknown key or a missing key are refused by the schema too, at the same
//! place; the hand-written schemas (durations, ids, restart policies) accept what their
//! deserializers read; and what a schema cannot see is listed by value.

#![cfg(feature = "schema")]

use std::collections::BTreeSet;
use std::path::PathBuf;

use jsonschema::error::ValidationErrorKind;
use jsonschema::{ValidationError, Validator};
use proptest::prelude::*;
use robodeploy_core::manifest::{Format, Manifest, json_schema};
use robodeploy_core::strategies::{any_document, ci_config};
use serde_json::{Value, json};

fn validator() -> Validator {
    jsonschema::validator_for(&json_schema()).expect("the schema compiles")
}

/// The schema's errors for one document, as (instance path, keyword) pairs. A `oneOf` or
/// `anyOf` that no branch matches stands for the errors of its branches that are about this
/// value: left out are the branches of the document's `oneOf` for other kinds (each fails on
/// `kind`, and what it says about `spec` is about another kind) and the `null` branch of an
/// optional field. When no branch is left, the keyword itself is listed.
fn schema_errors(validator: &Validator, doc: &Value) -> BTreeSet<(String, String)> {
    let mut out = BTreeSet::new();
    for error in validator.iter_errors(doc) {
        collect(&error, &mut out);
    }
    out
}

fn collect(error: &ValidationError<'_>, out: &mut BTreeSet<(String, String)>) {
    let path = error.instance_path().as_str();
    let (ValidationErrorKind::OneOfNotValid { context } | ValidationErrorKind::AnyOf { context }) =
        error.kind()
    else {
        out.insert((path.to_owned(), error.kind().keyword().to_owned()));
        return;
    };
    let another_kind = |e: &ValidationError<'_>| {
        e.instance_path().as_str() == "/kind"
            && matches!(e.kind(), ValidationErrorKind::Constant { .. })
    };
    let another_type = |branch: &Vec<ValidationError<'_>>| {
        matches!(branch.as_slice(), [e] if e.instance_path().as_str() == path
            && matches!(e.kind(), ValidationErrorKind::Type { .. }))
    };
    let branches: Vec<_> = context
        .iter()
        .filter(|branch| !branch.iter().any(another_kind) && !another_type(branch))
        .collect();
    if branches.is_empty() {
        out.insert((path.to_owned(), error.kind().keyword().to_owned()));
    }
    for error in branches.into_iter().flatten() {
        collect(error, out);
    }
}

fn errors(pairs: &[(&str, &str)]) -> BTreeSet<(String, String)> {
    pairs
        .iter()
        .map(|(path, keyword)| ((*path).to_owned(), (*keyword).to_owned()))
        .collect()
}

/// The documents of a YAML text as JSON values, split as `Manifest::parse_yaml` splits them.
fn yaml_documents(text: &str) -> Vec<Value> {
    serde_saphyr::from_multiple(text).unwrap_or_else(|e| panic!("{e}\n{text}"))
}

fn yaml_document(text: &str) -> Value {
    let mut docs = yaml_documents(text);
    assert_eq!(docs.len(), 1, "{text}");
    docs.remove(0)
}

fn samples() -> Vec<PathBuf> {
    robodeploy_testkit::samples::sample_files()
}

#[test]
fn the_schema_is_draft_2020_12_titled_and_without_an_id() {
    let schema = json_schema();
    assert_eq!(
        schema["$schema"],
        "https://json-schema.org/draft/2020-12/schema"
    );
    assert_eq!(schema["title"], "robodeploy manifest document");
    assert!(schema.get("$id").is_none());
    assert_eq!(schema["required"], json!(["apiVersion", "kind", "spec"]));
    assert_eq!(
        schema["properties"]["kind"]["enum"],
        json!(["Package", "Fleet", "Deployment", "DeploymentJob"])
    );
    assert_eq!(
        schema["properties"]["apiVersion"]["enum"],
        json!(["robodeploy/v1"])
    );
    let specs: Vec<_> = schema["oneOf"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| {
            (
                b["properties"]["kind"]["const"].as_str().unwrap(),
                b["properties"]["spec"]["$ref"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        specs,
        [
            ("Package", "#/$defs/Package"),
            ("Fleet", "#/$defs/Fleet"),
            ("Deployment", "#/$defs/DeploymentRequest"),
            ("DeploymentJob", "#/$defs/DeploymentJobRequest"),
        ]
    );
}

/// Every `description` in the schema, with its JSON pointer.
fn descriptions(value: &Value, at: String, out: &mut Vec<(String, String)>) {
    match value {
        Value::Object(map) => {
            for (key, v) in map {
                match (key.as_str(), v) {
                    ("description", Value::String(text)) => out.push((at.clone(), text.clone())),
                    _ => descriptions(v, format!("{at}/{key}"), out),
                }
            }
        }
        Value::Array(items) => {
            for (i, v) in items.iter().enumerate() {
                descriptions(v, format!("{at}/{i}"), out);
            }
        }
        _ => {}
    }
}

#[test]
fn descriptions_come_from_the_docs_without_doctests_or_link_targets() {
    let schema = json_schema();
    let mut all = Vec::new();
    descriptions(&schema, String::new(), &mut all);
    assert!(all.len() > 100, "{}", all.len());
    let rustdoc: Vec<_> = all
        .iter()
        .filter(|(_, text)| text.contains("```") || text.contains("](") || text.contains("[`"))
        .collect();
    assert!(rustdoc.is_empty(), "{rustdoc:#?}");
    // The package's doc comment holds a doctest; its description keeps only the prose.
    assert_eq!(
        schema["$defs"]["Package"]["description"],
        "A numbered version of a set of components."
    );
    // A field's link keeps its text.
    assert_eq!(
        schema.pointer("/$defs/Executable/properties/command/description"),
        Some(&json!(
            "argv: the program and its arguments (required on preinstalled devices; on Docker it\n\
             overrides the image's command). Executed as given, never through a shell, unless\n\
             `Executable::shell` is set."
        ))
    );
}

#[test]
fn every_document_of_every_sample_validates() {
    let validator = validator();
    let files = samples();
    assert_eq!(files.len(), 6, "{files:?}");
    let mut checked = 0;
    for file in files {
        let text = std::fs::read_to_string(&file).unwrap();
        let docs = match Format::from_path(&file) {
            Some(Format::Json) => match serde_json::from_str(&text).unwrap() {
                Value::Array(docs) => docs,
                one => vec![one],
            },
            _ => yaml_documents(&text),
        };
        // Split the same way as the parser: one value per document it reads.
        assert_eq!(
            docs.len(),
            Manifest::load(&file).unwrap().len(),
            "{}",
            file.display()
        );
        for (i, doc) in docs.iter().enumerate() {
            assert_eq!(
                schema_errors(&validator, doc),
                errors(&[]),
                "{} document {i}",
                file.display()
            );
        }
        checked += docs.len();
    }
    assert!(checked >= 15, "{checked} documents");
}

proptest! {
    #![proptest_config(ci_config())]

    /// What the model writes the parser reads back (manifest_props), so the schema must accept
    /// it: every field, every variant, every optional part present or not.
    #[test]
    fn every_document_the_model_writes_validates(doc in any_document()) {
        thread_local!(static VALIDATOR: Validator = validator());
        let value = serde_json::to_value(&doc).unwrap();
        VALIDATOR.with(|v| {
            let errors = schema_errors(v, &value);
            prop_assert!(errors.is_empty(), "{errors:?}\n{value:#}");
            Ok(())
        })?;
    }
}

const PACKAGE: &str = "
apiVersion: robodeploy/v1
kind: Package
spec:
  name: hello
  version: '1.0.0'
  components:
    - name: main
      placement: {kind: device, runtime: preinstalled, architecture: amd64}
      executables:
        - {name: hello, command: [sleep, '60']}
";

const FLEET: &str = "
apiVersion: robodeploy/v1
kind: Fleet
spec:
  name: lab
  robots:
    - {name: r1, architecture: amd64, runtime: docker}
";

const JOB: &str = "
apiVersion: robodeploy/v1
kind: DeploymentJob
spec:
  fleet: lab
  application: hello
  applicationVersion: '1.0.0'
  launchConfig: {packageName: hello, launchFile: hello.launch.py}
  deploymentConfig: {concurrentDeploymentPercentage: 10, failureThresholdPercentage: 5}
";

/// `base` with `from` replaced by `to` (which must occur once).
fn edit(base: &str, from: &str, to: &str) -> String {
    assert_eq!(base.matches(from).count(), 1, "{from:?} in {base}");
    base.replacen(from, to, 1)
}

/// A document the parser refuses with `parser_says` in its message, and the schema with exactly
/// `schema_says`.
#[track_caller]
fn refused_by_both(text: &str, parser_says: &str, schema_says: &[(&str, &str)]) {
    let err = Manifest::parse_yaml(text).expect_err(text).to_string();
    assert!(err.contains(parser_says), "parser: {err}\n{text}");
    assert_eq!(
        schema_errors(&validator(), &yaml_document(text)),
        errors(schema_says),
        "{text}"
    );
}

#[test]
fn the_bases_of_the_hostile_documents_are_accepted_by_both() {
    let validator = validator();
    for text in [PACKAGE, FLEET, JOB] {
        Manifest::parse_yaml(text).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(schema_errors(&validator, &yaml_document(text)), errors(&[]));
    }
}

#[test]
fn an_unknown_kind_or_api_version_is_refused() {
    refused_by_both(
        &edit(FLEET, "kind: Fleet", "kind: Robot"),
        "unknown variant `Robot`",
        &[("/kind", "enum"), ("", "oneOf")],
    );
    refused_by_both(
        &edit(FLEET, "kind: Fleet", "kind: fleet"),
        "unknown variant `fleet`",
        &[("/kind", "enum"), ("", "oneOf")],
    );
    refused_by_both(
        &edit(FLEET, "robodeploy/v1", "robodeploy/v2"),
        "unsupported apiVersion \"robodeploy/v2\"",
        &[("/apiVersion", "enum")],
    );
}

#[test]
fn a_field_of_the_wrong_type_is_refused_where_it_is() {
    refused_by_both(
        &edit(
            FLEET,
            "  robots:\n    - {name: r1, architecture: amd64, runtime: docker}",
            "  robots: {}",
        ),
        "expected sequence",
        &[("/spec/robots", "type")],
    );
    refused_by_both(
        &edit(
            JOB,
            "concurrentDeploymentPercentage: 10",
            "concurrentDeploymentPercentage: ten",
        ),
        "expected a percentage: a whole number from 1 to 100",
        &[(
            "/spec/deploymentConfig/concurrentDeploymentPercentage",
            "type",
        )],
    );
    refused_by_both(
        &edit(
            JOB,
            "concurrentDeploymentPercentage: 10",
            "concurrentDeploymentPercentage: 300",
        ),
        "expected a percentage: a whole number from 1 to 100",
        &[(
            "/spec/deploymentConfig/concurrentDeploymentPercentage",
            "maximum",
        )],
    );
    // A quoted number is text, for the parser as for the schema.
    refused_by_both(
        &edit(
            JOB,
            "concurrentDeploymentPercentage: 10",
            "concurrentDeploymentPercentage: '10'",
        ),
        "expected a percentage: a whole number from 1 to 100",
        &[(
            "/spec/deploymentConfig/concurrentDeploymentPercentage",
            "type",
        )],
    );
    refused_by_both(
        &edit(PACKAGE, "command: [sleep, '60']", "command: sleep 60"),
        "expected sequence",
        &[("/spec/components/0/executables/0/command", "type")],
    );
    // An enum value: one `const` miss per variant.
    refused_by_both(
        &edit(FLEET, "architecture: amd64", "architecture: riscv64"),
        "unknown variant `riscv64`",
        &[("/spec/robots/0/architecture", "const")],
    );
    refused_by_both(
        &edit(
            JOB,
            "launchFile: hello.launch.py}",
            "launchFile: hello.launch.py}\n  tags: [a, b]",
        ),
        "expected mapping",
        &[("/spec/tags", "type")],
    );
}

#[test]
fn an_unknown_key_is_refused_at_the_top_and_in_every_struct_of_spec() {
    refused_by_both(
        &edit(FLEET, "kind: Fleet", "kind: Fleet\nmetadata: {}"),
        "unknown field `metadata`",
        &[("", "additionalProperties")],
    );
    refused_by_both(
        &edit(PACKAGE, "{name: hello,", "{name: hello, imagee: busybox,"),
        "unknown field `imagee`",
        &[("/spec/components/0/executables/0", "additionalProperties")],
    );
    refused_by_both(
        &edit(
            FLEET,
            "runtime: docker}",
            "runtime: docker, rosdistro: humble}",
        ),
        "unknown field `rosdistro`",
        &[("/spec/robots/0", "additionalProperties")],
    );
    refused_by_both(
        &edit(
            JOB,
            "failureThresholdPercentage: 5}",
            "failureThresholdPercentage: 5, retries: 3}",
        ),
        "unknown field `retries`",
        &[("/spec/deploymentConfig", "additionalProperties")],
    );
    // A tagged enum: the device branch refuses the key, the cloud branch the tag.
    refused_by_both(
        &edit(
            PACKAGE,
            "architecture: amd64}",
            "architecture: amd64, gpu: true}",
        ),
        "unknown field `gpu`",
        &[
            ("/spec/components/0/placement", "additionalProperties"),
            ("/spec/components/0/placement/kind", "const"),
        ],
    );
    refused_by_both(
        &edit(
            FLEET,
            "runtime: docker}",
            "runtime: docker, connection: {agent: r1, via: x}}",
        ),
        "expected end of mapping",
        &[("/spec/robots/0/connection", "additionalProperties")],
    );
}

#[test]
fn a_missing_required_key_is_refused() {
    refused_by_both(
        "apiVersion: robodeploy/v1\nkind: Fleet\n",
        "missing field `spec`",
        &[("", "required")],
    );
    refused_by_both(
        &edit(
            PACKAGE,
            "      executables:\n        - {name: hello, command: [sleep, '60']}\n",
            "",
        ),
        "missing field `executables`",
        &[("/spec/components/0", "required")],
    );
    refused_by_both(
        &edit(FLEET, "architecture: amd64, ", ""),
        "missing field `architecture`",
        &[("/spec/robots/0", "required")],
    );
    refused_by_both(
        &edit(
            JOB,
            "  deploymentConfig: {concurrentDeploymentPercentage: 10, failureThresholdPercentage: 5}\n",
            "",
        ),
        "missing field `deploymentConfig`",
        &[("/spec", "required")],
    );
}

/// Whether the parser reads `doc` (as JSON) and whether the schema accepts it.
fn verdicts(validator: &Validator, doc: &Value) -> (bool, bool) {
    let parsed = Manifest::parse_json(&doc.to_string()).is_ok();
    (parsed, validator.is_valid(doc))
}

#[test]
fn durations_are_spans_in_strings() {
    let validator = validator();
    let job = yaml_document(JOB);
    // (value, parser reads it, schema accepts it)
    let cases = [
        (json!("5h"), true, true),
        (json!("90s"), true, true),
        (json!("1h 30m"), true, true),
        (json!("2 days"), true, true),
        (json!("PT5H"), true, true),
        (json!(" 15m "), true, true),
        (json!("soon"), false, false),
        (json!(""), false, false),
        (json!(300), false, false),
        (json!(null), false, false),
        // Not spans in time: the parser knows, the schema only sees a string with a digit.
        (json!("-5m"), false, true),
        (json!("1mo"), false, true),
        (json!("5"), false, true),
    ];
    for (value, parsed, valid) in cases {
        let mut doc = job.clone();
        doc["spec"]["deploymentConfig"]["robotDeploymentTimeout"] = value.clone();
        assert_eq!(
            verdicts(&validator, &doc),
            (parsed, valid),
            "timeout {value}"
        );
        // An optional span reads the same, and null as none.
        let mut doc = job.clone();
        doc["spec"]["deploymentConfig"]["offlineDeadline"] = value.clone();
        let parsed = parsed || value.is_null();
        let valid = valid || value.is_null();
        assert_eq!(
            verdicts(&validator, &doc),
            (parsed, valid),
            "deadline {value}"
        );
    }
}

#[test]
fn device_ids_are_uuids_in_any_form_uuid_reads() {
    let validator = validator();
    let fleet = yaml_document(FLEET);
    let cases = [
        ("67e55044-10b1-426f-9247-bb680e5fe0c8", true),
        ("67E55044-10B1-426F-9247-BB680E5FE0C8", true),
        ("67e5504410b1426f9247bb680e5fe0c8", true),
        ("{67e55044-10b1-426f-9247-bb680e5fe0c8}", true),
        ("urn:uuid:67e55044-10b1-426f-9247-bb680e5fe0c8", true),
        ("URN:UUID:67e55044-10b1-426f-9247-bb680e5fe0c8", true),
        ("67e55044-10b1-426f-9247-bb680e5fe0c", false),
        ("67e55044-10b1-426f-9247-bb680e5fe0c8a", false),
        ("67e5504410b1-426f-9247-bb680e5fe0c8", false),
        ("g7e55044-10b1-426f-9247-bb680e5fe0c8", false),
        ("{67e55044-10b1-426f-9247-bb680e5fe0c8", false),
        ("{67e5504410b1426f9247bb680e5fe0c8}", false),
        (" 67e55044-10b1-426f-9247-bb680e5fe0c8", false),
        ("robot-1", false),
    ];
    for (id, accepted) in cases {
        let mut doc = fleet.clone();
        doc["spec"]["robots"][0]["id"] = json!(id);
        assert_eq!(verdicts(&validator, &doc), (accepted, accepted), "{id}");
    }
}

#[test]
fn restart_policies_include_the_never_alias() {
    let validator = validator();
    let package = yaml_document(PACKAGE);
    for (policy, accepted) in [
        ("always", true),
        ("on-failure", true),
        ("no", true),
        ("never", true),
        ("Always", false),
        ("on_failure", false),
        ("unless-stopped", false),
    ] {
        let mut doc = package.clone();
        doc["spec"]["components"][0]["restartPolicy"] = json!(policy);
        assert_eq!(verdicts(&validator, &doc), (accepted, accepted), "{policy}");
    }
}

#[test]
fn every_struct_in_the_schema_refuses_unknown_keys() {
    let schema = json_schema();
    let mut open = Vec::new();
    let mut closed = 0;
    let mut visit = |name: &str, s: &Value| {
        if s.get("properties").is_some() {
            if s["additionalProperties"] == json!(false) {
                closed += 1;
            } else {
                open.push(name.to_owned());
            }
        }
    };
    visit("(document)", &schema);
    for (name, def) in schema["$defs"].as_object().unwrap() {
        visit(name, def);
        for branch in def["oneOf"].as_array().into_iter().flatten() {
            visit(name, branch);
        }
    }
    assert!(open.is_empty(), "structs that take any key: {open:?}");
    assert!(closed >= 20, "{closed}");
}

/// What the parser reads but the schema refuses. YAML: the parser reads a scalar into the type
/// its field wants when the text fits (`version: 1`, `shell: 'true'`), while the schema, which
/// sees the YAML as JSON values, asks for the type JSON needs. And two serde leniencies: an enum
/// also reads as a one-key map `{Fleet: null}`, and the untyped `cloud` placement takes extra
/// keys (serde's `deny_unknown_fields` does not reach unit variants of internally tagged enums).
#[test]
fn what_the_schema_refuses_but_the_parser_reads() {
    let validator = validator();
    let cases = [
        (
            edit(PACKAGE, "version: '1.0.0'", "version: 1"),
            &[("/spec/version", "type")][..],
        ),
        (
            edit(PACKAGE, "command: [sleep, '60']", "command: [sleep, 60]"),
            &[("/spec/components/0/executables/0/command/1", "type")],
        ),
        (
            edit(PACKAGE, "{name: hello,", "{name: hello, shell: 'true',"),
            &[("/spec/components/0/executables/0/shell", "type")],
        ),
        (
            edit(FLEET, "kind: Fleet", "kind: {Fleet: null}"),
            &[("/kind", "enum"), ("", "oneOf")],
        ),
        (
            edit(
                PACKAGE,
                "{kind: device, runtime: preinstalled, architecture: amd64}",
                "{kind: cloud, architecture: amd64}",
            ),
            &[
                ("/spec/components/0/placement", "additionalProperties"),
                ("/spec/components/0/placement", "required"),
                ("/spec/components/0/placement/kind", "const"),
            ],
        ),
    ];
    for (text, schema_says) in cases {
        Manifest::parse_yaml(&text).unwrap_or_else(|e| panic!("{e}\n{text}"));
        assert_eq!(
            schema_errors(&validator, &yaml_document(&text)),
            errors(schema_says),
            "{text}"
        );
    }
}

/// What the schema accepts but the parser refuses: rules about order and spans that a schema of
/// JSON values cannot state (duplicate keys never reach it: no JSON value holds them).
#[test]
fn what_the_parser_refuses_but_the_schema_accepts() {
    let validator = validator();
    let cases = [
        (
            "spec: {name: lab, robots: []}\napiVersion: robodeploy/v1\nkind: Fleet\n".to_owned(),
            "`apiVersion` and `kind` must come before `spec`",
        ),
        (
            edit(
                JOB,
                "failureThresholdPercentage: 5}",
                "failureThresholdPercentage: 5, robotDeploymentTimeout: -5m}",
            ),
            "must not be negative",
        ),
    ];
    for (text, parser_says) in cases {
        let err = Manifest::parse_yaml(&text).expect_err(&text).to_string();
        assert!(err.contains(parser_says), "{err}\n{text}");
        assert_eq!(
            schema_errors(&validator, &yaml_document(&text)),
            errors(&[]),
            "{text}"
        );
    }
}
