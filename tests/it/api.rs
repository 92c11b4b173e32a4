//! The map API through the router without a socket (values checked against the engine), and
//! once on a real loopback socket.

use std::io::{Read, Write};
use std::sync::{Arc, OnceLock};

use axum::body::Body;
use axum::http::{Request, StatusCode};
use http_body_util::BodyExt;
use phuso::Level;
use phuso::api::{AppState, router};
use serde_json::Value;
use tower::ServiceExt;

use crate::bundled_engine;

fn state() -> Arc<AppState> {
    static STATE: OnceLock<Arc<AppState>> = OnceLock::new();
    STATE
        .get_or_init(|| Arc::new(AppState::new(bundled_engine(), None)))
        .clone()
}

async fn get(uri: &str) -> (StatusCode, String, Vec<u8>) {
    let res = router(state(), None)
        .oneshot(Request::get(uri).body(Body::empty()).unwrap())
        .await
        .unwrap();
    let status = res.status();
    let ctype = res
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    (
        status,
        ctype,
        res.into_body().collect().await.unwrap().to_bytes().to_vec(),
    )
}

async fn json(uri: &str) -> (StatusCode, Value) {
    let (status, _, body) = get(uri).await;
    (
        status,
        serde_json::from_slice(&body)
            .unwrap_or_else(|e| panic!("{uri}: {e}: {}", String::from_utf8_lossy(&body))),
    )
}

#[tokio::test]
async fn health_and_summary() {
    assert_eq!(
        json("/api/health").await,
        (StatusCode::OK, serde_json::json!({ "status": "ok" }))
    );
    let (status, s) = json("/api/summary").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        (
            s["province"]["teams"].as_u64(),
            s["province"]["members"].as_u64()
        ),
        (Some(586), Some(3_329))
    );
    assert_eq!(s["campaign"]["deadline"], "2025-11-30");
    let e = bundled_engine();
    assert_eq!(
        s["campaign"]["day"].as_u64(),
        Some(u64::from(e.as_of_day()) + 1)
    );
    assert_eq!(
        s["visits"]["rows_accepted"].as_u64(),
        Some(e.visit_report().rows_accepted as u64)
    );
    assert!(
        s["visits"].get("examples").is_none(),
        "row examples hold coordinates: never served"
    );
    assert_eq!(s["counts"]["neighbourhood"].as_u64(), Some(586));
}

#[tokio::test]
async fn areas_carry_the_engine_figures() {
    let (status, ctype, body) = get("/api/areas?level=ward").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(ctype, "application/geo+json");
    let doc: Value = serde_json::from_slice(&body).unwrap();
    let features = doc["features"].as_array().unwrap();
    assert_eq!(features.len(), 36);
    let e = bundled_engine();
    let mut shown = 0;
    for f in features {
        let p = &f["properties"];
        let i = e.position(p["code"].as_str().unwrap()).unwrap();
        let want = &e.figures()[i];
        assert_eq!(p["members_needed"].as_u64(), Some(want.members_needed));
        // What the small-count rule withholds is null; the rest is the engine's.
        if state().rule().withheld(i).households {
            assert!(p["households_reached"].is_null() && p["coverage_ratio"].is_null());
            assert_eq!(p["withheld"], true);
            continue;
        }
        shown += 1;
        assert_eq!(
            p["households_reached"].as_u64(),
            Some(want.households_reached)
        );
        assert!(
            (p["coverage_ratio"].as_f64().unwrap() - want.coverage_ratio.unwrap()).abs() < 1e-12
        );
        assert!(p["reason"].as_str().unwrap().contains("people/km²"));
        assert_eq!(f["geometry"]["type"], "MultiPolygon");
    }
    assert!(shown >= 30, "{shown} of 36 wards shown");
    let an_phu = features.iter().find(|f| f["id"] == "25975").unwrap();
    assert_eq!(
        an_phu["properties"]["former_names"],
        serde_json::json!(["Phường Bình Chuẩn", "Phường An Phú"])
    );
    // Coarser geometry at low zoom, full geometry at high zoom.
    let (_, _, coarse) = get("/api/areas?level=ward&zoom=9").await;
    let (_, _, full) = get("/api/areas?level=ward&zoom=15").await;
    assert!(
        coarse.len() < body.len() && body.len() < full.len(),
        "{} {} {}",
        coarse.len(),
        body.len(),
        full.len()
    );
    for level in ["neighbourhood", "district", "province"] {
        let (status, doc) = json(&format!("/api/areas?level={level}")).await;
        assert_eq!(status, StatusCode::OK);
        let want = e.figures_at(level.parse().unwrap()).count();
        assert_eq!(doc["features"].as_array().unwrap().len(), want, "{level}");
    }
}

