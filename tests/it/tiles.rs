//! Vector tiles: the projection against PROJ's EPSG:3857; every tile over the bundled province at
//! zooms 9, 11 and 13 (and a seeded sample at 15) decoded by GDAL's MVT driver, each ward in it
//! once with the figures of `/api/areas` and its area within the tile equal to the ward's own
//! clipped area up to the simplification and rounding bound; no ward missing; H3 tiles with the
//! cells of `/api/hexes`; TileJSON and the catalog; refusals. The size and latency targets are
//! measured by `phuso bench` (README), not here.
//!
//! Needs `cs2cs` (proj-bin) and `ogr2ogr` (gdal-bin): `scripts/test-all.sh` installs them.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Write;
use std::process::{Command, Stdio};
use std::sync::{Arc, OnceLock};

use axum::body::Body;
use axum::http::{Request, StatusCode};
use geo::{Area, BooleanOps, Euclidean, Length, MultiPolygon};
use http_body_util::BodyExt;
use phuso::api::{AppState, router};
use phuso::spatial::tiles::{EXTENT, TileId, mercator};
use serde_json::Value;
use tower::ServiceExt;

use super::{bundled_engine, scratch};

fn state() -> Arc<AppState> {
    static STATE: OnceLock<Arc<AppState>> = OnceLock::new();
    STATE
        .get_or_init(|| Arc::new(AppState::new(bundled_engine(), None)))
        .clone()
}

async fn get(uri: &str, headers: &[(&str, &str)]) -> (StatusCode, axum::http::HeaderMap, Vec<u8>) {
    let mut req = Request::get(uri);
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    let res = router(state(), None)
        .oneshot(req.body(Body::empty()).unwrap())
        .await
        .unwrap();
    let (status, h) = (res.status(), res.headers().clone());
    (
        status,
        h,
        res.into_body().collect().await.unwrap().to_bytes().to_vec(),
    )
}

async fn json(uri: &str) -> Value {
    let (status, _, body) = get(uri, &[]).await;
    assert_eq!(status, StatusCode::OK, "{uri}");
    serde_json::from_slice(&body).unwrap()
}

