//! The committee's saved plans (`POST /api/plans` for planners, `GET /api/plans`,
//! `GET /api/plans/{id}`, also as CSV) and the write log for admins (`GET /api/admin/log`).

use std::collections::HashMap;
use std::sync::Arc;

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::error::ApiError;
use super::live::Live;
use super::upload::bearer;
use crate::store::tokens::{Role, TokenInfo};

/// The token of the request, if it may do what `allowed` says.
pub(super) fn require(
    live: &Live,
    headers: &HeaderMap,
    what: &str,
    allowed: fn(Role) -> bool,
) -> Result<TokenInfo, ApiError> {
    let secret = bearer(headers).ok_or_else(|| {
        ApiError::Unauthorized(format!(
            "{what} needs a token: Authorization: Bearer <token>"
        ))
    })?;
    let token = live
        .token(secret)
        .ok_or_else(|| ApiError::Unauthorized("unknown or revoked token".into()))?;
    if allowed(token.role) {
        Ok(token)
    } else {
        Err(ApiError::Forbidden(format!(
            "token {} has the role {}; {what} needs another role",
            token.id,
            token.role.as_str()
        )))
    }
}

fn no_store() -> ApiError {
    ApiError::Unavailable("this server has no store (started with --no-store)".into())
}

/// `POST /api/plans`.
#[derive(serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
struct SaveRequest {
    #[schema(min_length = 1, max_length = 200)]
    name: String,
    /// The decision's date.
    #[serde(default)]
    date: Option<chrono::NaiveDate>,
    /// The plan, as `POST /api/plan` answered it.
    #[schema(value_type = Object)]
    plan: Value,
}

/// `POST /api/plans`: saves a plan with a name and the date of the decision.
///
/// # Errors
/// 401/403 without a planner or admin token, 400 for a bad body, 503 without a store.
#[utoipa::path(post, path = "/api/plans", tag = "plan", summary = "Save a plan with a name and the date of the decision (planner or admin token)",
    security(("bearer" = [])),
    request_body(content = SaveRequest, content_type = "application/json"),
    responses((status = 201, body = crate::store::plans::SavedPlan), (status = 400, body = super::schema::Error),
        (status = 401, body = super::schema::Error), (status = 403, body = super::schema::Error), (status = 415, body = super::schema::Error)))]
pub async fn save(
    State(live): State<Arc<Live>>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let token = require(&live, &headers, "saving a plan", Role::may_plan)?;
    let r: SaveRequest = serde_json::from_slice(&body)
        .map_err(|e| ApiError::BadRequest(format!("request body: {e}")))?;
    let name = r.name.trim();
    if name.is_empty() || name.chars().count() > 200 {
        return Err(ApiError::BadRequest(
            "field `name`: empty or longer than 200 characters".into(),
        ));
    }
    if !r.plan.get("rows").is_some_and(Value::is_array) {
        return Err(ApiError::BadRequest(
            "field `plan`: expected a plan as /api/plan gives it (an object with `rows`)".into(),
        ));
    }
    let date = r
        .date
        .unwrap_or_else(|| chrono::Local::now().date_naive())
        .to_string();
    let store = live.store().ok_or_else(no_store)?;
    let saved = store
        .lock()
        .map_err(|e| ApiError::Internal(e.to_string()))?
        .save_plan(name, &date, &r.plan, Some(token.id))
        .map_err(|e| ApiError::Internal(e.to_string()))?;
    Ok((StatusCode::CREATED, Json(saved)).into_response())
}

/// `GET /api/plans`: the saved plans, newest first.
///
/// # Errors
/// 503 without a store.
#[utoipa::path(get, path = "/api/plans", tag = "plan", summary = "Saved plans, newest first",
    responses((status = 200, body = super::schema::PlanList)))]