#[tokio::test]
async fn areas_as_label_points_carry_the_same_figures_and_the_shapes_boxes() {
    for level in ["ward", "neighbourhood", "district", "province"] {
        let (status, points) = json(&format!("/api/areas?level={level}&geometry=point")).await;
        assert_eq!(status, StatusCode::OK);
        let (_, shapes) = json(&format!("/api/areas?level={level}&zoom=15")).await;
        let (points, shapes) = (
            points["features"].as_array().unwrap(),
            shapes["features"].as_array().unwrap(),
        );
        assert_eq!(points.len(), shapes.len(), "{level}");
        assert!(!points.is_empty(), "{level}");
        for (p, s) in points.iter().zip(shapes) {
            assert_eq!(p["id"], s["id"]);
            assert_eq!(p["properties"], s["properties"], "{}", p["id"]);
            assert_eq!(p["geometry"]["type"], "Point");
            // The box is the full shape's (a second computation over its coordinates), and
            // holds the label point.
            let mut want = [f64::MAX, f64::MAX, f64::MIN, f64::MIN];
            for polygon in s["geometry"]["coordinates"].as_array().unwrap() {
                for ring in polygon.as_array().unwrap() {
                    for c in ring.as_array().unwrap() {
                        let (x, y) = (c[0].as_f64().unwrap(), c[1].as_f64().unwrap());
                        want = [
                            want[0].min(x),
                            want[1].min(y),
                            want[2].max(x),
                            want[3].max(y),
                        ];
                    }
                }
            }
            let bbox: Vec<f64> = p["bbox"]
                .as_array()
                .unwrap()
                .iter()
                .map(|v| v.as_f64().unwrap())
                .collect();
            for k in 0..4 {
                assert!(
                    (bbox[k] - want[k]).abs() < 2e-6,
                    "{} bbox {bbox:?} vs {want:?}",
                    p["id"]
                );
            }
            let (x, y) = (
                p["geometry"]["coordinates"][0].as_f64().unwrap(),
                p["geometry"]["coordinates"][1].as_f64().unwrap(),
            );
            assert!(
                bbox[0] <= x && x <= bbox[2] && bbox[1] <= y && y <= bbox[3],
                "{}",
                p["id"]
            );
        }
    }
    let (status, err) = json("/api/areas?geometry=point&zoom=x").await;
    assert_eq!(
        status,
        StatusCode::BAD_REQUEST,
        "zoom is checked with geometry=point"
    );
    assert!(err["error"].as_str().unwrap().contains("zoom"), "{err}");
    let (status, err) = json("/api/areas?geometry=outline").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(
        err["error"]
            .as_str()
            .unwrap()
            .contains("geometry=\"outline\""),
        "{err}"
    );
}

#[tokio::test]
async fn an_area_names_its_ancestors_from_the_root() {
    let e = bundled_engine();
    for code in [
        "25975",
        e.figures_at(Level::Neighbourhood)
            .next()
            .unwrap()
            .code
            .as_str(),
    ] {
        let (status, d) = json(&format!("/api/areas/{code}")).await;
        assert_eq!(status, StatusCode::OK);
        let mut want = Vec::new();
        let mut at = e.areas()[e.position(code).unwrap()].parent;
        while let Some(j) = at {
            want.push(e.areas()[j].code.0.clone());
            at = e.areas()[j].parent;
        }
        want.reverse();
        let got: Vec<&str> = d["ancestors"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a["code"].as_str().unwrap())
            .collect();
        assert_eq!(got, want, "{code}");
        assert_eq!(
            d["ancestors"].as_array().unwrap().last().unwrap()["code"],
            d["parent"]["code"]
        );
        assert_eq!(d["ancestors"][0]["level"], "province");
    }
}

#[tokio::test]
async fn one_area_with_series() {
    let e = bundled_engine();
    let (status, d) = json("/api/areas/25975").await;
    assert_eq!(status, StatusCode::OK);
    let i = e.position("25975").unwrap();
    assert_eq!(d["area"]["name"], "Phường An Phú");
    assert_eq!(
        d["parent"]["code"],
        e.areas()[e.areas()[i].parent.unwrap()].code.0
    );
    assert_eq!(
        d["children"].as_array().unwrap().len(),
        e.areas()[i].children.len()
    );
    let days = e.as_of_day() as usize + 1;
    let t = &e.totals()[i];
    let w = state().rule().withheld(i);
    // Each day's figure is the engine's, or null where the small-count rule withholds it.
    let check = |name: &str, hidden: &[bool], want: &[u64]| {
        let got = d["series"][name].as_array().unwrap();
        assert_eq!(got.len(), days);
        for (day, v) in got.iter().enumerate() {
            if hidden[day] {
                assert!(v.is_null(), "{name} day {day}");
            } else {
                assert_eq!(v.as_u64(), Some(want[day]), "{name} day {day}");
            }
        }
    };
    let mut so_far = 0;
    let cumulative: Vec<u64> = t
        .daily_new_households
        .iter()
        .map(|n| {
            so_far += n;
            so_far
        })
        .collect();
    check("households_reached", &w.cumulative, &cumulative);
    check("new_households", &w.daily_new, &t.daily_new_households);
    check("visits", &w.daily_visits, &t.daily_visits);
    assert_eq!(cumulative[days - 1], e.figures()[i].households_reached);
    assert_eq!(
        t.daily_visits.iter().take(days).sum::<u64>(),
        e.figures()[i].visits
    );
    // An ward of this size shows its total and most of its days.
    assert_eq!(
        d["area"]["households_reached"],
        e.figures()[i].households_reached
    );
    assert!(w.daily_new.iter().filter(|h| !**h).count() > days / 2);
    assert!(
        d["series"].get("per_service").is_none(),
        "not per day: too small"
    );
    let (status, err) = json("/api/areas/99999").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(err["error"], "no area with code \"99999\"");
}