#[test]
fn web_mercator_equals_proj() {
    // A grid over Vietnam and the clamp latitudes.
    let mut points = Vec::new();
    for i in 0..15 {
        for j in 0..15 {
            points.push((102.0 + 0.6 * f64::from(i), 8.0 + 1.0 * f64::from(j)));
        }
    }
    points.extend([(-179.9, 85.0), (179.9, -85.0), (0.0, 0.0)]);
    let mut child = Command::new("cs2cs")
        .args(["-f", "%.6f", "EPSG:4326", "EPSG:3857"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("cs2cs (Debian's proj-bin; scripts/test-all.sh installs it)");
    let input: String = points
        .iter()
        .map(|(lon, lat)| format!("{lat} {lon}\n"))
        .collect();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    let mut worst: f64 = 0.0;
    for (line, (lon, lat)) in text.lines().zip(&points) {
        let n: Vec<f64> = line
            .split_whitespace()
            .take(2)
            .map(|v| v.parse().unwrap())
            .collect();
        let (x, y) = mercator(*lon, *lat);
        worst = worst.max((x - n[0]).abs()).max((y - n[1]).abs());
    }
    assert_eq!(text.lines().count(), points.len());
    assert!(worst < 1e-3, "{worst} m from PROJ");
}

/// The tiles at zoom `z` over the box `[w, s, e, n]`.
pub(crate) fn tiles_over(b: [f64; 4], z: u8) -> Vec<TileId> {
    let n = f64::from(1u32 << z);
    let col = |lon: f64| ((lon + 180.0) / 360.0 * n).floor() as u32;
    let row = |lat: f64| {
        let (_, y) = mercator(0.0, lat);
        ((1.0 - y / phuso::spatial::tiles::HALF_WORLD) / 2.0 * n).floor() as u32
    };
    let mut out = Vec::new();
    for x in col(b[0])..=col(b[2]) {
        for y in row(b[3])..=row(b[1]) {
            out.extend(TileId::new(z, x, y));
        }
    }
    out
}

/// A tile decoded by GDAL's MVT driver (georeferenced from the z/x/y path), in EPSG:3857.
pub(crate) fn gdal_decode(dir: &std::path::Path, t: TileId, bytes: &[u8]) -> Value {
    let path = dir.join(format!("{}/{}/{}.pbf", t.z, t.x, t.y));
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(&path, bytes).unwrap();
    let out = dir.join(format!("{}-{}-{}.geojson", t.z, t.x, t.y));
    let status = Command::new("ogr2ogr")
        .args(["-f", "GeoJSON", "-lco", "RFC7946=NO"])
        .arg(&out)
        .arg(&path)
        .output()
        .expect("ogr2ogr (Debian's gdal-bin; scripts/test-all.sh installs it)");
    assert!(
        status.status.success(),
        "{}",
        String::from_utf8_lossy(&status.stderr)
    );
    serde_json::from_str(&std::fs::read_to_string(out).unwrap()).unwrap()
}

fn multipolygon(g: &Value) -> MultiPolygon<f64> {
    let geom: geojson::Geometry = serde_json::from_value(g.clone()).unwrap();
    match geo::Geometry::<f64>::try_from(geom).unwrap() {
        geo::Geometry::Polygon(p) => MultiPolygon::new(vec![p]),
        geo::Geometry::MultiPolygon(m) => m,
        other => panic!("not a polygon: {other:?}"),
    }
}

fn projected(g: &MultiPolygon<f64>) -> MultiPolygon<f64> {
    phuso::spatial::tiles::project(g)
}

#[tokio::test]
async fn every_tile_decoded_by_gdal_has_each_ward_once_with_its_figures_and_area() {
    let e = bundled_engine();
    let wards = json("/api/areas?level=ward&zoom=15").await;
    let wards: BTreeMap<String, Value> = wards["features"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| (f["id"].as_str().unwrap().to_owned(), f.clone()))
        .collect();
    // The engine's own full geometry, projected once.
    let shapes: BTreeMap<String, MultiPolygon<f64>> = e
        .areas()
        .iter()
        .filter(|a| a.level == phuso::model::Level::Ward)
        .map(|a| {
            (
                a.code.as_str().to_owned(),
                projected(a.geometry.as_ref().unwrap()),
            )
        })
        .collect();
    let tj = json("/tiles/wards.json").await;
    let b: Vec<f64> = tj["bounds"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_f64().unwrap())
        .collect();
    let dir = scratch("tiles-gdal");
    let mut sample: Vec<TileId> = [9, 11, 13]
        .into_iter()
        .flat_map(|z| tiles_over([b[0], b[1], b[2], b[3]], z))
        .collect();
    // A seeded tenth of zoom 15.
    sample.extend(
        tiles_over([b[0], b[1], b[2], b[3]], 15)
            .into_iter()
            .enumerate()
            .filter(|(i, _)| i % 97 == 5)
            .map(|(_, t)| t),
    );
    let (mut tiles_checked, mut features_checked, mut empty) = (0, 0, 0);
    for t in sample {
        let (status, headers, bytes) =
            get(&format!("/tiles/wards/{}/{}/{}.mvt", t.z, t.x, t.y), &[]).await;
        let frame = MultiPolygon::new(vec![t.bounds(0).to_polygon()]);
        let unit = t.size() / f64::from(EXTENT);
        // The wards with a share of the tile worth drawing: a tenth of a per cent of its area.
        let expected: BTreeSet<&String> = shapes
            .iter()
            .filter(|(_, g)| g.intersection(&frame).unsigned_area() > 1e-3 * t.size() * t.size())
            .map(|(c, _)| c)
            .collect();
        if status == StatusCode::NO_CONTENT {
            assert!(expected.is_empty(), "{t:?}: empty but {expected:?}");
            empty += 1;
            continue;
        }
        assert_eq!(status, StatusCode::OK, "{t:?}");
        assert_eq!(
            headers["content-type"],
            "application/vnd.mapbox-vector-tile"
        );
        assert!(bytes.len() < 500_000, "{t:?}: {} bytes", bytes.len());
        let decoded = gdal_decode(&dir, t, &bytes);
        let mut seen = BTreeSet::new();
        for f in decoded["features"].as_array().unwrap() {
            let code = f["properties"]["code"].as_str().unwrap().to_owned();
            assert!(seen.insert(code.clone()), "{t:?}: {code} twice");
            // Every figure: as served, withheld ones absent.
            for (k, v) in wards[&code]["properties"].as_object().unwrap() {
                let got = &f["properties"][k];
                match v {
                    Value::Null => assert!(got.is_null(), "{t:?} {code} {k}: {got}"),
                    // Sent as JSON text; GDAL gives it back as JSON.
                    Value::Array(_) => assert!(
                        got == v
                            || got
                                .as_str()
                                .and_then(|s| serde_json::from_str::<Value>(s).ok())
                                .as_ref()
                                == Some(v),
                        "{t:?} {code} {k}: {got}"
                    ),
                    Value::Bool(b) => assert!(
                        got == v || got == &Value::from(u8::from(*b)),
                        "{t:?} {code} {k}: {got} vs {v}"
                    ),
                    Value::Number(n) => {
                        let (x, y) = (got.as_f64().unwrap(), n.as_f64().unwrap());
                        assert!(
                            (x - y).abs() <= 1e-9 * y.abs().max(1.0),
                            "{t:?} {code} {k}: {got} vs {v}"
                        );
                    }
                    _ => assert_eq!(got, v, "{t:?} {code} {k}"),
                }
            }
            // Its area within the tile: the ward's own, up to half a unit of simplification and
            // half a unit of rounding along its edge in the tile.
            // Winding as MVT 2.1 (4.3.4.4) requires: exteriors clockwise on screen (y down), so
            // clockwise with y up too once GDAL has placed them (it keeps the vertex order).
            let decoded_shape = multipolygon(&f["geometry"]);
            for p in &decoded_shape.0 {
                use geo::Area as _;
                assert!(
                    geo::Polygon::new(p.exterior().clone(), vec![]).signed_area() < 0.0,
                    "{t:?} {code}: exterior wound anticlockwise"
                );
                for hole in p.interiors() {
                    assert!(
                        geo::Polygon::new(hole.clone(), vec![]).signed_area() > 0.0,
                        "{t:?} {code}: hole wound clockwise"
                    );
                }
            }
            let own = shapes[&code].intersection(&frame);
            let drawn = decoded_shape.intersection(&frame);
            let edge: f64 = own
                .0
                .iter()
                .flat_map(|p| std::iter::once(p.exterior()).chain(p.interiors()))
                .map(|r| Euclidean.length(r))
                .sum();
            let (a, w) = (drawn.unsigned_area(), own.unsigned_area());
            assert!(
                (a - w).abs() <= edge * unit + 4.0 * unit * unit,
                "{t:?} {code}: drawn {a:.0} m², own {w:.0} m², bound {:.0}",
                edge * unit
            );
            features_checked += 1;
        }
        for c in &expected {
            assert!(seen.contains(*c), "{t:?}: {c} missing");
        }
        // And nothing that is not there: every ward drawn meets the tile with its buffer.
        let buffered =
            MultiPolygon::new(vec![t.bounds(phuso::spatial::tiles::BUFFER).to_polygon()]);
        for c in &seen {
            assert!(
                shapes[c].intersection(&buffered).unsigned_area() > 0.0,
                "{t:?}: {c} drawn but not there"
            );
        }
        tiles_checked += 1;
    }
    assert!(
        tiles_checked >= 40 && features_checked >= 150 && empty >= 1,
        "{tiles_checked} {features_checked} {empty}"
    );
}

#[tokio::test]
async fn h3_tiles_carry_the_cells_of_api_hexes() {
    let hexes = json("/api/hexes?res=8").await;
    let want: BTreeMap<String, Value> = hexes["features"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["id"].as_str().unwrap().to_owned(),
                f["properties"].clone(),
            )
        })
        .collect();
    let tj = json("/tiles/h3.json").await;
    let b: Vec<f64> = tj["bounds"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_f64().unwrap())
        .collect();
    let dir = scratch("tiles-h3");
    // Zoom 10 shows resolution 8: every cell of the layer in some tile, with its counts.
    let mut seen: BTreeMap<String, Value> = BTreeMap::new();
    for t in tiles_over([b[0], b[1], b[2], b[3]], 10) {
        let (status, _, bytes) = get(&format!("/tiles/h3/{}/{}/{}.mvt", t.z, t.x, t.y), &[]).await;
        if status == StatusCode::NO_CONTENT {
            continue;
        }
        for f in gdal_decode(&dir, t, &bytes)["features"].as_array().unwrap() {
            let cell = f["properties"]["cell"].as_str().unwrap().to_owned();
            seen.insert(cell, f["properties"].clone());
        }
    }
    assert_eq!(
        seen.keys().collect::<Vec<_>>(),
        want.keys().collect::<Vec<_>>()
    );
    for (cell, props) in &want {
        for (k, v) in props.as_object().unwrap() {
            let got = &seen[cell][k];
            match v {
                Value::Null => assert!(got.is_null(), "{cell} {k}"),
                Value::Bool(b) => {
                    assert!(got == v || got == &Value::from(u8::from(*b)), "{cell} {k}")
                }
                Value::Number(n) => assert!(
                    (got.as_f64().unwrap() - n.as_f64().unwrap()).abs() < 1e-9,
                    "{cell} {k}"
                ),
                _ => assert_eq!(got, v, "{cell} {k}"),
            }
        }
    }
}

