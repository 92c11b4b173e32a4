//! The server under a hostile but lawful client: security headers, JSON bodies only as JSON, no
//! cross-site state changes, no protocol-relative redirects, JSON errors in one shape, bounded
//! messages, checked what-if arithmetic, single-flight H3 layers, load shedding, and connections
//! that dawdle over their headers closed.

use std::io::{Read, Write};
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::http::{Request, StatusCode};
use http_body_util::BodyExt;
use phuso::api::live::Live;
use phuso::api::server::Limits;
use phuso::api::{AppState, router_with};
use serde_json::Value;
use tower::ServiceExt;

use crate::bundled_engine;

fn app_with(limits: Limits) -> (axum::Router, Arc<Live>) {
    let live = Arc::new(Live::read_only(Arc::new(AppState::new(
        bundled_engine(),
        None,
    ))));
    let web = crate::bundled().join("../web");
    (router_with(Arc::clone(&live), Some(web), limits), live)
}

fn app() -> axum::Router {
    app_with(Limits::default()).0
}

async fn call(
    app: axum::Router,
    req: Request<Body>,
) -> (StatusCode, axum::http::HeaderMap, String) {
    let res = app.oneshot(req).await.unwrap();
    let (status, headers) = (res.status(), res.headers().clone());
    let body = res.into_body().collect().await.unwrap().to_bytes();
    (status, headers, String::from_utf8_lossy(&body).into_owned())
}

fn error_of(body: &str) -> String {
    let v: Value = serde_json::from_str(body).unwrap_or_else(|e| panic!("not JSON ({e}): {body}"));
    v["error"]
        .as_str()
        .unwrap_or_else(|| panic!("no error: {body}"))
        .to_owned()
}

#[tokio::test]
async fn every_response_carries_the_security_headers() {
    for (uri, cache) in [
        ("/", "no-cache"),
        ("/app.js", "no-cache"),
        (
            "/vendor/maplibre-gl/maplibre-gl.mjs",
            "public, max-age=86400",
        ),
        ("/api/summary", "no-store"),
        ("/api/nothing", "no-store"),
    ] {
        let (status, h, _) = call(app(), Request::get(uri).body(Body::empty()).unwrap()).await;
        assert!(
            status == StatusCode::OK || status == StatusCode::NOT_FOUND,
            "{uri}: {status}"
        );
        let csp = h["content-security-policy"].to_str().unwrap();
        assert!(
            csp.contains("script-src 'self'") && !csp.contains("script-src 'self' 'unsafe-inline'"),
            "{csp}"
        );
        assert!(csp.contains("frame-ancestors 'none'"), "{csp}");
        assert_eq!(h["x-content-type-options"], "nosniff", "{uri}");
        assert_eq!(h["referrer-policy"], "no-referrer", "{uri}");
        assert_eq!(h["x-frame-options"], "DENY", "{uri}");
        assert_eq!(h["cache-control"], cache, "{uri}");
    }
    // The page has no inline script for the policy to refuse.
    let html = std::fs::read_to_string(crate::bundled().join("../web/index.html")).unwrap();
    for tag in html.split("<script").skip(1) {
        let open = &tag[..tag.find('>').unwrap()];
        assert!(open.contains(" src=\""), "inline script: {tag}");
        assert!(
            tag[open.len() + 1..].starts_with("</script>"),
            "inline script: {tag}"
        );
    }
    // A basemap's origin is allowed for images, nothing else.
    let csp = phuso::api::guard::content_security_policy(Some(
        "https://{s}.tile.example.org/{z}/{x}/{y}.png",
    ));
    assert!(
        csp.contains("img-src 'self' data: https://*.tile.example.org;"),
        "{csp}"
    );
}

#[tokio::test]
async fn no_redirect_leaves_the_site() {
    for uri in ["//vendor", "//example.org/x", "/vendor/../../etc/passwd"] {
        let (status, h, body) = call(app(), Request::get(uri).body(Body::empty()).unwrap()).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{uri}: {body}");
        assert!(h.get("location").is_none(), "{uri}");
    }
}

