//! The API's routes and their handlers. Every handler answers JSON, or JSON lines for streams;
//! every refusal is an [`ApiError`](crate::api::ApiError) body with a 4xx status naming the
//! field at fault (5xx only when the server itself failed).

use std::sync::Arc;
use std::time::Duration;

use axum::extract::rejection::QueryRejection;
use axum::extract::{DefaultBodyLimit, FromRequest, Path, Query, Request, State};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post};
use axum::{Json, Router, middleware};
use robodeploy_core::engine::{DeploymentStatus, EngineError, JobReport, Until};
use robodeploy_core::model::{DeploymentId, JobId};
use serde::de::DeserializeOwned;

use super::error::Refusal;
use super::{Ctx, apply, auth, dashboard, logs, streams};
use crate::api::{API_VERSION, ApplyRequest, ErrorKind, ExecRequest, LogQuery, ServerInfo};
use crate::openapi;

/// The largest request body: a manifest of a 100,000-robot fleet fits.
const BODY_LIMIT: usize = 64 * 1024 * 1024;

/// How long `DELETE /v1/deployments/{name}` waits for the executables to stop.
const STOP_WAIT: Duration = Duration::from_secs(60);

/// Every route, the token required on all but the health check and the API document.
pub(crate) fn router(ctx: Arc<Ctx>) -> Router {
    let api = Router::new()
        .route("/v1/server", get(server_info))
        .route("/v1/apply", post(apply_manifest))
        .route("/v1/delete", post(delete_manifest))
        .route("/v1/deployments", get(list_deployments))
        .route(
            "/v1/deployments/{name}",
            get(get_deployment).delete(deprovision),
        )
        .route("/v1/deployments/{name}/logs", get(deployment_logs))
        .route("/v1/deployments/{name}/exec", post(exec))
        .route("/v1/jobs", get(list_jobs))
        .route("/v1/jobs/{id}", get(get_job))
        .route("/v1/jobs/{id}/cancel", post(cancel_job))
        .route("/v1/jobs/{id}/resume", post(resume_job))
        .route("/v1/jobs/{id}/rollback", post(rollback_job))
        .route("/v1/jobs/{id}/logs", get(job_logs))
        .route("/v1/jobs/{id}/timeline.svg", get(job_timeline))
        .route("/v1/devices", get(list_devices))
        .route("/v1/devices/{name}", delete(remove_device))
        .route("/v1/fleets", get(list_fleets))
        .route("/v1/packages", get(list_packages))
        .route("/v1/events", get(events))
        .route_layer(middleware::from_fn_with_state(
            Arc::clone(&ctx),
            auth::require_token,
        ));
    Router::new()
        .route("/v1/health", get(health))
        .route("/openapi.json", get(openapi_document))
        .merge(dashboard::routes())
        .merge(api)
        .fallback(unknown_route)
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .with_state(ctx)
}

/// A JSON body read with the field path of the first error (`command[2]: invalid type …`).
pub(crate) struct Body<T>(pub(crate) T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for Body<T> {
    type Rejection = Refusal;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let bytes = axum::body::Bytes::from_request(req, state)
            .await
            .map_err(|e| Refusal::invalid("body", e.body_text()))?;
        decode_body(&bytes).map(Body)
    }
}

/// A JSON request body decoded, or refused naming the field path of the first error.
pub(crate) fn decode_body<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, Refusal> {
    let de = &mut serde_json::Deserializer::from_slice(bytes);
    serde_path_to_error::deserialize(de).map_err(|e| {
        let path = e.path().to_string();
        // The body itself (a syntax error where no path is known, or a key with no name:
        // `{"": 1}`) is "body".
        let field = if path == "." || path == "?" || path.is_empty() {
            "body".to_owned()
        } else {
            path
        };
        Refusal::invalid(field.clone(), format!("{field}: {}", e.inner()))
    })
}

fn query<T>(q: Result<Query<T>, QueryRejection>) -> Result<T, Refusal> {
    q.map(|Query(v)| v)
        .map_err(|e| Refusal::invalid("query", e.body_text()))
}

pub(crate) fn job_id(text: &str) -> Result<JobId, Refusal> {
    text.parse()
        .map_err(|_| Refusal::invalid("id", format!("{text:?} is not a job id (a UUID)")))
}

/// The deployment `name` means: a live deployment's name, or a deployment's id (also of one
/// that ended).
async fn resolve(ctx: &Ctx, name: &str) -> Result<DeploymentStatus, Refusal> {
    match ctx.engine.find_deployment(name).await {
        Ok(id) => return Ok(ctx.engine.status(id).await?),
        Err(EngineError::NoSuchDeployment(_)) => {}
        Err(e) => return Err(e.into()),
    }
    if let Ok(id) = name.parse::<DeploymentId>() {
        match ctx.engine.status(id).await {
            Ok(status) => return Ok(status),
            Err(EngineError::NoSuchDeployment(_)) => {}
            Err(e) => return Err(e.into()),
        }
    }
    Err(Refusal::not_found(format!(
        "no deployment named {name:?} (and no deployment with that id)"
    )))
}

