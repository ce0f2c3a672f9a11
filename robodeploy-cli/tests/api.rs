//! The server's HTTP API from outside, over a plain TCP connection: the token, refusals that
//! name the field (4xx, never 5xx, nothing changed), every documented route served, every
//! answer valid against the OpenAPI document's schemas, and the committed document current.

mod common;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use common::{Server, explain, json, stdout};
use serde_json::{Value, json};

/// One HTTP/1.1 request (`Connection: close`); the status and the body as JSON (`Null` when
/// the body is not JSON). With `head_only`, only the status is read (streams never end).
fn http(
    server: &Server,
    method: &str,
    path: &str,
    token: Option<&str>,
    body: Option<&Value>,
    head_only: bool,
) -> (u16, Value) {
    let (url, _) = server.endpoint();
    let addr = url.trim_start_matches("http://");
    let mut stream = TcpStream::connect(addr).expect("connect");
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .expect("timeout");
    let body = body.map(|b| b.to_string()).unwrap_or_default();
    let mut request = format!("{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n");
    if let Some(t) = token {
        request.push_str(&format!("Authorization: Bearer {t}\r\n"));
    }
    if !body.is_empty() {
        request.push_str("Content-Type: application/json\r\n");
    }
    request.push_str(&format!("Content-Length: {}\r\n\r\n{body}", body.len()));
    stream.write_all(request.as_bytes()).expect("send");
    let mut raw = Vec::new();
    let mut buf = [0u8; 8192];
    loop {
        let n = stream.read(&mut buf).unwrap_or(0);
        if n == 0 {
            break;
        }
        raw.extend_from_slice(&buf[..n]);
        if head_only && raw.windows(4).any(|w| w == b"\r\n\r\n") {
            break;
        }
    }
    let text = String::from_utf8_lossy(&raw).into_owned();
    let status: u16 = text
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("no status line: {text:?}"));
    if head_only {
        return (status, Value::Null);
    }
    let (head, rest) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let body = if head
        .to_ascii_lowercase()
        .contains("transfer-encoding: chunked")
    {
        dechunk(rest)
    } else {
        rest.to_owned()
    };
    (status, serde_json::from_str(&body).unwrap_or(Value::Null))
}

fn dechunk(mut rest: &str) -> String {
    let mut out = String::new();
    while let Some((size, after)) = rest.split_once("\r\n") {
        let n = usize::from_str_radix(size.trim(), 16).unwrap_or(0);
        if n == 0 || after.len() < n {
            break;
        }
        out.push_str(&after[..n]);
        rest = after[n..].trim_start_matches("\r\n");
    }
    out
}

/// A request and how it is refused: method, path, body, status, error kind, field.
type Refused = (
    &'static str,
    &'static str,
    Option<Value>,
    u16,
    &'static str,
    Option<&'static str>,
);

const HELLO: &str = r#"[
 {"apiVersion": "robodeploy/v1", "kind": "Fleet", "spec": {"name": "desk", "robots": [{"name": "desk-001", "architecture": "amd64", "runtime": "preinstalled"}]}},
 {"apiVersion": "robodeploy/v1", "kind": "Package", "spec": {"name": "hello", "version": "0.1.0", "components": [{"name": "hello", "placement": {"kind": "device", "runtime": "preinstalled", "architecture": "amd64"}, "restartPolicy": "always", "executables": [{"name": "hello", "command": ["sh", "-c", "echo hello; while true; do sleep 1; done"]}]}]}},
 {"apiVersion": "robodeploy/v1", "kind": "Deployment", "spec": {"name": "hello", "package": "hello", "version": "0.1.0", "devices": {"hello": "desk-001"}}}
]"#;