#[tokio::test]
async fn priorities_and_bad_parameters() {
    let e = bundled_engine();
    let (status, d) = json("/api/priorities?level=ward&limit=3").await;
    assert_eq!(status, StatusCode::OK);
    let items = d["items"].as_array().unwrap();
    assert_eq!(items.len(), 3);
    assert_eq!(
        items[0]["code"].as_str(),
        Some(e.priorities(Level::Ward)[0].figures.code.as_str())
    );
    assert!(
        items[0]["reason_vi"]
            .as_str()
            .unwrap()
            .contains("người/km²")
    );
    for (uri, needle) in [
        (
            "/api/priorities?limit=0",
            "parameter `limit`: \"0\"; expected a whole number in 1..=5000",
        ),
        (
            "/api/priorities?level=city",
            "parameter `level`: unknown level \"city\"",
        ),
        (
            "/api/priorities?lvl=ward",
            "unknown parameter `lvl`; accepted: level, limit",
        ),
        (
            "/api/hexes?res=11",
            "parameter `res`: \"11\"; expected a whole number in 6..=10",
        ),
        ("/api/hexes?res=8&bbox=1,2,3", "parameter `bbox`: \"1,2,3\""),
        ("/api/hexes?bbox=107,11,106,12", "minLon < maxLon"),
        (
            "/api/hexes?res=9",
            "exceed the limit of 20000; pass a smaller bbox or a coarser res",
        ),
        ("/api/areas?zoom=-1", "parameter `zoom`"),
    ] {
        let (status, err) = json(uri).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{uri}");
        assert!(
            err["error"].as_str().unwrap().contains(needle),
            "{uri}: {err}"
        );
    }
    let (status, err) = json("/api/no-such-route").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(err["error"].as_str().unwrap().contains("openapi"));
}

#[tokio::test]
async fn huge_and_odd_requests_are_refused_cleanly() {
    let long = format!("/api/hexes?bbox={}", "1,".repeat(25_000));
    let (status, _) = json(&long).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let res = router(state(), None)
        .oneshot(
            Request::post("/api/summary")
                .body(Body::from(vec![b'x'; 5 << 20]))
                .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::METHOD_NOT_ALLOWED);
}

#[tokio::test]
async fn hexes_are_aggregates_that_add_up() {
    let e = bundled_engine();
    let (status, d) = json("/api/hexes").await;
    assert_eq!(status, StatusCode::OK);
    let features = d["features"].as_array().unwrap();
    assert_eq!(features.len(), e.hexes().len());
    let shown: u64 = features
        .iter()
        .filter_map(|f| f["properties"]["visits"].as_u64())
        .sum();
    // What is withheld is what the shown cells do not add up to.
    let k = phuso::disclosure::DEFAULT_MIN_COUNT;
    let truth: std::collections::HashMap<String, &phuso::hex::HexStats> =
        e.hexes().iter().map(|h| (h.cell.to_string(), h)).collect();
    let mut withheld = 0;
    for f in features {
        let p = &f["properties"];
        let h = truth[p["cell"].as_str().unwrap()];
        if p["visits"].is_null() {
            withheld += h.visits;
        }
        if p["suppressed"] == true {
            assert!(p["households"].is_null() && p["population_est"].is_null());
            assert!(p["visits"].is_null());
        } else {
            assert!(h.households >= k, "{h:?} shown");
            assert_eq!(p["households"].as_u64(), Some(h.households));
        }
        if h.households < k {
            assert_eq!(p["suppressed"], true, "{h:?} below k shown");
        }
        assert_eq!(
            p["blind_spot"] == true,
            h.households < k && h.population_est >= 50.0
        );
    }
    assert_eq!(shown + withheld, e.visit_report().rows_accepted as u64);
    // A finer resolution inside a box: every cell's centre is inside it.
    let (status, d) = json("/api/hexes?res=10&bbox=106.70,10.90,106.75,10.95").await;
    assert_eq!(status, StatusCode::OK);
    assert!(d["features"].as_array().unwrap().len() > 100);
    assert_eq!(d["resolution"], 10);
}

