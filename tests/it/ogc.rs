//! OGC API – Features at `/ogc`: every level paged through `next` gives each area once with the
//! figures and geometry of `/api/areas`; the H3 collections equal `/api/hexes`; `bbox` keeps
//! exactly the features whose geometry meets the box (against a hand-written intersection test,
//! not geo's); bad parameters are refused. Then a real client: GDAL (`ogrinfo`, `ogr2ogr`;
//! Debian's gdal-bin, installed by `scripts/test-all.sh`) lists the collections, copies wards and
//! neighbourhoods into a GeoPackage in small pages, and every field it stored equals
//! `/api/areas`; its `-spat` filter (sent as `bbox`) keeps the oracle's wards.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::process::Command;
use std::sync::{Arc, OnceLock};

use axum::body::Body;
use axum::http::{Request, StatusCode};
use http_body_util::BodyExt;
use phuso::api::{AppState, router};
use serde_json::Value;
use tower::ServiceExt;

use super::{bundled_engine, scratch};

fn state() -> Arc<AppState> {
    static STATE: OnceLock<Arc<AppState>> = OnceLock::new();
    STATE
        .get_or_init(|| Arc::new(AppState::new(bundled_engine(), None)))
        .clone()
}

async fn get(uri: &str) -> (StatusCode, String, Value) {
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
    let body = res.into_body().collect().await.unwrap().to_bytes();
    let v = serde_json::from_slice(&body)
        .unwrap_or_else(|e| panic!("{uri}: {e}: {}", String::from_utf8_lossy(&body)));
    (status, ctype, v)
}

/// `/api/areas` at full geometry: code → feature.
async fn api_areas(level: &str) -> BTreeMap<String, Value> {
    let (status, _, doc) = get(&format!("/api/areas?level={level}&zoom=15")).await;
    assert_eq!(status, StatusCode::OK);
    doc["features"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| (f["id"].as_str().unwrap().to_owned(), f.clone()))
        .collect()
}

/// Every feature of `collection` through its `next` links, pages of `limit`; checks each page's
/// counts, order and links on the way.
async fn page_through(collection: &str, limit: usize, extra: &str) -> Vec<Value> {
    let mut uri = format!("/ogc/collections/{collection}/items?limit={limit}{extra}");
    let mut out: Vec<Value> = Vec::new();
    let mut matched = None;
    let mut pages = 0;
    loop {
        let (status, ctype, page) = get(&uri).await;
        assert_eq!(status, StatusCode::OK, "{uri}: {page}");
        assert_eq!(ctype, "application/geo+json");
        assert_eq!(page["type"], "FeatureCollection");
        let features = page["features"].as_array().unwrap();
        assert_eq!(page["numberReturned"], features.len(), "{uri}");
        assert!(features.len() <= limit);
        let m = page["numberMatched"].as_u64().unwrap();
        assert_eq!(
            *matched.get_or_insert(m),
            m,
            "numberMatched changed between pages"
        );
        let links = page["links"].as_array().unwrap();
        let rel = |r: &str| links.iter().find(|l| l["rel"] == r);
        assert!(rel("self").is_some());
        assert_eq!(rel("prev").is_some(), pages > 0, "{uri}: prev link");
        out.extend(features.iter().cloned());
        pages += 1;
        match rel("next") {
            Some(next) => {
                assert_eq!(features.len(), limit, "a page before the last is full");
                let href = next["href"].as_str().unwrap();
                uri = href.strip_prefix("http://localhost").unwrap().to_owned();
            }
            None => break,
        }
    }
    assert_eq!(out.len() as u64, matched.unwrap());
    out
}