async fn health() -> Json<serde_json::Value> {
    Json(serde_json::json!({ "status": "ok", "version": env!("CARGO_PKG_VERSION") }))
}

async fn openapi_document() -> Json<serde_json::Value> {
    Json(openapi::document())
}

async fn unknown_route() -> Refusal {
    Refusal::not_found(format!(
        "no such route (the API is under /{API_VERSION}/; its document is /openapi.json)"
    ))
}

async fn server_info(State(ctx): State<Arc<Ctx>>) -> Json<ServerInfo> {
    Json(ServerInfo {
        version: env!("CARGO_PKG_VERSION").to_owned(),
        api: API_VERSION.to_owned(),
        state_dir: ctx.state.root().display().to_string(),
        remote: ctx.runtimes.has_remote(),
    })
}

async fn apply_manifest(
    State(ctx): State<Arc<Ctx>>,
    Body(request): Body<ApplyRequest>,
) -> Result<Response, Refusal> {
    Ok(Json(apply::apply(&ctx, request).await?).into_response())
}

async fn delete_manifest(
    State(ctx): State<Arc<Ctx>>,
    Body(request): Body<ApplyRequest>,
) -> Result<Response, Refusal> {
    Ok(Json(apply::delete(&ctx, request).await?).into_response())
}

async fn list_deployments(
    State(ctx): State<Arc<Ctx>>,
) -> Result<Json<Vec<DeploymentStatus>>, Refusal> {
    let mut all = ctx.engine.deployments().await?;
    all.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(Json(all))
}

async fn get_deployment(
    State(ctx): State<Arc<Ctx>>,
    Path(name): Path<String>,
) -> Result<Json<DeploymentStatus>, Refusal> {
    Ok(Json(resolve(&ctx, &name).await?))
}

async fn deprovision(
    State(ctx): State<Arc<Ctx>>,
    Path(name): Path<String>,
) -> Result<Json<DeploymentStatus>, Refusal> {
    let status = resolve(&ctx, &name).await?;
    if status.phase.is_terminal() {
        return Err(Refusal::new(
            ErrorKind::Conflict,
            format!(
                "deployment {} ({}) has ended already",
                status.name, status.id
            ),
        ));
    }
    ctx.engine.deprovision(status.id).await?;
    match ctx
        .engine
        .wait_for(status.id, Until::Stopped, STOP_WAIT)
        .await
    {
        Ok(s) => Ok(Json(s)),
        Err(EngineError::Timeout(_)) => Ok(Json(ctx.engine.status(status.id).await?)),
        Err(e) => Err(e.into()),
    }
}

async fn deployment_logs(
    State(ctx): State<Arc<Ctx>>,
    Path(name): Path<String>,
    q: Result<Query<LogQuery>, QueryRejection>,
) -> Result<Response, Refusal> {
    let q = query(q)?;
    let status = resolve(&ctx, &name).await?;
    logs::stream(ctx, vec![status], q)
}

async fn exec(
    State(ctx): State<Arc<Ctx>>,
    Path(name): Path<String>,
    Body(request): Body<ExecRequest>,
) -> Result<Response, Refusal> {
    if request.command.is_empty() {
        return Err(Refusal::invalid("command", "command: must not be empty"));
    }
    let status = resolve(&ctx, &name).await?;
    let out = ctx
        .engine
        .exec(
            status.id,
            &request.component,
            &request.executable,
            &request.command,
        )
        .await?;
    Ok(Json(out).into_response())
}

async fn list_jobs(State(ctx): State<Arc<Ctx>>) -> Result<Json<Vec<JobReport>>, Refusal> {
    let mut all = ctx.engine.jobs().await?;
    all.sort_by_key(|j| j.created_at);
    Ok(Json(all))
}

async fn get_job(
    State(ctx): State<Arc<Ctx>>,
    Path(id): Path<String>,
) -> Result<Json<JobReport>, Refusal> {
    Ok(Json(ctx.engine.job(job_id(&id)?).await?))
}

async fn cancel_job(
    State(ctx): State<Arc<Ctx>>,
    Path(id): Path<String>,
) -> Result<Json<JobReport>, Refusal> {
    let id = job_id(&id)?;
    ctx.engine.cancel_job(id).await?;
    Ok(Json(ctx.engine.job(id).await?))
}

async fn rollback_job(
    State(ctx): State<Arc<Ctx>>,
    Path(id): Path<String>,
) -> Result<Json<JobReport>, Refusal> {
    let id = job_id(&id)?;
    ctx.engine.rollback_job(id).await?;
    Ok(Json(ctx.engine.job(id).await?))
}