#[tokio::test]
async fn exports_and_openapi() {
    let (status, ctype, body) = get("/api/export/areas.csv?level=ward").await;
    assert_eq!(status, StatusCode::OK);
    assert!(ctype.starts_with("text/csv"));
    let text = String::from_utf8(body).unwrap();
    assert_eq!(text.lines().count(), 37);
    assert!(text.starts_with("rank,code,name,level,parent_code,population,households,area_km2,density_per_km2,teams,members,residents_per_member,visits,households_reached,coverage_ratio"));
    let (status, _, body) = get("/api/export/areas.parquet?level=neighbourhood").await;
    assert_eq!(status, StatusCode::OK);
    let df = polars::prelude::ParquetReader::new(std::io::Cursor::new(body))
        .finish()
        .unwrap();
    use polars::prelude::SerReader;
    assert_eq!(df.height(), 586);
    let needed: i64 = df
        .column("members_needed")
        .unwrap()
        .i64()
        .unwrap()
        .iter()
        .flatten()
        .sum();
    let want: u64 = bundled_engine()
        .figures_at(Level::Neighbourhood)
        .map(|f| f.members_needed)
        .sum();
    assert_eq!(u64::try_from(needed).unwrap(), want);

    let (status, doc) = json("/api/openapi.json").await;
    assert_eq!(status, StatusCode::OK);
    for path in [
        "/api/health",
        "/api/summary",
        "/api/areas",
        "/api/areas/{code}",
        "/api/priorities",
        "/api/hexes",
        "/api/export/areas.csv",
        "/api/export/areas.parquet",
        "/api/openapi.json",
    ] {
        assert!(
            doc["paths"].get(path).is_some(),
            "{path} missing from the OpenAPI document"
        );
        let (status, _, _) = get(&path.replace("{code}", "25975")).await;
        assert_eq!(status, StatusCode::OK, "{path}");
    }
    // Every route of the router is described (read from the router's source, so a new route
    // without a description fails here).
    let source =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/src/api/mod.rs")).unwrap();
    let routes: Vec<&str> = source
        .split(".route(")
        .skip(1)
        .filter_map(|r| r.trim_start().strip_prefix('"')?.split('"').next())
        .filter(|r| *r != "/api" && !r.contains('*'))
        .collect();
    assert!(routes.len() >= 19, "{routes:?}");
    for r in routes {
        assert!(
            doc["paths"].get(r).is_some(),
            "route {r} missing from the OpenAPI document"
        );
    }
}

#[test]
fn on_a_real_socket() {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let rt = tokio::runtime::Runtime::new().unwrap();
        rt.block_on(phuso::api::serve(
            Arc::new(phuso::api::live::Live::read_only(state())),
            Some(crate::bundled().join("../web")),
            std::net::TcpListener::bind("127.0.0.1:0").unwrap(),
            |addr| tx.send(addr).unwrap(),
        ))
        .unwrap();
    });
    let addr = rx
        .recv_timeout(std::time::Duration::from_secs(120))
        .unwrap();
    for (path, needle) in [
        ("/api/health", "\"status\":\"ok\""),
        ("/", "<title>Phủ Số"),
        ("/vendor/maplibre-gl/maplibre-gl.mjs", "MapLibre"),
    ] {
        let mut s = std::net::TcpStream::connect(addr).unwrap();
        write!(
            s,
            "GET {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"
        )
        .unwrap();
        let mut out = String::new();
        s.read_to_string(&mut out).unwrap();
        assert!(
            out.starts_with("HTTP/1.1 200"),
            "{path}: {}",
            &out[..out.len().min(200)]
        );
        assert!(out.contains(needle), "{path}");
    }
}

#[tokio::test]
async fn an_over_large_hex_request_is_refused_before_computing() {
    // A fresh state: resolution 10 is not cached; ≈2,700 km² / 0.015 km² per cell ≈ 180,000.
    let app = router(Arc::new(AppState::new(bundled_engine(), None)), None);
    let res = app
        .oneshot(
            Request::get("/api/hexes?res=10")
                .body(Body::empty())
                .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    let body: Value =
        serde_json::from_slice(&res.into_body().collect().await.unwrap().to_bytes()).unwrap();
    let msg = body["error"].as_str().unwrap();
    assert!(
        msg.starts_with("about ")
            && msg.contains("cells at resolution 10 in this box exceed the limit of 20000"),
        "{msg}"
    );
}
