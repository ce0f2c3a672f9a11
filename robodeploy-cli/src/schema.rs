//! The JSON Schemas: a manifest document's (`robodeploy schema`) and the API's bodies (the
//! OpenAPI document's components).

use serde_json::{Map, Value};

/// The schema `robodeploy schema` prints.
pub(crate) fn manifest_schema() -> Value {
    Value::Object(Map::new())
}

/// The schemas of every body the API names, by name.
pub(crate) fn api_schemas() -> Value {
    let mut out = Map::new();
    for r in crate::openapi::ROUTES {
        for name in [Some(r.response), r.body, r.query].into_iter().flatten() {
            out.insert(name.to_owned(), Value::Object(Map::new()));
        }
    }
    out.insert("ApiError".into(), Value::Object(Map::new()));
    Value::Object(out)
}