pub async fn list(State(live): State<Arc<Live>>) -> Result<Json<Value>, ApiError> {
    let store = live.store().ok_or_else(no_store)?;
    let plans = store
        .lock()
        .map_err(|e| ApiError::Internal(e.to_string()))?
        .plans()
        .map_err(|e| ApiError::Internal(e.to_string()))?;
    Ok(Json(json!({ "items": plans })))
}

/// `GET /api/plans/{id}` (`?format=csv` for its rows as CSV).
///
/// # Errors
/// 404 for an unknown id, 400 for a bad format, 503 without a store.
#[utoipa::path(get, path = "/api/plans/{id}", tag = "plan", summary = "One saved plan (JSON, its rows as CSV, or an Excel workbook)",
    params(("id" = i64, Path), ("format" = Option<String>, Query, pattern = "^(json|csv|xlsx)$")),
    responses((status = 200, content((super::schema::SavedPlanDetail = "application/json"), (String = "text/csv"), (Vec<u8> = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"))),
        (status = 400, body = super::schema::Error), (status = 404, body = super::schema::Error)))]
pub async fn one(
    super::Snap(snap): super::Snap,
    State(live): State<Arc<Live>>,
    Path(id): Path<String>,
    Query(q): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    super::params::only(&q, &["format"])?;
    let id: i64 = id
        .parse()
        .map_err(|_| ApiError::NotFound(format!("no saved plan {id:?}")))?;
    let store = live.store().ok_or_else(no_store)?;
    let found = store
        .lock()
        .map_err(|e| ApiError::Internal(e.to_string()))?
        .plan(id)
        .map_err(|e| ApiError::Internal(e.to_string()))?;
    let (saved, mut plan) =
        found.ok_or_else(|| ApiError::NotFound(format!("no saved plan {id}")))?;
    // Saved as the planner saw it; read under the rule of today's figures.
    snap.mask_plan(&mut plan, &live, &headers);
    match q.get("format").map(String::as_str) {
        None | Some("json") => Ok(Json(json!({ "saved": saved, "plan": plan })).into_response()),
        Some("csv") => {
            let rows: Vec<Value> = plan["rows"].as_array().cloned().unwrap_or_default();
            let body = crate::output::csv(&rows).map_err(|e| ApiError::Internal(e.to_string()))?;
            Ok((
                [
                    (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()),
                    (
                        header::CONTENT_DISPOSITION,
                        format!("attachment; filename=\"phuso-plan-{id}.csv\""),
                    ),
                ],
                body,
            )
                .into_response())
        }
        Some("xlsx") => {
            let bytes = crate::output::xlsx::plan_workbook(
                &super::reports::heading(&snap, crate::output::xlsx::PLAN_TITLE),
                &plan,
            )
            .map_err(|e| ApiError::Internal(e.to_string()))?;
            Ok(super::reports::answer(
                bytes,
                &format!("phuso-plan-{id}.xlsx"),
            ))
        }
        Some(other) => Err(ApiError::BadRequest(format!(
            "parameter `format`: {other:?}; expected json, csv or xlsx"
        ))),
    }
}

/// `GET /api/admin/log`: every write, oldest first, for admins.
///
/// # Errors
/// 401/403 without an admin token, 503 without a store.
#[utoipa::path(get, path = "/api/admin/log", tag = "write", summary = "Every write, oldest first (admin token)",
    security(("bearer" = [])),
    responses((status = 200, body = super::schema::Log), (status = 401, body = super::schema::Error), (status = 403, body = super::schema::Error)))]
pub async fn log(
    State(live): State<Arc<Live>>,
    headers: HeaderMap,
) -> Result<Json<Value>, ApiError> {
    require(&live, &headers, "the write log", Role::is_admin)?;
    let store = live.store().ok_or_else(no_store)?;
    let log = store
        .lock()
        .map_err(|e| ApiError::Internal(e.to_string()))?
        .log()
        .map_err(|e| ApiError::Internal(e.to_string()))?;
    Ok(Json(json!({ "items": log })))
}
