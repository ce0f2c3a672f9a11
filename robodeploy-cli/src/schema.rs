//! The JSON Schemas: a manifest document's (`robodeploy schema`) and the API's bodies (the
//! OpenAPI document's components), generated from the Rust types with schemars. Responses are
//! described as the server writes them, requests as it reads them.

use robodeploy_core::engine::{DeploymentStatus, EngineEvent, JobReport};
use robodeploy_core::model::{Device, Fleet, Package};
use robodeploy_core::runtime::ExecOutput;
use schemars::generate::{Contract, SchemaGenerator, SchemaSettings};
use serde_json::{Map, Value, json};

use crate::api::{
    ApiError, ApplyReport, ApplyRequest, ExecRequest, LogEntry, LogQuery, ServerInfo,
};

/// The schema `robodeploy schema` prints: one manifest document.
pub(crate) fn manifest_schema() -> Value {
    robodeploy_core::manifest::json_schema()
}

fn generator(contract: Contract) -> SchemaGenerator {
    let mut settings = SchemaSettings::draft2020_12();
    settings.definitions_path = "/components/schemas".into();
    settings.meta_schema = None;
    settings.contract = contract;
    settings.into_generator()
}

/// The schemas of every body the API names ([`crate::openapi::ROUTES`]), by name, with every
/// type they refer to.
pub(crate) fn api_schemas() -> Value {
    let mut named: Vec<(&str, Value)> = Vec::new();
    let mut writes = generator(Contract::Serialize);
    let mut reads = generator(Contract::Deserialize);
    macro_rules! write {
        ($name:literal, $t:ty) => {
            named.push(($name, writes.subschema_for::<$t>().to_value()))
        };
    }
    macro_rules! read {
        ($name:literal, $t:ty) => {
            named.push(($name, reads.subschema_for::<$t>().to_value()))
        };
    }
    write!("ServerInfo", ServerInfo);
    write!("ApplyReport", ApplyReport);
    write!("DeploymentStatus", DeploymentStatus);
    write!("DeploymentStatusList", Vec<DeploymentStatus>);
    write!("LogEntry", LogEntry);
    write!("ExecOutput", ExecOutput);
    write!("JobReport", JobReport);
    write!("JobReportList", Vec<JobReport>);
    write!("DeviceList", Vec<Device>);
    write!("FleetList", Vec<Fleet>);
    write!("PackageList", Vec<Package>);
    write!("EngineEvent", EngineEvent);
    write!("ApiError", ApiError);
    read!("ApplyRequest", ApplyRequest);
    read!("ExecRequest", ExecRequest);
    read!("LogQuery", LogQuery);
    let mut out: Map<String, Value> = writes.take_definitions(true);
    for (name, schema) in reads.take_definitions(true) {
        out.entry(name).or_insert(schema);
    }
    for (name, schema) in named {
        // A named type's subschema is a reference to its own definition: keep the definition.
        out.entry(name.to_owned()).or_insert(schema);
    }
    out.insert(
        "Health".to_owned(),
        json!({
            "type": "object",
            "properties": { "status": { "const": "ok" }, "version": { "type": "string" } },
            "required": ["status", "version"]
        }),
    );
    out.insert(
        "OpenApiDocument".to_owned(),
        json!({ "type": "object", "required": ["openapi", "paths"] }),
    );
    out.insert(
        "Removed".to_owned(),
        json!({
            "type": "object",
            "properties": { "removed": { "type": "string" } },
            "required": ["removed"]
        }),
    );
    out.insert(
        "EventLine".to_owned(),
        json!({
            "description": "One line of the event stream: an engine event, or a note that the client fell behind and missed some (read the state again)",
            "anyOf": [
                { "$ref": "#/components/schemas/EngineEvent" },
                {
                    "type": "object",
                    "properties": {
                        "event": { "const": "lagged" },
                        "missed": { "type": "integer", "minimum": 0 }
                    },
                    "required": ["event", "missed"]
                }
            ]
        }),
    );
    Value::Object(out)
}