#[tokio::test]
async fn landing_conformance_and_collections() {
    let (status, ctype, landing) = get("/ogc").await;
    assert_eq!(
        (status, ctype.as_str()),
        (StatusCode::OK, "application/json")
    );
    let rels: BTreeSet<&str> = landing["links"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["rel"].as_str().unwrap())
        .collect();
    for r in ["self", "service-desc", "conformance", "data"] {
        assert!(rels.contains(r), "{r}");
    }
    let (_, _, conf) = get("/ogc/conformance").await;
    let classes: Vec<&str> = conf["conformsTo"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap())
        .collect();
    assert!(classes.contains(&"http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core"));
    assert!(classes.contains(&"http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson"));
    let (_, _, list) = get("/ogc/collections").await;
    let ids: Vec<&str> = list["collections"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_str().unwrap())
        .collect();
    assert_eq!(
        ids,
        [
            "province",
            "districts",
            "wards",
            "neighbourhoods",
            "h3_r6",
            "h3_r7",
            "h3_r8",
            "h3_r9",
            "h3_r10"
        ]
    );
    // The wards' extent is the box around every ward.
    let wards = api_areas("ward").await;
    let (mut w, mut s, mut e, mut n) = (f64::MAX, f64::MAX, f64::MIN, f64::MIN);
    for f in wards.values() {
        for ring in f["geometry"]["coordinates"]
            .as_array()
            .unwrap()
            .iter()
            .flat_map(|p| p.as_array().unwrap())
        {
            for c in ring.as_array().unwrap() {
                let (x, y) = (c[0].as_f64().unwrap(), c[1].as_f64().unwrap());
                (w, s, e, n) = (w.min(x), s.min(y), e.max(x), n.max(y));
            }
        }
    }
    let (_, _, one) = get("/ogc/collections/wards").await;
    let bbox = &one["extent"]["spatial"]["bbox"][0];
    for (got, want) in bbox.as_array().unwrap().iter().zip([w, s, e, n]) {
        // The served coordinates are rounded to 1e-6°.
        assert!(
            (got.as_f64().unwrap() - want).abs() < 1e-6,
            "{bbox} vs {want}"
        );
    }
    assert_eq!(one["itemType"], "feature");
    let (status, _, err) = get("/ogc/collections/nope").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(err["error"].as_str().unwrap().contains("wards"), "{err}");
}

#[tokio::test]
async fn every_level_paged_once_with_the_figures_of_api_areas() {
    for (collection, level, limit) in [
        ("province", "province", 10),
        ("districts", "district", 3),
        ("wards", "ward", 7),
        ("neighbourhoods", "neighbourhood", 97),
    ] {
        let want = api_areas(level).await;
        let got = page_through(collection, limit, "").await;
        assert_eq!(got.len(), want.len(), "{collection}");
        let mut seen = BTreeSet::new();
        let mut last = String::new();
        for f in &got {
            let id = f["id"].as_str().unwrap().to_owned();
            assert!(
                id > last,
                "{collection}: {id} after {last}: not in code order"
            );
            assert!(seen.insert(id.clone()), "{collection}: {id} twice");
            let w = &want[&id];
            assert_eq!(f["properties"], w["properties"], "{collection} {id}");
            assert_eq!(f["geometry"], w["geometry"], "{collection} {id}");
            last = id;
        }
        assert_eq!(seen, want.keys().cloned().collect::<BTreeSet<_>>());
    }
    // One feature.
    let want = api_areas("ward").await;
    let (status, ctype, f) = get("/ogc/collections/wards/items/25975").await;
    assert_eq!(
        (status, ctype.as_str()),
        (StatusCode::OK, "application/geo+json")
    );
    assert_eq!(f["properties"], want["25975"]["properties"]);
    assert_eq!(f["properties"]["name"], "Phường An Phú");
    assert_eq!(f["links"][0]["rel"], "self");
    // A ward code is not a neighbourhood.
    let (status, _, _) = get("/ogc/collections/neighbourhoods/items/25975").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    // Past the end: nothing, the same count, no next.
    let (_, _, past) = get("/ogc/collections/wards/items?offset=1000").await;
    assert_eq!(past["numberReturned"], 0);
    assert_eq!(past["numberMatched"], want.len());
    assert!(
        !past["links"]
            .as_array()
            .unwrap()
            .iter()
            .any(|l| l["rel"] == "next")
    );
    // The default page holds 10.
    let (_, _, first) = get("/ogc/collections/wards/items").await;
    assert_eq!(first["numberReturned"], 10);
}