async fn resume_job(
    State(ctx): State<Arc<Ctx>>,
    Path(id): Path<String>,
) -> Result<Json<JobReport>, Refusal> {
    let id = job_id(&id)?;
    ctx.engine.resume_job(id).await?;
    Ok(Json(ctx.engine.job(id).await?))
}

async fn job_logs(
    State(ctx): State<Arc<Ctx>>,
    Path(id): Path<String>,
    q: Result<Query<LogQuery>, QueryRejection>,
) -> Result<Response, Refusal> {
    let q = query(q)?;
    let id = job_id(&id)?;
    let report = ctx.engine.job(id).await?;
    let mut ids: Vec<DeploymentId> = report.robots.iter().filter_map(|r| r.deployment).collect();
    ids.extend(
        ctx.engine
            .deployments()
            .await?
            .iter()
            .filter(|d| d.job == Some(id))
            .map(|d| d.id),
    );
    ids.sort();
    ids.dedup();
    let mut statuses = Vec::with_capacity(ids.len());
    for d in ids {
        statuses.push(ctx.engine.status(d).await?);
    }
    statuses.sort_by(|a, b| a.name.cmp(&b.name));
    logs::stream(ctx, statuses, q)
}

async fn job_timeline(
    State(ctx): State<Arc<Ctx>>,
    Path(id): Path<String>,
) -> Result<Response, Refusal> {
    dashboard::timeline_svg(&ctx, &id).await
}

async fn list_devices(
    State(ctx): State<Arc<Ctx>>,
) -> Result<Json<Vec<robodeploy_core::model::Device>>, Refusal> {
    let mut all = ctx.engine.devices().await?;
    all.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(Json(all))
}

async fn remove_device(
    State(ctx): State<Arc<Ctx>>,
    Path(name): Path<String>,
) -> Result<Json<serde_json::Value>, Refusal> {
    ctx.engine.remove_device(&name).await?;
    Ok(Json(serde_json::json!({ "removed": name })))
}

async fn list_fleets(
    State(ctx): State<Arc<Ctx>>,
) -> Result<Json<Vec<robodeploy_core::model::Fleet>>, Refusal> {
    Ok(Json(ctx.engine.fleets().await?))
}

async fn list_packages(
    State(ctx): State<Arc<Ctx>>,
) -> Result<Json<Vec<robodeploy_core::model::Package>>, Refusal> {
    let mut all = ctx.engine.packages().await?;
    all.sort_by(|a, b| (&a.name, &a.version).cmp(&(&b.name, &b.version)));
    Ok(Json(all))
}

async fn events(State(ctx): State<Arc<Ctx>>) -> Response {
    streams::events(ctx)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every route of the API this file serves is in the OpenAPI document with each of its
    /// methods, and the document describes no route that is not served: the route table
    /// below is read from this file's text, so a route added without its description fails.
    #[test]
    fn the_openapi_document_describes_exactly_the_routes_served() {
        let text = include_str!("routes.rs");
        let table = &text[..text.find("mod tests").expect("tests")];
        let mut served = std::collections::BTreeSet::new();
        for chunk in table.split(".route(").skip(1) {
            let path = chunk.split('"').nth(1).expect("a path");
            let handlers = &chunk[..chunk.find(")\n").unwrap_or(chunk.len())];
            for method in ["get", "post", "delete", "put", "patch"] {
                if handlers.contains(&format!("{method}("))
                    || handlers.contains(&format!(".{method}("))
                {
                    served.insert((method.to_owned(), path.to_owned()));
                }
            }
        }
        assert!(served.len() > 20, "{served:?}");
        let doc = crate::openapi::document();
        let mut described = std::collections::BTreeSet::new();
        for (path, item) in doc["paths"].as_object().expect("paths") {
            for method in item.as_object().expect("operations").keys() {
                described.insert((method.clone(), path.clone()));
            }
        }
        assert_eq!(served, described);
    }

    /// Found by the `http_body` fuzz target: an unknown key with no name was refused naming
    /// the field "" (nothing).
    #[test]
    fn a_refusal_at_the_root_of_a_body_names_the_body() {
        for body in [&br#"{"": 1}"#[..], b"{", b"[]", b""] {
            let Err(Refusal(e)) = decode_body::<ApplyRequest>(body) else {
                panic!("{body:?} was accepted");
            };
            assert_eq!(e.field.as_deref(), Some("body"), "{e:?}");
            assert!(e.message.starts_with("body: "), "{e:?}");
        }
        let Err(Refusal(e)) = decode_body::<ApplyRequest>(br#"{"manifest": 7}"#) else {
            panic!("accepted");
        };
        assert_eq!(e.field.as_deref(), Some("manifest"), "{e:?}");
    }
}