#[test]
fn the_token_is_required_and_bad_requests_are_4xx_naming_the_field_changing_nothing() {
    let server = Server::start("api-refusals");
    let (_, token) = server.endpoint();
    let token = Some(token.as_str());

    let (status, body) = http(&server, "GET", "/v1/health", None, None, false);
    assert_eq!((status, &body["status"]), (200, &json!("ok")));
    for t in [None, Some("not-the-token")] {
        let (status, body) = http(&server, "GET", "/v1/deployments", t, None, false);
        assert_eq!(
            (status, &body["error"]),
            (401, &json!("unauthorized")),
            "{t:?}: {body}"
        );
        let (status, _) = http(
            &server,
            "POST",
            "/v1/apply",
            t,
            Some(&json!({ "manifest": HELLO })),
            false,
        );
        assert_eq!(status, 401);
    }

    let cases: Vec<Refused> = vec![
        (
            "POST",
            "/v1/apply",
            Some(json!({ "manifest": 5 })),
            400,
            "invalid",
            Some("manifest"),
        ),
        (
            "POST",
            "/v1/apply",
            Some(json!({ "manifest": HELLO, "bogus": 1 })),
            400,
            "invalid",
            None,
        ),
        (
            "POST",
            "/v1/apply",
            Some(json!({ "manifest": HELLO, "baseDir": "rel" })),
            400,
            "invalid",
            Some("baseDir"),
        ),
        (
            "POST",
            "/v1/apply",
            Some(
                json!({ "manifest": "apiVersion: robodeploy/v1\nkind: Fleet\nspec:\n  name: lab\n  robotz: []\n" }),
            ),
            400,
            "invalid",
            Some("manifest"),
        ),
        (
            "GET",
            "/v1/jobs/not-a-uuid",
            None,
            400,
            "invalid",
            Some("id"),
        ),
        (
            "POST",
            "/v1/jobs/not-a-uuid/cancel",
            None,
            400,
            "invalid",
            Some("id"),
        ),
        ("GET", "/v1/deployments/nope", None, 404, "notFound", None),
        (
            "DELETE",
            "/v1/deployments/nope",
            None,
            404,
            "notFound",
            None,
        ),
        (
            "GET",
            "/v1/deployments/nope/logs?tail=-1",
            None,
            400,
            "invalid",
            Some("query"),
        ),
        (
            "POST",
            "/v1/deployments/nope/exec",
            Some(json!({ "component": "a", "executable": "b", "command": [] })),
            400,
            "invalid",
            Some("command"),
        ),
        (
            "POST",
            "/v1/deployments/nope/exec",
            Some(json!({ "component": "a", "executable": "b", "command": [1] })),
            400,
            "invalid",
            Some("command[0]"),
        ),
        (
            "GET",
            "/v1/jobs/00000000-0000-4000-8000-000000000000",
            None,
            404,
            "notFound",
            None,
        ),
        ("DELETE", "/v1/devices/nope", None, 404, "notFound", None),
        ("GET", "/v2/anything", None, 404, "notFound", None),
    ];
    for (method, path, body, want, kind, field) in cases {
        let (status, answer) = http(&server, method, path, token, body.as_ref(), false);
        assert_eq!(status, want, "{method} {path}: {answer}");
        assert_eq!(answer["error"], kind, "{method} {path}: {answer}");
        if let Some(field) = field {
            assert_eq!(answer["field"], field, "{method} {path}: {answer}");
        }
        assert!(
            answer["message"].as_str().is_some_and(|m| !m.is_empty()),
            "{method} {path}: {answer}"
        );
    }

    // A manifest breaking rules: every problem, its document counted from 1, its field.
    let bad = json!({ "manifest": r#"[
      {"apiVersion": "robodeploy/v1", "kind": "Fleet", "spec": {"name": "lab", "robots": [{"name": "r1", "architecture": "amd64", "runtime": "preinstalled"}]}},
      {"apiVersion": "robodeploy/v1", "kind": "DeploymentJob", "spec": {"fleet": "lab", "application": "talker", "applicationVersion": "1.0.0",
        "launchConfig": {"packageName": "talker", "launchFile": "t.launch.py", "environmentVariables": {"lower": "x"}},
        "deploymentConfig": {"concurrentDeploymentPercentage": 0, "failureThresholdPercentage": 5, "robotDeploymentTimeout": "10m"}}}
    ]"# });
    let (status, answer) = http(&server, "POST", "/v1/apply", token, Some(&bad), false);
    assert_eq!(status, 400, "{answer}");
    let problems: Vec<(u64, &str)> = answer["problems"]
        .as_array()
        .expect("problems")
        .iter()
        .map(|p| {
            (
                p["document"].as_u64().unwrap_or(0),
                p["field"].as_str().unwrap_or(""),
            )
        })
        .collect();
    for want in [
        (2, "spec.launchConfig.environmentVariables.lower"),
        (2, "spec.deploymentConfig.concurrentDeploymentPercentage"),
        (2, "spec.application"),
    ] {
        assert!(problems.contains(&want), "{want:?} missing: {answer}");
    }

    // Nothing of any refused request was kept.
    for path in [
        "/v1/packages",
        "/v1/devices",
        "/v1/fleets",
        "/v1/deployments",
        "/v1/jobs",
    ] {
        let (status, answer) = http(&server, "GET", path, token, None, false);
        assert_eq!((status, answer), (200, json!([])), "{path}");
    }
}

#[test]
fn every_documented_route_is_served_and_answers_its_schema() {
    let server = Server::start("api-routes");
    let (_, token) = server.endpoint();
    let token = Some(token.as_str());

    // The committed document is the one the code generates.
    let out = server.cli(&["openapi"]);
    assert_eq!(out.status.code(), Some(0), "{}", explain(&out));
    let generated = json(&out);
    let committed: Value = serde_json::from_str(
        &std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/openapi.json"))
            .expect("robodeploy-cli/openapi.json"),
    )
    .expect("committed JSON");
    assert!(
        generated == committed,
        "robodeploy-cli/openapi.json is stale: regenerate it with \
         `cargo run -p robodeploy-cli -- openapi > robodeploy-cli/openapi.json`"
    );
    let (status, served) = http(&server, "GET", "/openapi.json", None, None, false);
    assert_eq!((status, &served), (200, &generated));

    let (status, applied) = http(
        &server,
        "POST",
        "/v1/apply",
        token,
        Some(&json!({ "manifest": HELLO })),
        false,
    );
    assert_eq!(status, 200, "{applied}");
    let out = server.cli(&["get", "deployments", "hello", "-o", "json"]);
    assert_eq!(out.status.code(), Some(0), "{}", explain(&out));

    let validator = |name: &str| {
        let mut root = generated.clone();
        root["$ref"] = json!(format!("#/components/schemas/{name}"));
        jsonschema::draft202012::new(&root).unwrap_or_else(|e| panic!("{name}: {e}"))
    };
    assert!(validator("ApplyReport").is_valid(&applied), "{applied}");

    let paths = generated["paths"].as_object().expect("paths");
    let mut checked: Vec<String> = Vec::new();
    // Reads first: the other methods change what the reads answer (a DELETE deprovisions).
    let mut operations: Vec<(&String, &String, &Value)> = paths
        .iter()
        .flat_map(|(path, ops)| {
            ops.as_object()
                .expect("operations")
                .iter()
                .map(move |(method, op)| (path, method, op))
        })
        .collect();
    operations.sort_by_key(|(_, method, _)| method.as_str() != "get");
    for (path, method, op) in operations {
        let concrete = path
            .replace("{name}", "hello")
            .replace("{id}", "00000000-0000-4000-8000-000000000000");
        let concrete = if path.ends_with("/logs") {
            format!("{concrete}?tail=1")
        } else {
            concrete
        };
        let stream = op["responses"]["200"]["content"]
            .get("application/x-ndjson")
            .is_some();
        let method = method.to_uppercase();
        if method != "GET" {
            // Served: a wrong body is refused by the route, not "no such route".
            let (status, answer) = http(
                &server,
                &method,
                &concrete,
                token,
                Some(&json!({"x": 1})),
                false,
            );
            assert_ne!(status, 405, "{method} {path}");
            assert!(
                !answer["message"]
                    .as_str()
                    .unwrap_or("")
                    .contains("no such route"),
                "{method} {path} is documented but not served"
            );
            continue;
        }
        let (status, answer) = http(&server, "GET", &concrete, token, None, stream);
        if stream {
            assert!(matches!(status, 200 | 404), "{path}: {status}");
            continue;
        }
        if op["responses"]["200"]["content"]
            .get("image/svg+xml")
            .is_some()
        {
            // A picture of a job: this job does not exist, so a refusal naming it.
            assert_eq!(status, 404, "{path}: {answer}");
            assert!(
                answer["message"].as_str().unwrap_or("").contains("job"),
                "{path} is documented but not served: {answer}"
            );
            continue;
        }
        let schema = op["responses"]["200"]["content"]["application/json"]["schema"]["$ref"]
            .as_str()
            .expect("a $ref")
            .rsplit('/')
            .next()
            .expect("a name")
            .to_owned();
        if status == 404 {
            assert!(validator("ApiError").is_valid(&answer), "{path}: {answer}");
            assert!(
                !answer["message"]
                    .as_str()
                    .unwrap_or("")
                    .contains("no such route"),
                "{path} is documented but not served"
            );
            continue;
        }
        assert_eq!(status, 200, "{path}: {answer}");
        let v = validator(&schema);
        let errors: Vec<String> = v.iter_errors(&answer).map(|e| e.to_string()).collect();
        assert!(
            errors.is_empty(),
            "{path} against {schema}: {errors:?}\n{answer}"
        );
        checked.push(path.clone());
    }
    checked.sort();
    assert_eq!(
        checked,
        [
            "/openapi.json",
            "/v1/deployments",
            "/v1/deployments/{name}",
            "/v1/devices",
            "/v1/fleets",
            "/v1/health",
            "/v1/jobs",
            "/v1/packages",
            "/v1/server"
        ],
        "answers checked against their schemas"
    );
    let out = server.cli(&["delete", "-f", "-"]);
    // No stdin document: refused, exit 1, nothing deleted.
    assert_eq!(out.status.code(), Some(1), "{}", explain(&out));
    assert!(stdout(&out).is_empty());
}
