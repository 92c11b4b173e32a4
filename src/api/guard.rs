//! What every request and response passes through, whatever the route: the security headers,
//! the rules for requests that change or cost something (JSON bodies only as `application/json`,
//! no cross-site `Origin`), paths that would redirect off the site, and errors as JSON in one
//! shape even where axum or tower answer themselves (405, 413, …).
//!
//! - Content-Security-Policy: scripts, styles, fonts and connections from this origin only (the
//!   page has no inline script); style attributes allowed (the legend's swatches); images from
//!   this origin, `data:` and the basemap's origin when one is given; `frame-ancestors 'none'`.
//! - `X-Content-Type-Options: nosniff`, `Referrer-Policy: no-referrer`, `X-Frame-Options: DENY`.
//! - Cache-Control: API answers `no-store` (they change with every batch and may carry a
//!   token's view); the page and its scripts `no-cache` (revalidate); `vendor/` a day.

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::error::ApiError;

/// The routes whose body is JSON: 415 for any other content type.
const JSON_BODIES: [&str; 4] = ["/api/plan", "/api/whatif", "/api/plans", "/api/teams/"];

/// The Content-Security-Policy for a page whose basemap (if any) is `basemap` (a URL template).
#[must_use]
pub fn content_security_policy(basemap: Option<&str>) -> String {
    let tiles = basemap
        .and_then(|b| {
            let rest = b.split_once("://")?;
            let host = rest.1.split('/').next()?;
            // `{s}` subdomains: allow the parent domain's subdomains.
            let host = host.replace("{s}.", "*.");
            Some(format!(" {}://{host}", rest.0))
        })
        .unwrap_or_default();
    format!(
        "default-src 'self'; script-src 'self'; style-src 'self'; style-src-attr 'unsafe-inline'; img-src 'self' data:{tiles}; connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
    )
}

/// Request headers larger than this are answered 431 (JSON). Hyper's own, larger limit (about
/// 400 KiB, or more than 100 headers) still answers 431 with an empty body before this runs.
pub const MAX_HEADER_BYTES: usize = 32 * 1024;

/// The middleware (state: the Content-Security-Policy value).
pub async fn guard(State(csp): State<HeaderValue>, req: Request, next: Next) -> Response {
    let path = req.uri().path().to_owned();
    // `//host/…` would make a redirect to a protocol-relative URL (another site).
    let header_bytes: usize = req
        .headers()
        .iter()
        .map(|(k, v)| k.as_str().len() + v.len() + 4)
        .sum();
    let mut res = if path.starts_with("//") || path.contains("/../") {
        ApiError::NotFound("no such path".into()).into_response()
    } else if header_bytes > MAX_HEADER_BYTES {
        let body = serde_json::json!({ "error": format!(
            "request headers of {header_bytes} bytes exceed the limit of {MAX_HEADER_BYTES}"
        ) });
        (
            StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
            axum::Json(body),
        )
            .into_response()
    } else if let Some(refusal) = refuse(&req, &path) {
        refusal.into_response()
    } else {
        next.run(req).await
    };
    if path.starts_with("/api") {
        res = json_errors(res).await;
    }
    let h = res.headers_mut();
    h.insert(header::CONTENT_SECURITY_POLICY, csp);
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    let cache = if path.starts_with("/api") {
        "no-store"
    } else if path.starts_with("/vendor/") {
        "public, max-age=86400"
    } else {
        "no-cache"
    };
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
    res
}

/// Why a request is refused before it reaches its route, if it is.
fn refuse(req: &Request, path: &str) -> Option<ApiError> {
    let changes = !matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS);
    if !changes {
        return None;
    }
    // A browser sends `Origin` on cross-site POSTs; a page elsewhere may not make this one.
    // Behind a reverse proxy the public host arrives as `Host` or `X-Forwarded-Host`.
    if let Some(origin) = req.headers().get(header::ORIGIN) {
        let hosts: Vec<&str> = [header::HOST.as_str(), "x-forwarded-host"]
            .iter()
            .filter_map(|h| req.headers().get(*h)?.to_str().ok())
            .collect();
        let same = origin
            .to_str()
            .ok()
            .and_then(|o| o.split_once("://"))
            .is_some_and(|(_, o)| hosts.contains(&o));
        if !same {
            return Some(ApiError::Forbidden(format!(
                "Origin {}: requests that change or compute something must come from this server's own page",
                short(origin.to_str().unwrap_or("(not text)"))
            )));
        }
    }
    let json_body = JSON_BODIES
        .iter()
        .any(|p| path == *p || (p.ends_with('/') && path.starts_with(p)));
    if json_body {
        let kind = media_type(req.headers());
        if kind != "application/json" {
            return Some(ApiError::UnsupportedMediaType(format!(
                "Content-Type {}: {path} takes application/json",
                if kind.is_empty() {
                    "(none)".to_owned()
                } else {
                    format!("{:?}", short(&kind))
                }
            )));
        }
    }
    None
}

/// The media type of a request's `Content-Type` (lower case, without parameters), or "".
#[must_use]
pub fn media_type(headers: &axum::http::HeaderMap) -> String {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase()
}

/// At most the first 80 characters of `s`, marked when cut.
#[must_use]
pub fn short(s: &str) -> String {
    match s.char_indices().nth(80) {
        Some((i, _)) => format!("{}…", &s[..i]),
        None => s.to_owned(),
    }
}

/// Error answers that are not JSON (axum's 405, tower-http's 413, …) become JSON in the one
/// shape `{"error": "…"}`.
async fn json_errors(res: Response) -> Response {
    let status = res.status();
    let is_json = res
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(b"application/json"));
    if !(status.is_client_error() || status.is_server_error()) || is_json {
        return res;
    }
    let (mut parts, _) = res.into_parts();
    let message = match status {
        StatusCode::METHOD_NOT_ALLOWED => {
            let allow = parts
                .headers
                .get(header::ALLOW)
                .and_then(|v| v.to_str().ok())
                .unwrap_or("")
                .to_owned();
            if allow.is_empty() {
                "method not allowed on this route (see /api/openapi.json)".to_owned()
            } else {
                format!("method not allowed on this route; allowed: {allow}")
            }
        }
        StatusCode::PAYLOAD_TOO_LARGE => {
            "body too large for this route (see /api/openapi.json)".into()
        }
        s => s.canonical_reason().unwrap_or("error").to_ascii_lowercase(),
    };
    let body = serde_json::json!({ "error": message }).to_string();
    parts.headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    // The new body is plain JSON, whatever the old one was compressed with.
    parts.headers.remove(header::CONTENT_LENGTH);
    parts.headers.remove(header::CONTENT_ENCODING);
    Response::from_parts(parts, Body::from(body))
}