#[tokio::test]
async fn json_bodies_only_as_json_and_no_cross_site_changes() {
    let plan = r#"{"volunteers": 100}"#;
    let post = |uri: &str, ctype: Option<&str>, origin: Option<&str>| {
        let mut r = Request::post(uri).header("host", "127.0.0.1:8080");
        if let Some(c) = ctype {
            r = r.header("content-type", c);
        }
        if let Some(o) = origin {
            r = r.header("origin", o);
        }
        r.body(Body::from(plan)).unwrap()
    };
    for uri in ["/api/plan", "/api/whatif", "/api/plans"] {
        for ctype in [
            None,
            Some("text/plain"),
            Some("application/x-www-form-urlencoded"),
        ] {
            let (status, _, body) = call(app(), post(uri, ctype, None)).await;
            assert_eq!(
                status,
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "{uri} {ctype:?}: {body}"
            );
            assert!(error_of(&body).contains("takes application/json"), "{body}");
        }
    }
    let (status, _, body) = call(
        app(),
        post(
            "/api/plan",
            Some("application/json"),
            Some("https://evil.example"),
        ),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    assert!(
        error_of(&body).contains("Origin https://evil.example"),
        "{body}"
    );
    // The page's own origin, and clients that send none (curl, scripts), may.
    for origin in [Some("http://127.0.0.1:8080"), None] {
        let (status, _, body) =
            call(app(), post("/api/plan", Some("application/json"), origin)).await;
        assert_eq!(status, StatusCode::OK, "{origin:?}: {body}");
    }
    // Behind a proxy that passes the public host as X-Forwarded-Host.
    let mut req = post(
        "/api/plan",
        Some("application/json"),
        Some("https://phuso.example.gov.vn"),
    );
    req.headers_mut()
        .insert("x-forwarded-host", "phuso.example.gov.vn".parse().unwrap());
    let (status, _, body) = call(app(), req).await;
    assert_eq!(status, StatusCode::OK, "{body}");
}

#[tokio::test]
async fn errors_are_json_in_one_shape_and_quote_little() {
    // 405 from the router, 413 from the body limit, 404: all {"error": …}.
    let (status, _, body) = call(
        app(),
        Request::get("/api/plan").body(Body::empty()).unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED);
    assert!(
        error_of(&body).contains("method not allowed on this route"),
        "{body}"
    );
    let big = format!(r#"{{"volunteers": 1, "x": "{}"}}"#, "a".repeat(100_000));
    let req = Request::post("/api/plan")
        .header("content-type", "application/json")
        .body(Body::from(big))
        .unwrap();
    let (status, _, body) = call(app(), req).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
    assert!(error_of(&body).contains("body too large"), "{body}");
    // A long bad value is quoted only in part.
    let uri = format!("/api/priorities?level={}", "x".repeat(5_000));
    let (status, _, body) = call(app(), Request::get(uri).body(Body::empty()).unwrap()).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let message = error_of(&body);
    assert!(
        message.chars().count() <= 1_100,
        "{} characters",
        message.chars().count()
    );
}

#[tokio::test]
async fn what_if_arithmetic_cannot_overflow() {
    let e = bundled_engine();
    let leaves: Vec<String> = e
        .leaves()
        .iter()
        .take(2)
        .map(|&l| e.areas()[l].code.0.clone())
        .collect();
    let members = e.own_totals()[e.leaves()[0]].members as i64;
    let body = serde_json::json!({ "changes": [
        { "op": "add_members", "code": leaves[0], "members": i64::MAX - members },
    ]});
    let req = |b: &Value| {
        Request::post("/api/whatif")
            .header("content-type", "application/json")
            .body(Body::from(b.to_string()))
            .unwrap()
    };
    let (status, _, text) = call(app(), req(&body)).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{text}");
    assert!(
        error_of(&text).contains("at most 1000000 per area"),
        "{text}"
    );
    // Within the bound one by one, but a move that would pass it is refused too.
    let body = serde_json::json!({ "changes": [
        { "op": "add_members", "code": leaves[0], "members": 900_000 },
        { "op": "add_members", "code": leaves[1], "members": 900_000 },
        { "op": "move_members", "from": leaves[0], "to": leaves[1], "members": 900_000 },
    ]});
    let (status, _, text) = call(app(), req(&body)).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{text}");
    assert!(error_of(&text).contains("change 2"), "{text}");
    // A fair one is answered, and the province's members are the sum of the change.
    let body = serde_json::json!({ "changes": [{ "op": "add_members", "code": leaves[0], "members": 10 }], "level": "province" });
    let (status, _, text) = call(app(), req(&body)).await;
    assert_eq!(status, StatusCode::OK, "{text}");
    assert!(
        text.contains(&format!("\"members\":{}", e.figures()[0].members + 10)),
        "{text}"
    );
}

#[tokio::test]
async fn an_h3_layer_is_computed_once_however_many_ask() {
    let (app, live) = app_with(Limits {
        expensive: 64,
        ..Limits::default()
    });
    let tasks: Vec<_> = (0..8)
        .map(|_| {
            let app = app.clone();
            tokio::spawn(async move {
                call(
                    app,
                    Request::get("/api/hexes?res=7")
                        .body(Body::empty())
                        .unwrap(),
                )
                .await
                .0
            })
        })
        .collect();
    for t in tasks {
        assert_eq!(t.await.unwrap(), StatusCode::OK);
    }
    assert_eq!(live.current().hex_computations(), 1);
    let (status, _, _) = call(
        app,
        Request::get("/api/hexes?res=7")
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(live.current().hex_computations(), 1, "cached");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn expensive_requests_beyond_the_bound_are_shed_at_once() {
    let (app, _) = app_with(Limits {
        expensive: 1,
        ..Limits::default()
    });
    // One slow request holds the only permit (an uncomputed fine layer over a small box).
    let slow = {
        let app = app.clone();
        tokio::spawn(async move {
            call(
                app,
                Request::get("/api/hexes?res=10&bbox=106.6,10.9,106.7,11.0")
                    .body(Body::empty())
                    .unwrap(),
            )
            .await
            .0
        })
    };
    tokio::time::sleep(Duration::from_millis(50)).await;
    let started = Instant::now();
    let (status, h, body) = call(
        app.clone(),
        Request::get("/api/hexes?res=9")
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
    assert_eq!(h["retry-after"], "1");
    assert!(error_of(&body).contains("busy"), "{body}");
    // Cheap routes still answer while the permit is held.
    let (status, _, _) = call(
        app.clone(),
        Request::get("/api/areas?level=ward")
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let shed = started.elapsed();
    assert_eq!(slow.await.unwrap(), StatusCode::OK);
    assert!(shed < Duration::from_secs(5), "shedding waited {shed:?}");
}

#[test]
fn connections_that_dawdle_over_their_headers_are_closed() {
    let addr = serve_on_loopback(Limits {
        header_read: Duration::from_millis(500),
        ..Limits::default()
    });
    // Slowloris: one header line, then nothing.
    let mut s = std::net::TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    s.write_all(b"GET /api/health HTTP/1.1\r\nHost: x\r\n")
        .unwrap();
    let started = Instant::now();
    let mut buf = Vec::new();
    let _ = s.read_to_end(&mut buf); // returns when the server closes
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
    // A whole request is answered, with a request id for the access log.
    let mut s = std::net::TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    s.write_all(b"GET /api/health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        .unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).unwrap();
    assert!(out.starts_with("HTTP/1.1 200"), "{out}");
    assert!(out.to_ascii_lowercase().contains("x-request-id: "), "{out}");
}

#[tokio::test]
async fn prebuilt_and_h3_documents_are_gzipped_once_and_equal_the_plain_ones() {
    for uri in [
        "/api/areas?level=ward",
        "/api/areas?level=neighbourhood&zoom=14",
        "/api/hexes?res=8",
    ] {
        let (status, h, plain) = call(app(), Request::get(uri).body(Body::empty()).unwrap()).await;
        assert_eq!(status, StatusCode::OK);
        assert!(h.get("content-encoding").is_none(), "{uri}");
        let res = app()
            .oneshot(
                Request::get(uri)
                    .header("accept-encoding", "br;q=1, gzip")
                    .body(Body::empty())
                    .unwrap(),
            )
            .await
            .unwrap();
        assert_eq!(res.headers()["content-encoding"], "gzip", "{uri}");
        assert_eq!(res.headers()["vary"], "accept-encoding", "{uri}");
        let zipped = res.into_body().collect().await.unwrap().to_bytes();
        assert!(
            zipped.len() * 3 < plain.len(),
            "{uri}: {} vs {}",
            zipped.len(),
            plain.len()
        );
        let mut unzipped = String::new();
        flate2::read::GzDecoder::new(&zipped[..])
            .read_to_string(&mut unzipped)
            .unwrap();
        assert_eq!(unzipped, plain, "{uri}");
    }
    // gzip refused with q=0: plain.
    let res = app()
        .oneshot(
            Request::get("/api/areas?level=ward")
                .header("accept-encoding", "gzip;q=0")
                .body(Body::empty())
                .unwrap(),
        )
        .await
        .unwrap();
    assert!(res.headers().get("content-encoding").is_none());
}

#[tokio::test]
async fn the_contract_departures_found_by_hand_are_gone() {
    let post = |b: &str| {
        Request::post("/api/plan")
            .header("content-type", "application/json")
            .body(Body::from(b.to_owned()))
            .unwrap()
    };
    // JSON Schema's integer includes 6305.0; 6305.5 is not one.
    let (status, _, body) = call(app(), post(r#"{"volunteers": 6305.0}"#)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, _, body) = call(app(), post(r#"{"volunteers": 6305.5}"#)).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert!(
        error_of(&body).contains("expected a whole number"),
        "{body}"
    );
    // An array is not the object the route takes.
    let (status, _, body) = call(app(), post("[100, false, 0]")).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert!(error_of(&body).contains("expected a JSON object"), "{body}");
    // `bbox=` is no box.
    let (status, _, body) = call(
        app(),
        Request::get("/api/hexes?res=8&bbox=")
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
}

#[test]
fn one_client_over_its_rate_is_told_when_to_come_back() {
    let addr = serve_on_loopback(Limits {
        client_burst: 2,
        client_per_second: 0.05,
        ..Limits::default()
    });
    let get = |path: &str, extra: &str| {
        let mut s = std::net::TcpStream::connect(addr).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(60))).unwrap();
        write!(
            s,
            "GET {path} HTTP/1.1\r\nHost: x\r\n{extra}Connection: close\r\n\r\n"
        )
        .unwrap();
        let mut out = String::new();
        s.read_to_string(&mut out).unwrap();
        out
    };
    // Two audits pass, the third from the same address is refused with a time to wait.
    assert!(get("/api/audit?level=ward", "").starts_with("HTTP/1.1 200"));
    assert!(get("/api/audit?level=ward", "").starts_with("HTTP/1.1 200"));
    let refused = get("/api/audit?level=ward", "");
    assert!(refused.starts_with("HTTP/1.1 429"), "{refused}");
    let lower = refused.to_ascii_lowercase();
    assert!(lower.contains("retry-after: 20"), "{refused}");
    assert!(
        lower.contains("content-type: application/json"),
        "{refused}"
    );
    assert!(refused.contains("try again in 20 s"), "{refused}");
    // Cheap routes are not limited.
    for _ in 0..5 {
        assert!(get("/api/summary", "").starts_with("HTTP/1.1 200"));
    }
    // Over-large headers: 431 in JSON like every other error.
    let big = format!("X-Big: {}\r\n", "a".repeat(40 * 1024));
    let out = get("/api/summary", &big);
    assert!(out.starts_with("HTTP/1.1 431"), "{out}");
    assert!(out.contains("exceed the limit of 32768"), "{out}");
}

/// The bundled data served on a free loopback port with `limits`, in its own thread; the address.
fn serve_on_loopback(limits: Limits) -> std::net::SocketAddr {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let rt = tokio::runtime::Runtime::new().unwrap();
        let live = Arc::new(Live::read_only(Arc::new(AppState::new(
            bundled_engine(),
            None,
        ))));
        rt.block_on(phuso::api::serve_with(
            live,
            None,
            std::net::TcpListener::bind("127.0.0.1:0").unwrap(),
            limits,
            |addr| tx.send(addr).unwrap(),
        ))
        .unwrap();
    });
    rx.recv_timeout(Duration::from_secs(120)).unwrap()
}