#[tokio::test]
async fn cells_equal_api_hexes() {
    for res in [6, 8] {
        let (status, _, doc) = get(&format!("/api/hexes?res={res}")).await;
        assert_eq!(status, StatusCode::OK);
        let want: BTreeMap<String, Value> = doc["features"]
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
        assert!(want.len() > 10, "{res}: {}", want.len());
        let got = page_through(&format!("h3_r{res}"), 1000, "").await;
        let got: BTreeMap<String, Value> = got
            .iter()
            .map(|f| {
                (
                    f["id"].as_str().unwrap().to_owned(),
                    f["properties"].clone(),
                )
            })
            .collect();
        assert_eq!(got, want, "res {res}");
        let (id, props) = want.iter().next().unwrap();
        let (status, _, one) = get(&format!("/ogc/collections/h3_r{res}/items/{id}")).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(&one["properties"], props);
        assert_eq!(one["geometry"]["type"], "Polygon");
    }
    let (status, _, _) = get("/ogc/collections/h3_r8/items/zz").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

/// The oracle: does the (closed) polygon with `rings` meet the closed box? Written out here,
/// independent of geo: a vertex inside the box, a box corner inside the polygon (even–odd over
/// all rings), or an edge crossing a box edge.
fn meets(rings: &[Vec<[f64; 2]>], b: [f64; 4]) -> bool {
    let [w, s, e, n] = b;
    let inside_box = |p: [f64; 2]| p[0] >= w && p[0] <= e && p[1] >= s && p[1] <= n;
    if rings.iter().flatten().any(|p| inside_box(*p)) {
        return true;
    }
    let corners = [[w, s], [e, s], [e, n], [w, n]];
    let in_polygon = |q: [f64; 2]| {
        let mut inside = false;
        for r in rings {
            for k in 0..r.len().saturating_sub(1) {
                let (a, c) = (r[k], r[k + 1]);
                if (a[1] > q[1]) != (c[1] > q[1])
                    && q[0] < a[0] + (q[1] - a[1]) * (c[0] - a[0]) / (c[1] - a[1])
                {
                    inside = !inside;
                }
            }
        }
        inside
    };
    if corners.iter().any(|c| in_polygon(*c)) {
        return true;
    }
    let cross = |a: [f64; 2], b: [f64; 2], c: [f64; 2]| {
        (b[0] - a[0]) * (c[1] - a[1]) - (b[1] - a[1]) * (c[0] - a[0])
    };
    let crosses = |p: [f64; 2], q: [f64; 2], r: [f64; 2], t: [f64; 2]| {
        let (d1, d2) = (cross(r, t, p), cross(r, t, q));
        let (d3, d4) = (cross(p, q, r), cross(p, q, t));
        d1 * d2 <= 0.0 && d3 * d4 <= 0.0
    };
    rings.iter().any(|r| {
        r.windows(2)
            .any(|seg| (0..4).any(|k| crosses(seg[0], seg[1], corners[k], corners[(k + 1) % 4])))
    })
}

fn rings_of(f: &Value) -> Vec<Vec<Vec<[f64; 2]>>> {
    f["geometry"]["coordinates"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            p.as_array()
                .unwrap()
                .iter()
                .map(|r| {
                    r.as_array()
                        .unwrap()
                        .iter()
                        .map(|c| [c[0].as_f64().unwrap(), c[1].as_f64().unwrap()])
                        .collect()
                })
                .collect()
        })
        .collect()
}

fn envelope(f: &Value) -> [f64; 4] {
    let mut b = [f64::MAX, f64::MAX, f64::MIN, f64::MIN];
    for p in rings_of(f) {
        for c in p.iter().flatten() {
            b = [
                b[0].min(c[0]),
                b[1].min(c[1]),
                b[2].max(c[0]),
                b[3].max(c[1]),
            ];
        }
    }
    b
}

/// Boxes over the bundled province, seeded: small, middling and large.
fn boxes() -> Vec<[f64; 4]> {
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut next = || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        (x >> 11) as f64 / (1u64 << 53) as f64
    };
    (0..120)
        .map(|i| {
            let size = [0.003, 0.02, 0.15][i % 3];
            let (lon, lat) = (106.32 + 0.65 * next(), 10.86 + 0.65 * next());
            [
                lon,
                lat,
                lon + size * (0.5 + next()),
                lat + size * (0.5 + next()),
            ]
        })
        .collect()
}

