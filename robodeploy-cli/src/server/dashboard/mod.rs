//! The fleet dashboard, `GET /`: one page (HTML, CSS and hand-written JavaScript compiled into
//! the binary) with a fleet, a deployment and a job view, fed by a snapshot of the engine's
//! state and then by its event stream.
//!
//! Reading needs no token: the page, its snapshot (`/dashboard/api/snapshot`), its event stream
//! (`/dashboard/api/events`), a job's waves (`/dashboard/api/jobs/{id}/waves`) and its timeline
//! picture (`/dashboard/api/jobs/{id}/timeline.svg`) are open to whoever reaches the server
//! (loopback by default; TLS elsewhere). Everything that changes something — cancel, resume,
//! roll back, deprovision — and the logs go through the `/v1` API with the bearer token, which
//! the page asks for and keeps in the tab's `sessionStorage`.

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::Router;
use axum::extract::{Path, State};
use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use robodeploy_core::engine::{DeploymentStatus, JobReport};
use robodeploy_core::model::{Device, Fleet};
use robodeploy_core::time::Time;
use serde::Serialize;

use super::error::Refusal;
use super::{Ctx, streams};
use crate::timeline::svg;

const INDEX: &str = include_str!("index.html");
const APP_JS: &str = include_str!("app.js");
const APP_CSS: &str = include_str!("app.css");

/// The dashboard's routes, none of which needs the token.
pub(crate) fn routes() -> Router<Arc<Ctx>> {
    Router::new()
        .route(
            "/",
            get(|| async { asset("text/html; charset=utf-8", INDEX) }),
        )
        .route(
            "/dashboard/app.js",
            get(|| async { asset("text/javascript; charset=utf-8", APP_JS) }),
        )
        .route(
            "/dashboard/app.css",
            get(|| async { asset("text/css; charset=utf-8", APP_CSS) }),
        )
        .route("/dashboard/api/snapshot", get(snapshot))
        .route("/dashboard/api/events", get(events))
        .route("/dashboard/api/jobs/{id}/waves", get(job_waves))
        .route("/dashboard/api/jobs/{id}/timeline.svg", get(timeline))
}

fn asset(kind: &'static str, body: &'static str) -> Response {
    ([(CONTENT_TYPE, kind), (CACHE_CONTROL, "no-cache")], body).into_response()
}

/// An error code's texts from the seed.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct CodeText {
    description: &'static str,
    recommended_action: &'static str,
}

/// Everything the page shows, at one instant.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Snapshot {
    devices: Vec<Device>,
    fleets: Vec<FleetSummary>,
    deployments: Vec<DeploymentStatus>,
    jobs: Vec<JobReport>,
    /// The description and recommended action of every `DEP_E` code in `deployments`.
    codes: BTreeMap<String, CodeText>,
}

/// A fleet without its robots (the devices carry those): name, labels, member names.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct FleetSummary {
    name: String,
    labels: BTreeMap<String, String>,
    robots: Vec<String>,
}

impl From<Fleet> for FleetSummary {
    fn from(f: Fleet) -> FleetSummary {
        FleetSummary {
            name: f.name,
            labels: f.labels,
            robots: f.robots.into_iter().map(|r| r.name).collect(),
        }
    }
}

async fn snapshot(State(ctx): State<Arc<Ctx>>) -> Result<Response, Refusal> {
    let mut devices = ctx.engine.devices().await?;
    devices.sort_by(|a, b| a.name.cmp(&b.name));
    let fleets = ctx.engine.fleets().await?;
    let mut deployments = ctx.engine.deployments().await?;
    deployments.sort_by(|a, b| a.name.cmp(&b.name));
    let mut jobs = ctx.engine.jobs().await?;
    jobs.sort_by_key(|j| j.created_at);
    let codes = code_texts(&deployments);
    let body = Snapshot {
        devices,
        fleets: fleets.into_iter().map(FleetSummary::from).collect(),
        deployments,
        jobs,
        codes,
    };
    Ok(axum::Json(body).into_response())
}

/// The seed's texts of each error code the deployments show.
fn code_texts(deployments: &[DeploymentStatus]) -> BTreeMap<String, CodeText> {
    deployments
        .iter()
        .flat_map(|d| d.errors.iter().map(|e| e.code))
        .map(|code| {
            (
                code.to_string(),
                CodeText {
                    description: code.description(),
                    recommended_action: code.recommended_action(),
                },
            )
        })
        .collect()
}

async fn events(State(ctx): State<Arc<Ctx>>) -> Response {
    streams::events(ctx)
}

/// What of a job's report its robots' events do not carry: its status, waves and rollback.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct JobWaves {
    status: robodeploy_core::model::JobStatus,
    waves: Vec<robodeploy_core::engine::JobWave>,
    #[serde(skip_serializing_if = "Option::is_none")]
    rollback: Option<robodeploy_core::engine::JobRollback>,
}

/// A job's waves (their states and soak times), refreshed by the job view as its robots move,
/// without the robots (which the event stream carries one by one).
async fn job_waves(
    State(ctx): State<Arc<Ctx>>,
    Path(id): Path<String>,
) -> Result<Response, Refusal> {
    let id = super::routes::job_id(&id)?;
    let report = ctx.engine.job(id).await?;
    Ok(axum::Json(JobWaves {
        status: report.status,
        waves: report.waves,
        rollback: report.rollback,
    })
    .into_response())
}

async fn timeline(
    State(ctx): State<Arc<Ctx>>,
    Path(id): Path<String>,
) -> Result<Response, Refusal> {
    timeline_svg(&ctx, &id).await
}

/// `GET /v1/jobs/{id}/timeline.svg` (behind the token) and the dashboard's copy: the job's
/// timeline as the server recorded it, drawn now.
pub(crate) async fn timeline_svg(ctx: &Ctx, id: &str) -> Result<Response, Refusal> {
    let id = super::routes::job_id(id)?;
    let report = ctx.engine.job(id).await?;
    let chart = ctx.timeline.chart(&report, Time::now());
    Ok((
        [(CONTENT_TYPE, "image/svg+xml"), (CACHE_CONTROL, "no-cache")],
        svg(&chart),
    )
        .into_response())
}
