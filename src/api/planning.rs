//! The planning routes: `POST /api/plan` (where new pairs go, and moves) and `POST /api/whatif`
//! (every figure recomputed under hypothetical changes), their JSON bodies and the OpenAPI
//! shapes of those bodies.

use std::sync::Arc;

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use serde::Deserialize;
use serde_json::{Value, json};

use super::error::ApiError;
use super::{Snap, live, openapi, schema};
use crate::model::Level;

/// Parses a JSON body into `T`, with serde's message (field, line, column) in a 400.
/// A JSON object body (an array is refused, though serde would read it into a struct).
fn body<T: serde::de::DeserializeOwned>(bytes: &Bytes) -> Result<T, ApiError> {
    let first = bytes.iter().find(|b| !b.is_ascii_whitespace());
    if first != Some(&b'{') {
        return Err(ApiError::BadRequest(
            "request body: expected a JSON object {…}".into(),
        ));
    }
    serde_json::from_slice(bytes).map_err(|e| ApiError::BadRequest(format!("request body: {e}")))
}

/// A whole number ≥ 0, also when written with a zero fraction (`6305.0`), as JSON Schema's
/// `integer` allows.
fn whole<'de, D: serde::Deserializer<'de>>(d: D) -> Result<u64, D::Error> {
    let v = serde_json::Number::deserialize(d)?;
    v.as_u64()
        .or_else(|| {
            v.as_f64()
                .filter(|f| f.fract() == 0.0 && (0.0..9.0e15).contains(f))
                .map(|f| f as u64)
        })
        .ok_or_else(|| serde::de::Error::custom(format!("{v}: expected a whole number ≥ 0")))
}

fn whole_opt<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<u64>, D::Error> {
    whole(d).map(Some)
}

/// `POST /api/plan`: a number of volunteers, or `meet_deadline: true` (which takes no moves).
#[derive(utoipa::ToSchema)]
#[serde(untagged)]
#[allow(dead_code, reason = "read only by the OpenAPI derive")]
enum PlanBody {
    /// Place this many new volunteers.
    Count(PlanCount),
    /// Find the fewest that finish every area by the deadline.
    MeetDeadline(PlanMeet),
}

#[derive(utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[allow(dead_code, reason = "read only by the OpenAPI derive")]
struct PlanCount {
    #[schema(maximum = 1_000_000)]
    volunteers: u64,
    /// Existing members that may move (default 0).
    #[schema(maximum = 10_000)]
    #[serde(default)]
    max_moves: u64,
    /// Where to report (default neighbourhood).
    #[serde(default)]
    level: Level,
}

#[derive(utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
#[allow(dead_code, reason = "read only by the OpenAPI derive")]
struct PlanMeet {
    #[schema(schema_with = openapi::only_true)]
    meet_deadline: bool,
    /// Where to report (default neighbourhood).
    #[serde(default)]
    level: Level,
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct PlanRequest {
    #[serde(default, deserialize_with = "whole_opt")]
    volunteers: Option<u64>,
    #[serde(default)]
    meet_deadline: bool,
    #[serde(default, deserialize_with = "whole")]
    max_moves: u64,
    #[serde(default = "default_plan_level")]
    level: Level,
}

fn default_plan_level() -> Level {
    Level::Neighbourhood
}

#[utoipa::path(post, path = "/api/plan", tag = "plan", summary = "Place new volunteers in pairs so the latest completion is as early as possible, or find the fewest that finish every area by the deadline",
    request_body(content = PlanBody, content_type = "application/json"),
    responses((status = 200, body = crate::plan::Plan), (status = 400, body = schema::Error), (status = 415, body = schema::Error)))]
pub(super) async fn plan(
    Snap(s): Snap,
    State(live): State<Arc<live::Live>>,
    headers: axum::http::HeaderMap,
    bytes: Bytes,
) -> Result<Json<Value>, ApiError> {
    let r: PlanRequest = body(&bytes)?;
    let asked = match (r.volunteers, r.meet_deadline) {
        (Some(k), false) if k > 1_000_000 => {
            return Err(ApiError::BadRequest(format!(
                "field `volunteers`: {k}; expected at most 1000000"
            )));
        }
        (Some(k), false) => crate::plan::Volunteers::Count(k),
        (None, true) => crate::plan::Volunteers::MeetDeadline,
        (Some(_), true) => {
            return Err(ApiError::BadRequest(
                "fields `volunteers` and `meet_deadline`: give one: a number of volunteers, or meet_deadline: true for the fewest that finish every area in time".into(),
            ));
        }
        (None, false) => {
            return Err(ApiError::BadRequest(
                "field `volunteers`: missing; expected a whole number of new volunteers, or meet_deadline: true".into(),
            ));
        }
    };
    if r.max_moves > 10_000 {
        return Err(ApiError::BadRequest(format!(
            "field `max_moves`: {}; expected at most 10000",
            r.max_moves
        )));
    }
    let engine = Arc::clone(&s.engine);
    let p = tokio::task::spawn_blocking(move || {
        crate::plan::plan(&engine, r.level, asked, r.max_moves)
    })
    .await
    .map_err(|e| ApiError::Internal(e.to_string()))?
    .map_err(|e| ApiError::BadRequest(e.to_string()))?;
    let mut v = serde_json::to_value(&p).map_err(|e| ApiError::Internal(e.to_string()))?;
    s.mask_plan(&mut v, &live, &headers);
    Ok(Json(v))
}

/// `POST /api/whatif`.
#[derive(serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
struct WhatIfRequest {
    #[schema(max_items = 10_000)]
    changes: Vec<crate::engine::Change>,
    /// Where to report (default ward).
    #[serde(default = "default_whatif_level")]
    level: Level,
}

fn default_whatif_level() -> Level {
    Level::Ward
}

#[utoipa::path(post, path = "/api/whatif", tag = "plan", summary = "Recompute every figure under hypothetical changes; the stored data is not touched",
    request_body(content = WhatIfRequest, content_type = "application/json"),
    responses((status = 200, body = schema::WhatIf), (status = 400, body = schema::Error), (status = 415, body = schema::Error)))]
pub(super) async fn whatif(Snap(s): Snap, bytes: Bytes) -> Result<Json<Value>, ApiError> {
    let r: WhatIfRequest = body(&bytes)?;
    if r.changes.len() > 10_000 {
        return Err(ApiError::BadRequest(format!(
            "field `changes`: {} changes; expected at most 10000",
            r.changes.len()
        )));
    }
    let (campaign, figures) = s.engine.whatif(&r.changes).map_err(ApiError::BadRequest)?;
    let at: Vec<crate::Figures> = figures
        .iter()
        .filter(|f| f.level == r.level)
        .cloned()
        .collect();
    let province = figures.first().map(|f| Value::Object(s.shown(&f.code, f)));
    let items: Vec<Value> = crate::priority::rank(&at, &campaign)
        .iter()
        .map(|p| Value::Object(s.shown(&p.figures.code, p)))
        .collect();
    Ok(Json(json!({
        "campaign": { "deadline": campaign.deadline(), "target_coverage": campaign.target_coverage },
        "province": province,
        "level": r.level,
        "items": items,
    })))
}
