//! The JSON Schema of one manifest document, generated from the model's types.
//!
//! The model's types derive `JsonSchema`, which follows their serde attributes (camelCase names,
//! refused unknown fields, defaults, tags). What serde does by hand is described by hand, beside
//! the code it describes: the document itself (here), durations (`time::duration`), ids and
//! restart policies (`model`).

mod rustdoc;

use std::borrow::Cow;

use schemars::generate::SchemaSettings;
use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use serde_json::Value;

use super::{Document, Kind, SUPPORTED_API_VERSIONS};
use crate::model::{DeploymentJobRequest, DeploymentRequest, Fleet, Package};

/// The schema's title.
const TITLE: &str = "robodeploy manifest document";

/// The JSON Schema (draft 2020-12) of **one** manifest document: `apiVersion`, `kind` and the
/// `spec` of that kind.
///
/// A YAML manifest holds several documents separated by `---`, and a JSON manifest one document
/// or an array of them: each document is checked against this schema on its own. Editors use it
/// to complete and check manifests; for YAML, point the editor at a file holding this value
/// (with the YAML language server: a `# yaml-language-server: $schema=<file>` first line).
///
/// The schema accepts what [`Manifest`](super::Manifest) parses, with three differences a schema
/// cannot express: `apiVersion` and `kind` must come before `spec`, keys must not repeat, and
/// durations must be valid spans (the schema only asks for a string with a digit). What
/// [`validate`](crate::validate) checks (names, numbered versions, percentages in range, …) is
/// not in the schema either.
///
/// ```
/// let schema = robodeploy_core::manifest::json_schema();
/// assert_eq!(schema["$schema"], "https://json-schema.org/draft/2020-12/schema");
/// assert_eq!(schema["title"], "robodeploy manifest document");
/// assert_eq!(schema["properties"]["kind"]["enum"][0], "Package");
/// ```
pub fn json_schema() -> Value {
    let generator = SchemaSettings::draft2020_12()
        .for_deserialize()
        .with_transform(rustdoc::PlainDescriptions)
        .into_generator();
    let mut schema = generator.into_root_schema_for::<Document>();
    schema.insert("title".into(), TITLE.into());
    schema.to_value()
}

/// Written by hand, as `Document`'s serde is: an object of exactly `apiVersion`, `kind` and
/// `spec`, all required, whose `spec` is the model type `kind` names. The properties are listed
/// at the top (so that a wrong `apiVersion` or `kind` is reported as such, and editors complete
/// them); a `oneOf` with one branch per kind ties each `kind` to its `spec`.
impl JsonSchema for Document {
    fn schema_name() -> Cow<'static, str> {
        "Document".into()
    }

    fn schema_id() -> Cow<'static, str> {
        concat!(module_path!(), "::Document").into()
    }

    fn json_schema(generator: &mut SchemaGenerator) -> Schema {
        let branches: Vec<Value> = Kind::ALL
            .into_iter()
            .map(|kind| {
                let spec = match kind {
                    Kind::Package => generator.subschema_for::<Package>(),
                    Kind::Fleet => generator.subschema_for::<Fleet>(),
                    Kind::Deployment => generator.subschema_for::<DeploymentRequest>(),
                    Kind::DeploymentJob => generator.subschema_for::<DeploymentJobRequest>(),
                };
                serde_json::json!({
                    "properties": {"kind": {"const": kind.as_str()}, "spec": spec},
                })
            })
            .collect();
        let kinds: Vec<&str> = Kind::ALL.into_iter().map(Kind::as_str).collect();
        json_schema!({
            "description": "One document of a robodeploy manifest: the format version, what it \
                describes, and its spec. A YAML manifest holds several, separated by `---`.",
            "type": "object",
            "properties": {
                "apiVersion": {
                    "description": "The manifest format version.",
                    "enum": SUPPORTED_API_VERSIONS,
                },
                "kind": {
                    "description": "What the document describes; `spec` is of that kind.",
                    "enum": kinds,
                },
                "spec": {
                    "description": "The package, fleet, deployment or deployment job.",
                },
            },
            "required": ["apiVersion", "kind", "spec"],
            "additionalProperties": false,
            "oneOf": branches,
        })
    }
}