#[tokio::test]
async fn bbox_keeps_exactly_the_features_meeting_the_box() {
    let mut envelope_only = 0;
    let mut partial = 0;
    for (collection, level) in [("wards", "ward"), ("neighbourhoods", "neighbourhood")] {
        let areas = api_areas(level).await;
        for b in boxes() {
            let want: BTreeSet<String> = areas
                .iter()
                .filter(|(_, f)| rings_of(f).iter().any(|p| meets(p, b)))
                .map(|(c, _)| c.clone())
                .collect();
            let by_envelope = areas
                .values()
                .filter(|f| {
                    let e = envelope(f);
                    e[0] <= b[2] && e[2] >= b[0] && e[1] <= b[3] && e[3] >= b[1]
                })
                .count();
            envelope_only += usize::from(by_envelope > want.len());
            partial += usize::from(!want.is_empty() && want.len() < areas.len());
            let extra = format!("&bbox={},{},{},{}", b[0], b[1], b[2], b[3]);
            let got: BTreeSet<String> = page_through(collection, 10_000, &extra)
                .await
                .iter()
                .map(|f| f["id"].as_str().unwrap().to_owned())
                .collect();
            assert_eq!(got, want, "{collection} bbox {b:?}");
        }
    }
    // The boxes tell an exact test from a test of the areas' boxes, and are neither empty nor
    // everything.
    assert!(envelope_only >= 10, "{envelope_only}");
    assert!(partial >= 100, "{partial}");
    // Six numbers (heights ignored); across the antimeridian: 100°E…179°W takes in every ward,
    // 170°E…170°W none.
    let wards = api_areas("ward").await.len() as u64;
    for (bbox, n) in [
        ("106,10,-100,108,12,100", wards),
        ("100,-80,-179,80", wards),
        ("170,-80,-170,80", 0),
    ] {
        let (status, _, page) = get(&format!("/ogc/collections/wards/items?bbox={bbox}")).await;
        assert_eq!(status, StatusCode::OK, "{bbox}");
        assert_eq!(page["numberMatched"], n, "{bbox}");
    }
}

