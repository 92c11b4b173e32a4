//! `POST /api/visits`: a batch of visits from the field, counted once.
//!
//! - **Who**: a bearer token with the uploader (or admin) role; an uploader limited to some
//!   wards may send only visits of teams homed in them (403 otherwise, naming the teams).
//! - **What**: CSV (`text/csv`), JSON (`application/json`, an array of records) or the first
//!   sheet of an XLSX workbook (read with calamine), at most
//!   [`MAX_UPLOAD_BYTES`] (413 beyond) and [`MAX_UPLOAD_ROWS`] rows; other types get 415.
//!   Rows are checked exactly as file ingest checks them.
//! - **Once**: an `Idempotency-Key` header is required. The same key with the same content
//!   gives back the first receipt (`already_received: true`) and changes nothing; the same key
//!   with other content is refused (409). Visits already stored count as duplicates; a stored
//!   visit id with other content is a rejected row (conflict).
//! - **Durable**: the receipt is sent after the batch's transaction has committed
//!   (`synchronous=FULL`). The figures follow once the next snapshot is built.

use std::path::Path;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};

use super::error::ApiError;
use super::live::Live;
use crate::ingest::table::Table;
use crate::store::import::{Stored, Upload};

/// The content type of an XLSX workbook.
pub const XLSX: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

/// Largest upload body: 16 MiB.
pub const MAX_UPLOAD_BYTES: usize = 16 << 20;

/// Most rows in one upload.
pub const MAX_UPLOAD_ROWS: usize = 200_000;

/// The secret of an `Authorization: Bearer …` header.
#[must_use]
pub fn bearer(headers: &HeaderMap) -> Option<&str> {
    headers
        .get(header::AUTHORIZATION)?
        .to_str()
        .ok()?
        .strip_prefix("Bearer ")
        .map(str::trim)
        .filter(|s| !s.is_empty())
}

/// `GET /api/me`: who the bearer token is (never the secret).
///
/// # Errors
/// 401 without a valid token.
#[utoipa::path(get, path = "/api/me", tag = "write", summary = "The bearer token's id, label, role and wards",
    security(("bearer" = [])),
    responses((status = 200, body = crate::store::tokens::TokenInfo), (status = 401, body = super::schema::Error)))]
pub async fn me(
    State(live): State<Arc<Live>>,
    headers: HeaderMap,
) -> Result<axum::Json<crate::store::tokens::TokenInfo>, ApiError> {
    let secret = bearer(&headers)
        .ok_or_else(|| ApiError::Unauthorized("no token: Authorization: Bearer <token>".into()))?;
    live.token(secret)
        .map(axum::Json)
        .ok_or_else(|| ApiError::Unauthorized("unknown or revoked token".into()))
}

