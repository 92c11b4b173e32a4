//! Excel reports for the committee: `GET /api/export/priorities.xlsx`, `audit.xlsx`,
//! `plan.xlsx` (and a saved plan as `GET /api/plans/{id}?format=xlsx`), written by
//! [`crate::output::xlsx`] from the same JSON the API serves (so the same small-count rule).

use std::collections::HashMap;
use std::sync::Arc;

use axum::extract::{Query, State};
use axum::http::{HeaderMap, header};
use axum::response::{IntoResponse, Response};
use serde_json::Value;

use super::error::ApiError;
use super::{AppState, Snap, live, params};
use crate::model::Level;
use crate::output::xlsx::{
    AUDIT_COLUMNS, AUDIT_TITLE, Heading, PLAN_TITLE, PRIORITIES_TITLE, PRIORITY_COLUMNS,
    heading_for, levels_workbook, plan_workbook,
};

/// The media type of an .xlsx workbook.
pub const XLSX: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

/// The title block for report `title` over snapshot `s`.
#[must_use]
pub fn heading(s: &AppState, title: &str) -> Heading {
    heading_for(&s.engine, title, Some(s.min_count))
}

/// A workbook as a download named `name`.
pub fn answer(bytes: Vec<u8>, name: &str) -> Response {
    (
        [
            (header::CONTENT_TYPE, XLSX.to_owned()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{name}\""),
            ),
        ],
        bytes,
    )
        .into_response()
}

fn internal(e: impl std::fmt::Display) -> ApiError {
    ApiError::Internal(e.to_string())
}

#[utoipa::path(get, path = "/api/export/priorities.xlsx", tag = "read", summary = "The ranked areas as an Excel workbook: one sheet per level, Vietnamese headers, title with province, data date and deadline (withheld figures empty)",
    responses((status = 200, body = Vec<u8>, content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"), (status = 400, body = super::schema::Error)))]
pub(super) async fn priorities(
    Snap(s): Snap,
    Query(q): Query<HashMap<String, String>>,
) -> Result<Response, ApiError> {
    params::only(&q, &[])?;
    let snap = Arc::clone(&s);
    let bytes = tokio::task::spawn_blocking(move || {
        levels_workbook(
            &heading(&snap, PRIORITIES_TITLE),
            &snap.engine,
            &PRIORITY_COLUMNS,
            |l| {
                snap.engine
                    .ranked(l)
                    .iter()
                    .map(|p| Value::Object(snap.shown(&p.figures.code, p)))
                    .collect()
            },
        )
    })
    .await
    .map_err(internal)?
    .map_err(internal)?;
    Ok(answer(bytes, "phuso-uu-tien.xlsx"))
}

#[utoipa::path(get, path = "/api/export/audit.xlsx", tag = "read", summary = "The staffing-norm audit as an Excel workbook, one sheet per level",
    responses((status = 200, body = Vec<u8>, content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"), (status = 400, body = super::schema::Error)))]
pub(super) async fn audit(
    Snap(s): Snap,
    Query(q): Query<HashMap<String, String>>,
) -> Result<Response, ApiError> {
    params::only(&q, &[])?;
    let snap = Arc::clone(&s);
    let bytes = tokio::task::spawn_blocking(move || {
        levels_workbook(
            &heading(&snap, AUDIT_TITLE),
            &snap.engine,
            &AUDIT_COLUMNS,
            |l| {
                snap.engine
                    .audit(l)
                    .iter()
                    .map(|r| serde_json::to_value(r).unwrap_or(Value::Null))
                    .collect()
            },
        )
    })
    .await
    .map_err(internal)?
    .map_err(internal)?;
    Ok(answer(bytes, "phuso-ra-soat.xlsx"))
}

#[utoipa::path(get, path = "/api/export/plan.xlsx", tag = "plan", summary = "A plan (as POST /api/plan computes it) as an Excel workbook: summary, rows, placements",
    params(
        ("volunteers" = Option<u64>, Query, maximum = 1000000, description = "new volunteers to place (or meet_deadline=true)"),
        ("meet_deadline" = Option<bool>, Query, description = "true: the fewest volunteers that finish every area by the deadline"),
        ("max_moves" = Option<u64>, Query, maximum = 10000, description = "existing members that may move (default 0)"),
        ("level" = Option<Level>, Query, description = "where to report (default neighbourhood)"),
    ),
    responses((status = 200, body = Vec<u8>, content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"), (status = 400, body = super::schema::Error)))]
pub(super) async fn plan(
    Snap(s): Snap,
    State(live): State<Arc<live::Live>>,
    Query(q): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    params::only(&q, &["volunteers", "meet_deadline", "max_moves", "level"])?;
    let level = params::level(&q, Level::Neighbourhood)?;
    let max_moves = params::number(&q, "max_moves", 0, 0..=10_000)?;
    let meet = match q.get("meet_deadline").map(String::as_str) {
        None | Some("false") => false,
        Some("true") => true,
        Some(other) => {
            return Err(ApiError::BadRequest(format!(
                "parameter `meet_deadline`: {other:?}; expected true or false"
            )));
        }
    };
    let asked = match (q.contains_key("volunteers"), meet) {
        (true, false) => {
            crate::plan::Volunteers::Count(params::number(&q, "volunteers", 0, 0..=1_000_000)?)
        }
        (false, true) => crate::plan::Volunteers::MeetDeadline,
        (true, true) => {
            return Err(ApiError::BadRequest(
                "parameters `volunteers` and `meet_deadline`: give one".into(),
            ));
        }
        (false, false) => {
            return Err(ApiError::BadRequest(
                "parameter `volunteers`: missing; give a number of new volunteers, or meet_deadline=true".into(),
            ));
        }
    };
    let engine = Arc::clone(&s.engine);
    let p =
        tokio::task::spawn_blocking(move || crate::plan::plan(&engine, level, asked, max_moves))
            .await
            .map_err(internal)?
            .map_err(|e| ApiError::BadRequest(e.to_string()))?;
    let mut v = serde_json::to_value(&p).map_err(internal)?;
    s.mask_plan(&mut v, &live, &headers);
    let snap = Arc::clone(&s);
    let bytes = tokio::task::spawn_blocking(move || plan_workbook(&heading(&snap, PLAN_TITLE), &v))
        .await
        .map_err(internal)?
        .map_err(internal)?;
    Ok(answer(bytes, "phuso-ke-hoach.xlsx"))
}
