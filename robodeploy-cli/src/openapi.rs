//! The API's OpenAPI document, generated from the code: the route table below (the router in
//! `server::routes` serves exactly these routes; a test checks every one answers) and the
//! JSON Schemas of the bodies, derived from the Rust types. `GET /openapi.json` serves it; the
//! committed copy (`robodeploy-cli/openapi.json`) is checked current in CI, like the C header.

use serde_json::{Map, Value, json};

/// One route of the API.
#[derive(Clone, Copy, Debug)]
pub struct Route {
    /// The HTTP method, lower case.
    pub method: &'static str,
    /// The path, with `{parameters}`.
    pub path: &'static str,
    /// What it does.
    pub summary: &'static str,
    /// Whether it needs the bearer token.
    pub auth: bool,
    /// The request body's schema, if it takes one.
    pub body: Option<&'static str>,
    /// The query's schema, if it reads one.
    pub query: Option<&'static str>,
    /// The success response's schema; for a stream, the schema of each line; [`SVG`] for a
    /// picture.
    pub response: &'static str,
    /// Whether the response is a stream of JSON lines.
    pub stream: bool,
}

const fn route(
    method: &'static str,
    path: &'static str,
    summary: &'static str,
    body: Option<&'static str>,
    response: &'static str,
) -> Route {
    Route {
        method,
        path,
        summary,
        auth: true,
        body,
        query: None,
        response,
        stream: false,
    }
}

/// The `response` of a route answering an SVG picture (`image/svg+xml`) rather than JSON.
pub const SVG: &str = "image/svg+xml";

/// Every route the server serves.
pub const ROUTES: &[Route] = &[
    Route {
        auth: false,
        ..route(
            "get",
            "/v1/health",
            "Whether the server answers",
            None,
            "Health",
        )
    },
    Route {
        auth: false,
        ..route(
            "get",
            "/openapi.json",
            "This document",
            None,
            "OpenApiDocument",
        )
    },
    route(
        "get",
        "/v1/server",
        "Who answers: version, API, state directory",
        None,
        "ServerInfo",
    ),
    route(
        "post",
        "/v1/apply",
        "Make the server hold what a manifest describes (or say what would change)",
        Some("ApplyRequest"),
        "ApplyReport",
    ),
    route(
        "post",
        "/v1/delete",
        "Deprovision a manifest's deployments and cancel its jobs",
        Some("ApplyRequest"),
        "ApplyReport",
    ),
    route(
        "get",
        "/v1/deployments",
        "Every live deployment",
        None,
        "DeploymentStatusList",
    ),
    route(
        "get",
        "/v1/deployments/{name}",
        "A deployment, by name or id (also one that ended)",
        None,
        "DeploymentStatus",
    ),
    route(
        "delete",
        "/v1/deployments/{name}",
        "Deprovision a deployment; its status once stopped",
        None,
        "DeploymentStatus",
    ),
    Route {
        query: Some("LogQuery"),
        stream: true,
        ..route(
            "get",
            "/v1/deployments/{name}/logs",
            "A deployment's output, as JSON lines",
            None,
            "LogEntry",
        )
    },
    route(
        "post",
        "/v1/deployments/{name}/exec",
        "Run a command inside a running executable",
        Some("ExecRequest"),
        "ExecOutput",
    ),
    route(
        "get",
        "/v1/jobs",
        "Every deployment job",
        None,
        "JobReportList",
    ),
    route(
        "get",
        "/v1/jobs/{id}",
        "A deployment job",
        None,
        "JobReport",
    ),
    route(
        "post",
        "/v1/jobs/{id}/cancel",
        "Cancel a job",
        None,
        "JobReport",
    ),
    route(
        "post",
        "/v1/jobs/{id}/rollback",
        "Roll a job back: a running job stops, then every robot it updated returns to the \
         version it ran before (409 when nothing is left to roll back)",
        None,
        "JobReport",
    ),
    route(
        "post",
        "/v1/jobs/{id}/resume",
        "Resume a paused or halted job",
        None,
        "JobReport",
    ),
    Route {
        query: Some("LogQuery"),
        stream: true,
        ..route(
            "get",
            "/v1/jobs/{id}/logs",
            "The output of every deployment a job made, as JSON lines",
            None,
            "LogEntry",
        )
    },
    route(
        "get",
        "/v1/jobs/{id}/timeline.svg",
        "A job's timeline as an SVG picture: a lane per robot with a bar per step (from the \
         robot events this server saw), failures marked, the concurrency limit and the failure \
         threshold drawn",
        None,
        SVG,
    ),
    route(
        "get",
        "/v1/devices",
        "Every registered device",
        None,
        "DeviceList",
    ),
    route(
        "delete",
        "/v1/devices/{name}",
        "Remove a device nothing runs on",
        None,
        "Removed",
    ),
    route("get", "/v1/fleets", "Every fleet", None, "FleetList"),
    route(
        "get",
        "/v1/packages",
        "Every package version in the catalog",
        None,
        "PackageList",
    ),
    Route {
        stream: true,
        ..route(
            "get",
            "/v1/events",
            "Every engine event from now on, as JSON lines",
            None,
            "EventLine",
        )
    },
];

