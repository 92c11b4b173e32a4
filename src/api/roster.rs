//! Roster changes over HTTP: `PUT /api/teams/{team_id}` (one team: `{"members": 24,
//! "effective_from": "2025-11-10"}`) and `POST /api/roster` (many: CSV, JSON records or XLSX
//! with `team_id`, `effective_from`, `members`). Planners and admins may change any team; an
//! uploader only the teams of its wards (403 otherwise, naming them). Checked as
//! `phuso import roster-changes` checks a file; stored as one batch with a receipt; the figures
//! are then reloaded from the store (the pace counts the members of each day).

use std::path::Path;
use std::sync::Arc;

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path as UrlPath, State};
use axum::http::HeaderMap;

use super::decisions::require;
use super::error::ApiError;
use super::live::Live;
use super::upload::{MAX_UPLOAD_ROWS, check_scope, read_body};
use crate::ingest::table::Table;
use crate::ingest::teams::parse_roster_changes;
use crate::model::RosterChange;
use crate::store::import::Receipt;
use crate::store::tokens::{Role, TokenInfo};

fn may_edit_roster(role: Role) -> bool {
    matches!(role, Role::Uploader | Role::Planner | Role::Admin)
}

/// A team's members from a day on.
#[derive(serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
struct Edit {
    members: u32,
    effective_from: chrono::NaiveDate,
}

/// `PUT /api/teams/{team_id}`.
///
/// # Errors
/// 401/403 for the token or its scope, 400 for a bad body, 404 for an unknown team, 503
/// without a store.
#[utoipa::path(put, path = "/api/teams/{team_id}", tag = "write", summary = "Change a team's members from a day on (planner, admin, or an uploader of the team's ward)",
    security(("bearer" = [])),
    params(("team_id" = String, Path)),
    request_body(content = Edit, content_type = "application/json"),
    responses((status = 200, body = crate::store::import::Receipt), (status = 400, body = super::schema::Error),
        (status = 401, body = super::schema::Error), (status = 403, body = super::schema::Error), (status = 404, body = super::schema::Error),
        (status = 415, body = super::schema::Error)))]
pub async fn put_team(
    State(live): State<Arc<Live>>,
    UrlPath(team_id): UrlPath<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<Receipt>, ApiError> {
    let token = require(&live, &headers, "changing a roster", may_edit_roster)?;
    let edit: Edit = serde_json::from_slice(&body).map_err(|e| {
        ApiError::BadRequest(format!(
            "body: {e}; expected {{\"members\": a whole number ≥ 0, \"effective_from\": \"YYYY-MM-DD\"}}"
        ))
    })?;
    let csv = format!(
        "team_id,effective_from,members\n{team_id},{},{}\n",
        edit.effective_from, edit.members
    );
    let label = format!("PUT /api/teams/{team_id}");
    let table = Table::from_csv(Path::new(&label), csv.as_bytes(), "one change")
        .map_err(|e| ApiError::BadRequest(e.to_string()))?;
    store(&live, &token, &table, &label, &body, true)
        .await
        .map(Json)
}

/// `POST /api/roster`.
///
/// # Errors
/// As [`put_team`]; 415 for another content type.
#[utoipa::path(post, path = "/api/roster", tag = "write", summary = "Roster changes (team_id, effective_from, members) as one batch",
    security(("bearer" = [])),
    request_body(description = "CSV, a JSON array of records, or the first sheet of an XLSX workbook", content(
        (String = "text/csv"),
        (Vec<Object> = "application/json"),
        (Vec<u8> = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"))),
    responses((status = 200, body = crate::store::import::Receipt), (status = 400, body = super::schema::Error),
        (status = 401, body = super::schema::Error), (status = 403, body = super::schema::Error), (status = 415, body = super::schema::Error)))]
pub async fn post_roster(
    State(live): State<Arc<Live>>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<Receipt>, ApiError> {
    let token = require(&live, &headers, "changing a roster", may_edit_roster)?;
    let table = read_body(
        &headers,
        &body,
        "POST /api/roster",
        "one row per change of a team's members",
    )?;
    if table.height() > MAX_UPLOAD_ROWS {
        return Err(ApiError::BadRequest(format!(
            "{} rows: at most {MAX_UPLOAD_ROWS} per batch; split the file",
            table.height()
        )));
    }
    store(&live, &token, &table, "POST /api/roster", &body, false)
        .await
        .map(Json)
}

/// Checks scope and rows, stores the changes, asks for the figures to be reloaded.
async fn store(
    live: &Arc<Live>,
    token: &TokenInfo,
    table: &Table,
    label: &str,
    body: &[u8],
    one_team: bool,
) -> Result<Receipt, ApiError> {
    let Some(store) = live.store() else {
        return Err(ApiError::Unavailable(
            "this server has no store (started with --no-store): roster changes are off".into(),
        ));
    };
    let (ids, last_day) = store
        .lock()
        .map_err(|e| ApiError::Internal(e.to_string()))?
        .roster_context()
        .map_err(|e| ApiError::Internal(e.to_string()))?;
    let teams = table
        .text("team_id", "the id of a team of the roster")
        .map_err(|e| ApiError::BadRequest(e.to_string()))?;
    if one_team
        && let Some(Some(id)) = teams.first()
        && !ids.contains(id)
    {
        return Err(ApiError::NotFound(format!("no team with id {id:?}")));
    }
    if token.role == Role::Uploader {
        check_scope(
            live,
            token,
            teams.iter().flatten().map(String::as_str),
            "change the teams of",
        )?;
    }
    let changes: Vec<(String, RosterChange)> =
        parse_roster_changes(table, Path::new(label), &ids, last_day)
            .map_err(|e| ApiError::BadRequest(e.to_string()))?;
    let sha = crate::store::sha256_hex(body);
    let (live2, label, token_id) = (Arc::clone(live), label.to_owned(), token.id);
    let receipt = tokio::task::spawn_blocking(move || {
        let store = live2.store().expect("checked above");
        let mut store = store
            .lock()
            .map_err(|e| ApiError::Internal(e.to_string()))?;
        store
            .store_roster_changes(&changes, &label, &sha, Some(token_id))
            .map_err(|e| ApiError::Internal(e.to_string()))
    })
    .await
    .map_err(|e| ApiError::Internal(e.to_string()))??;
    if receipt.rows_accepted > 0 {
        live.request_reload();
    }
    Ok(receipt)
}