#[tokio::test]
async fn tilejson_catalog_etag_and_refusals() {
    let cat = json("/tiles").await;
    let ids: Vec<&String> = cat["tiles"].as_object().unwrap().keys().collect();
    assert_eq!(
        ids,
        ["province", "districts", "wards", "neighbourhoods", "h3"]
    );
    let tj = json("/tiles/neighbourhoods.json").await;
    assert_eq!(tj["tilejson"], "3.0.0");
    assert_eq!(
        tj["tiles"][0],
        "http://localhost/tiles/neighbourhoods/{z}/{x}/{y}.mvt"
    );
    assert_eq!(tj["vector_layers"][0]["id"], "neighbourhoods");
    assert_eq!(tj["vector_layers"][0]["fields"]["coverage_ratio"], "Number");
    assert_eq!(tj["vector_layers"][0]["fields"]["name"], "String");
    // The same tile twice: the same bytes and tag; with the tag, 304 and no body.
    let uri = "/tiles/wards/11/1630/961.mvt";
    let (s1, h1, b1) = get(uri, &[]).await;
    let (_, h2, b2) = get(uri, &[]).await;
    assert_eq!((s1, &b1), (StatusCode::OK, &b2));
    assert_eq!(h1["etag"], h2["etag"]);
    let tag = h1["etag"].to_str().unwrap().to_owned();
    let (s3, _, b3) = get(uri, &[("if-none-match", &tag)]).await;
    assert_eq!((s3, b3.len()), (StatusCode::NOT_MODIFIED, 0));
    let (s4, _, _) = get(uri, &[("if-none-match", "\"other\"")]).await;
    assert_eq!(s4, StatusCode::OK);
    for (uri, status) in [
        ("/tiles/wards/11/1630/961.png", StatusCode::BAD_REQUEST),
        ("/tiles/wards/3/8/0.mvt", StatusCode::BAD_REQUEST),
        ("/tiles/wards/23/0/0.mvt", StatusCode::BAD_REQUEST),
        ("/tiles/wards/a/0/0.mvt", StatusCode::BAD_REQUEST),
        ("/tiles/roads/1/0/0.mvt", StatusCode::NOT_FOUND),
        ("/tiles/roads.json", StatusCode::NOT_FOUND),
        ("/tiles/wards", StatusCode::NOT_FOUND),
        ("/tiles/wards/1/0/0.mvt?x=1", StatusCode::BAD_REQUEST),
    ] {
        let (got, _, body) = get(uri, &[]).await;
        assert_eq!(got, status, "{uri}");
        let v: Value = serde_json::from_slice(&body).unwrap();
        assert!(v["error"].is_string(), "{uri}");
    }
}
