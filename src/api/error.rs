//! The API's error type: 400 with the message for bad input, 404 for unknown codes and routes,
//! 500 "internal error" (details only in the log).

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

/// An error answered as JSON `{"error": "..."}`.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// The request is wrong; the message says how.
    #[error("{0}")]
    BadRequest(String),
    /// No such area or route.
    #[error("{0}")]
    NotFound(String),
    /// No valid token (401, with `WWW-Authenticate: Bearer`).
    #[error("{0}")]
    Unauthorized(String),
    /// The token may not do this, or not here (403).
    #[error("{0}")]
    Forbidden(String),
    /// The request contradicts what is stored (409).
    #[error("{0}")]
    Conflict(String),
    /// A body in a format this route does not take (415).
    #[error("{0}")]
    UnsupportedMediaType(String),
    /// This server cannot do it (e.g. no store: 503).
    #[error("{0}")]
    Unavailable(String),
    /// Something failed inside; logged, never echoed.
    #[error("internal error")]
    Internal(String),
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, message) = match self {
            Self::BadRequest(m) => (StatusCode::BAD_REQUEST, m),
            Self::NotFound(m) => (StatusCode::NOT_FOUND, m),
            Self::Unauthorized(m) => {
                return (
                    StatusCode::UNAUTHORIZED,
                    [(axum::http::header::WWW_AUTHENTICATE, "Bearer")],
                    Json(serde_json::json!({ "error": capped(m) })),
                )
                    .into_response();
            }
            Self::Forbidden(m) => (StatusCode::FORBIDDEN, m),
            Self::Conflict(m) => (StatusCode::CONFLICT, m),
            Self::UnsupportedMediaType(m) => (StatusCode::UNSUPPORTED_MEDIA_TYPE, m),
            Self::Unavailable(m) => (StatusCode::SERVICE_UNAVAILABLE, m),
            Self::Internal(detail) => {
                tracing::error!(%detail, "internal error");
                (
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "internal error".to_owned(),
                )
            }
        };
        (
            status,
            Json(serde_json::json!({ "error": capped(message) })),
        )
            .into_response()
    }
}

/// Messages may quote the input; at most [`MAX_MESSAGE`] characters of them leave the server.
pub const MAX_MESSAGE: usize = 1_000;

fn capped(m: String) -> String {
    match m.char_indices().nth(MAX_MESSAGE) {
        Some((i, _)) => format!("{}… (message cut)", &m[..i]),
        None => m,
    }
}