/// The handler.
///
/// # Errors
/// 401/403 for the token, 400 for a missing key or a body that cannot be read, 409 for a key
/// reused with other content, 415 for another content type, 503 without a store.
#[utoipa::path(post, path = "/api/visits", tag = "write", summary = "A batch of visits for an uploader token, counted once per Idempotency-Key",
    security(("bearer" = [])),
    params(("Idempotency-Key" = String, Header, min_length = 1, max_length = 200, description = "the same key and content: the first receipt again; another content: 409")),
    request_body(description = "CSV, a JSON array of records, or the first sheet of an XLSX workbook", content(
        (String = "text/csv"),
        (Vec<Object> = "application/json"),
        (Vec<u8> = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"))),
    responses((status = 200, body = crate::store::import::Receipt), (status = 400, body = super::schema::Error),
        (status = 401, body = super::schema::Error), (status = 403, body = super::schema::Error), (status = 409, body = super::schema::Error),
        (status = 415, body = super::schema::Error)))]
pub async fn visits(
    State(live): State<Arc<Live>>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    if live.store().is_none() {
        return Err(ApiError::Unavailable(
            "this server has no store (started with --no-store): uploads are off".into(),
        ));
    }
    let token = match bearer(&headers) {
        None => {
            return Err(ApiError::Unauthorized(
                "uploads need a token: Authorization: Bearer <token> (phuso token create --role uploader)".into(),
            ));
        }
        Some(secret) => live
            .token(secret)
            .ok_or_else(|| ApiError::Unauthorized("unknown or revoked token".into()))?,
    };
    if !token.role.may_upload() {
        return Err(ApiError::Forbidden(format!(
            "token {} ({}) has the role {}; uploads need uploader or admin",
            token.id,
            token.label,
            token.role.as_str()
        )));
    }
    let key = headers
        .get("idempotency-key")
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
        .unwrap_or_default()
        .to_owned();
    if key.is_empty() || key.len() > 200 {
        return Err(ApiError::BadRequest(
            "header `Idempotency-Key`: missing or longer than 200 characters; send one key per batch (e.g. a UUID) so that a re-sent batch counts once".into(),
        ));
    }
    let table = read_body(&headers, &body, "POST /api/visits", "one row per visit")?;
    if table.height() > MAX_UPLOAD_ROWS {
        return Err(ApiError::BadRequest(format!(
            "{} rows: at most {MAX_UPLOAD_ROWS} per batch; split the file",
            table.height()
        )));
    }
    // Scope: every team of the batch must be homed in one of the token's wards.
    if !token.wards.is_empty() {
        let teams = table
            .text("team_id", "the id of the visiting team")
            .map_err(|e| ApiError::BadRequest(e.to_string()))?;
        check_scope(
            &live,
            &token,
            teams.iter().flatten().map(String::as_str),
            "upload for",
        )?;
    }
    let sha = crate::store::sha256_hex(&body);
    let live2 = Arc::clone(&live);
    let token_id = token.id;
    let stored = tokio::task::spawn_blocking(move || {
        let store = live2.store().expect("checked above");
        let mut store = store
            .lock()
            .map_err(|e| ApiError::Internal(e.to_string()))?;
        let (index, team_rows, extent, campaign) = store
            .visit_context()
            .map_err(|e| ApiError::Internal(e.to_string()))?;
        let (mut v, mut report) = crate::ingest::visits::read_visits_table(&table, &index, extent)
            .map_err(|e| ApiError::BadRequest(e.to_string()))?;
        crate::engine::drop_outside_window(&mut v, &mut report, &campaign);
        let upload = Upload {
            source: "POST /api/visits".into(),
            sha256: sha,
            key: Some(&key),
            token: Some(token_id),
        };
        let stored = store
            .store_visits(&v, &report, &team_rows, &upload, &|_| {})
            .map_err(|e| ApiError::Internal(e.to_string()))?;
        // Still under the store's lock: batches reach the applier in commit order.
        if let Stored::New(r, added) = &stored {
            v.retain(added);
            live2.batch_committed(r.batch, v);
        }
        Ok(stored)
    })
    .await
    .map_err(|e| ApiError::Internal(e.to_string()))??;
    match stored {
        Stored::New(r, _) | Stored::AlreadyReceived(r) => {
            Ok((StatusCode::OK, axum::Json(r)).into_response())
        }
        Stored::KeyReused { batch } => Err(ApiError::Conflict(format!(
            "Idempotency-Key already used by batch {batch} with other content; nothing was stored (use a new key for a new batch)"
        ))),
    }
}

/// A request body as a table: CSV (`text/csv`), JSON records (`application/json`) or the first
/// sheet of an XLSX workbook; `label` names it in messages.
///
/// # Errors
/// 415 for another content type, 400 for a body that cannot be read.
pub(super) fn read_body(
    headers: &HeaderMap,
    body: &[u8],
    label: &str,
    expected: &str,
) -> Result<Table, ApiError> {
    let kind = super::guard::media_type(headers);
    let label = Path::new(label);
    match kind.as_str() {
        "text/csv" => Table::from_csv(label, body, expected),
        "application/json" => Table::from_json_records(label, body, expected),
        XLSX => Table::from_xlsx(label, body, expected),
        other => {
            return Err(ApiError::UnsupportedMediaType(format!(
                "Content-Type {:?}: expected text/csv, application/json (an array of records) or {XLSX}",
                if other.is_empty() { "(none)" } else { other }
            )));
        }
    }
    .map_err(|e| ApiError::BadRequest(e.to_string()))
}

/// 403 naming the teams among `teams` homed outside the wards of `token` (what the token may
/// do there is `may`, e.g. "upload for"); fine when the token has no ward limit. Unknown teams
/// are left to the row checks.
pub(super) fn check_scope<'a>(
    live: &Live,
    token: &crate::store::tokens::TokenInfo,
    teams: impl Iterator<Item = &'a str>,
    may: &str,
) -> Result<(), ApiError> {
    if token.wards.is_empty() {
        return Ok(());
    }
    let snap = live.current();
    let e = snap.engine();
    // Team id → its ward, once per request.
    let ward_of: std::collections::HashMap<&str, &str> = e
        .teams()
        .iter()
        .filter_map(|t| {
            let mut p = e.position(&t.area_code.0)?;
            while e.areas()[p].level > crate::Level::Ward {
                p = e.areas()[p].parent?;
            }
            Some((t.team_id.as_str(), e.areas()[p].code.0.as_str()))
        })
        .collect();
    let mut outside: Vec<String> = teams
        .filter(|t| {
            ward_of
                .get(t)
                .is_some_and(|w| !token.wards.iter().any(|x| x == w))
        })
        .map(str::to_owned)
        .collect();
    outside.sort();
    outside.dedup();
    if outside.is_empty() {
        return Ok(());
    }
    Err(ApiError::Forbidden(format!(
        "token {} may {may} wards {}; teams {} are homed elsewhere (nothing was stored)",
        token.id,
        token.wards.join(", "),
        outside
            .iter()
            .take(10)
            .cloned()
            .collect::<Vec<_>>()
            .join(", ")
    )))
}