fn reference(name: &str) -> Value {
    json!({ "$ref": format!("#/components/schemas/{name}") })
}

fn parameters(route: &Route) -> Vec<Value> {
    let mut out = Vec::new();
    for segment in route.path.split('/') {
        if let Some(name) = segment.strip_prefix('{').and_then(|s| s.strip_suffix('}')) {
            let schema = if name == "id" {
                json!({ "type": "string", "format": "uuid" })
            } else {
                json!({ "type": "string", "minLength": 1 })
            };
            out.push(json!({ "name": name, "in": "path", "required": true, "schema": schema }));
        }
    }
    if route.query.is_some() {
        for (name, schema) in [
            ("component", json!({ "type": "string" })),
            ("executable", json!({ "type": "string" })),
            ("tail", json!({ "type": "integer", "minimum": 0 })),
            ("follow", json!({ "type": "boolean" })),
        ] {
            out.push(json!({ "name": name, "in": "query", "required": false, "schema": schema }));
        }
    }
    out
}

fn operation(route: &Route) -> Value {
    let mut op = Map::new();
    op.insert("summary".into(), json!(route.summary));
    op.insert(
        "operationId".into(),
        json!(format!(
            "{}{}",
            route.method,
            route
                .path
                .split(['/', '{', '}', '.'])
                .filter(|s| !s.is_empty())
                .map(|s| {
                    let mut c = s.chars();
                    c.next()
                        .map(|f| f.to_uppercase().chain(c).collect::<String>())
                        .unwrap_or_default()
                })
                .collect::<String>()
        )),
    );
    let params = parameters(route);
    if !params.is_empty() {
        op.insert("parameters".into(), Value::Array(params));
    }
    if let Some(body) = route.body {
        op.insert(
            "requestBody".into(),
            json!({ "required": true, "content": { "application/json": { "schema": reference(body) } } }),
        );
    }
    let media = if route.stream {
        "application/x-ndjson"
    } else {
        "application/json"
    };
    let mut responses = Map::new();
    let success = if route.response == SVG {
        json!({ "description": "Success", "content": { SVG: { "schema": { "type": "string" } } } })
    } else {
        json!({ "description": "Success", "content": { media: { "schema": reference(route.response) } } })
    };
    responses.insert("200".into(), success);
    let error = json!({ "content": { "application/json": { "schema": reference("ApiError") } } });
    let mut refusals: Vec<(&str, &str)> = vec![("404", "Nothing of that name or id")];
    if route.body.is_some() || route.query.is_some() || route.path.contains('{') {
        refusals.push(("400", "The request breaks a rule; `field` names where"));
    }
    if route.auth {
        refusals.push(("401", "No bearer token, or the wrong one"));
    }
    if route.method != "get" {
        refusals.push(("409", "It conflicts with what exists"));
    }
    refusals.push(("503", "The engine is stopping"));
    refusals.push(("500", "The server failed"));
    for (code, description) in refusals {
        let mut r = error.clone();
        r["description"] = json!(description);
        responses.insert(code.into(), r);
    }
    op.insert("responses".into(), Value::Object(responses));
    if route.auth {
        op.insert("security".into(), json!([{ "bearer": [] }]));
    }
    Value::Object(op)
}

/// The OpenAPI 3.1 document of the API.
pub fn document() -> Value {
    let mut paths = Map::new();
    for r in ROUTES {
        let entry = paths
            .entry(r.path.to_owned())
            .or_insert_with(|| Value::Object(Map::new()));
        if let Value::Object(ops) = entry {
            ops.insert(r.method.to_owned(), operation(r));
        }
    }
    json!({
        "openapi": "3.1.0",
        "info": {
            "title": "robodeploy server API",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "The HTTP API of `robodeploy serve`: apply manifests, watch deployments, jobs and devices, read logs and events. Streams are JSON lines (application/x-ndjson)."
        },
        "paths": Value::Object(paths),
        "components": {
            "securitySchemes": { "bearer": { "type": "http", "scheme": "bearer" } },
            "schemas": crate::schema::api_schemas()
        }
    })
}