#[tokio::test]
async fn bad_parameters_refused() {
    for (uri, says) in [
        ("/ogc/collections/wards/items?limit=0", "limit"),
        ("/ogc/collections/wards/items?limit=10001", "limit"),
        ("/ogc/collections/wards/items?limit=ten", "limit"),
        ("/ogc/collections/wards/items?offset=-1", "offset"),
        ("/ogc/collections/wards/items?bbox=1,2,3", "bbox"),
        ("/ogc/collections/wards/items?bbox=a,b,c,d", "bbox"),
        ("/ogc/collections/wards/items?bbox=106,12,107,11", "bbox"),
        ("/ogc/collections/wards/items?bbox=106,11,190,12", "bbox"),
        (
            "/ogc/collections/wards/items?f=json",
            "unknown parameter `f`",
        ),
        ("/ogc/collections?x=1", "unknown parameter `x`"),
        ("/ogc?x=1", "unknown parameter `x`"),
    ] {
        let (status, _, err) = get(uri).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{uri}");
        assert!(
            err["error"].as_str().unwrap().contains(says),
            "{uri}: {err}"
        );
    }
    let (status, _, _) = get("/ogc/nothing/here").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

/// Runs a GDAL tool; its standard output.
fn gdal(tool: &str, args: &[&str]) -> String {
    let out = Command::new(tool).args(args).output().unwrap_or_else(|e| {
        panic!("{tool} (Debian's gdal-bin; scripts/test-all.sh installs it): {e}")
    });
    assert!(
        out.status.success(),
        "{tool} {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn gdal_reads_the_collections_and_copies_the_figures() {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let rt = tokio::runtime::Runtime::new().unwrap();
        rt.block_on(phuso::api::serve(
            Arc::new(phuso::api::live::Live::read_only(state())),
            None,
            std::net::TcpListener::bind("127.0.0.1:0").unwrap(),
            |addr| tx.send(addr).unwrap(),
        ))
        .unwrap();
    });
    let addr = rx
        .recv_timeout(std::time::Duration::from_secs(120))
        .unwrap();
    let url = format!("OAPIF:http://{addr}/ogc");
    // ogrinfo lists every collection with its title.
    let listing = gdal("ogrinfo", &["-ro", "-q", &url]);
    let listed: Vec<&str> = listing
        .lines()
        .filter_map(|l| l.split_once(": ")?.1.split(' ').next())
        .collect();
    assert_eq!(
        listed,
        [
            "province",
            "districts",
            "wards",
            "neighbourhoods",
            "h3_r6",
            "h3_r7",
            "h3_r8",
            "h3_r9",
            "h3_r10"
        ],
        "{listing}"
    );
    assert!(
        listing.contains("wards (title: Wards and communes (2025)) (Multi Polygon)"),
        "{listing}"
    );
    // ogr2ogr copies wards and neighbourhoods in pages of 37 (following `next`).
    let dir = scratch("ogc-gdal");
    let gpkg = dir.join("copy.gpkg");
    let gpkg_s = gpkg.to_str().unwrap();
    gdal(
        "ogr2ogr",
        &[
            "-f",
            "GPKG",
            "-oo",
            "PAGE_SIZE=37",
            gpkg_s,
            &url,
            "wards",
            "neighbourhoods",
        ],
    );
    let rt = tokio::runtime::Runtime::new().unwrap();
    let db = rusqlite::Connection::open(&gpkg).unwrap();
    for (table, level) in [("wards", "ward"), ("neighbourhoods", "neighbourhood")] {
        let want = rt.block_on(api_areas(level));
        let columns: Vec<String> = db
            .prepare(&format!("SELECT name FROM pragma_table_info('{table}')"))
            .unwrap()
            .query_map([], |r| r.get::<_, String>(0))
            .unwrap()
            .map(Result::unwrap)
            .collect();
        let mut stmt = db.prepare(&format!("SELECT * FROM {table}")).unwrap();
        let mut rows = stmt.query([]).unwrap();
        let mut seen: HashMap<String, usize> = HashMap::new();
        let mut compared = 0;
        while let Some(row) = rows.next().unwrap() {
            let at = |name: &str| columns.iter().position(|c| c == name).unwrap();
            let code: String = row.get(at("code")).unwrap();
            *seen.entry(code.clone()).or_default() += 1;
            let props = want[&code]["properties"].as_object().unwrap();
            for (k, v) in props {
                let Some(i) = columns.iter().position(|c| c == k) else {
                    continue;
                };
                use rusqlite::types::ValueRef;
                let stored = row.get_ref(i).unwrap();
                let same = match (v, stored) {
                    (Value::Null, ValueRef::Null) => true,
                    (Value::Bool(b), ValueRef::Integer(n)) => i64::from(*b) == n,
                    (Value::Number(x), ValueRef::Integer(n)) => x.as_i64() == Some(n),
                    (Value::Number(x), ValueRef::Real(r)) => {
                        let x = x.as_f64().unwrap();
                        (x - r).abs() <= 1e-9 * x.abs().max(1.0)
                    }
                    (Value::String(s), ValueRef::Text(t)) => s.as_bytes() == t,
                    // Lists (former names, label point) GDAL stores its own way.
                    (Value::Array(_), _) => continue,
                    _ => false,
                };
                assert!(same, "{table} {code} {k}: API {v}, GeoPackage {stored:?}");
                compared += 1;
            }
        }
        assert_eq!(seen.len(), want.len(), "{table}: every area");
        assert!(seen.values().all(|&n| n == 1), "{table}: each once");
        // Every scalar figure of every area was compared.
        assert!(compared >= want.len() * 30, "{table}: {compared}");
    }
    // The GeoPackage's geometries are the served ones, vertex for vertex (read back with
    // Phủ Số's GeoPackage reader).
    let wards = rt.block_on(api_areas("ward"));
    let layer = phuso::ingest::layer::open(
        &gpkg,
        &phuso::ingest::layer::OpenOptions {
            layer: Some("wards".into()),
            ..Default::default()
        },
    )
    .unwrap();
    assert_eq!(layer.features.len(), wards.len());
    for f in &layer.features {
        let code = f.properties["code"].as_str().unwrap();
        let mut stored: Vec<(u64, u64)> = f
            .geometry
            .as_ref()
            .unwrap()
            .0
            .iter()
            .flat_map(|p| std::iter::once(p.exterior()).chain(p.interiors()))
            .flat_map(|r| r.0.iter().map(|c| (c.x.to_bits(), c.y.to_bits())))
            .collect();
        let mut served: Vec<(u64, u64)> = rings_of(&wards[code])
            .iter()
            .flatten()
            .flatten()
            .map(|c| (c[0].to_bits(), c[1].to_bits()))
            .collect();
        stored.sort_unstable();
        served.sort_unstable();
        assert_eq!(stored, served, "ward {code}: vertices");
    }
    // GDAL's spatial filter, sent to the server as `bbox`, keeps the oracle's wards.
    for b in boxes().into_iter().step_by(13) {
        let want: BTreeSet<String> = wards
            .iter()
            .filter(|(_, f)| rings_of(f).iter().any(|p| meets(p, b)))
            .map(|(c, _)| c.clone())
            .collect();
        let (w, s, e, n) = (
            b[0].to_string(),
            b[1].to_string(),
            b[2].to_string(),
            b[3].to_string(),
        );
        let out = gdal(
            "ogrinfo",
            &["-ro", "-q", "-spat", &w, &s, &e, &n, &url, "wards"],
        );
        let got: BTreeSet<String> = out
            .lines()
            .filter_map(|l| l.trim().strip_prefix("code (String) = "))
            .map(str::to_owned)
            .collect();
        assert_eq!(got, want, "ogrinfo -spat {b:?}");
    }
}
