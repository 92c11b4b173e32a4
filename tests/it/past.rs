//! The campaign as of a past day (`Engine::until`, `as_of=` on the read routes) against its
//! oracle: a load of the bundled data whose visits file is cut at that day (and, for the roster,
//! a data directory with roster changes before and after it). Every figure, every total, every
//! H3 cell and the "as of" day are equal; the API serves them under the small-count rule (the
//! shown values equal the oracle's, the per-service counts of past days are withheld, and a
//! past count is shown only when it equals today's or differs by at least k).

use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, OnceLock};

use axum::body::Body;
use axum::http::{Request, StatusCode};
use chrono::{Days, NaiveDate};
use http_body_util::BodyExt;
use phuso::api::{AppState, router};
use phuso::{Engine, EngineConfig};
use polars::prelude::*;
use serde_json::Value;
use tower::ServiceExt;

use super::{bundled, bundled_engine, scratch};

/// A copy of the bundled data directory in `dir`, its visits cut after `last` (all when none),
/// with `roster` as its roster changes.
fn data_dir(dir: &Path, last: Option<NaiveDate>, roster: &str) {
    let src = bundled();
    std::fs::create_dir_all(dir.join("synthetic")).unwrap();
    for f in ["wards_2025.geojson", "census_2019.csv", "norms.toml"] {
        std::fs::copy(src.join(f), dir.join(f)).unwrap();
    }
    for f in ["neighbourhoods.geojson", "teams.csv"] {
        std::fs::copy(src.join("synthetic").join(f), dir.join("synthetic").join(f)).unwrap();
    }
    if !roster.is_empty() {
        std::fs::write(dir.join("synthetic/roster_changes.csv"), roster).unwrap();
    }
    let file = std::fs::File::open(src.join("synthetic/visits.parquet")).unwrap();
    let mut df = ParquetReader::new(file).finish().unwrap();
    if let Some(last) = last {
        let end = last
            .checked_add_days(Days::new(1))
            .unwrap()
            .and_hms_opt(0, 0, 0)
            .unwrap()
            .and_utc()
            .timestamp_millis();
        let ts = df.column("ts").unwrap().datetime().unwrap();
        let keep = ts.physical().lt(end);
        df = df.filter(&keep).unwrap();
    }
    let out = std::fs::File::create(dir.join("synthetic/visits.parquet")).unwrap();
    ParquetWriter::new(out).finish(&mut df).unwrap();
}

fn load(dir: &Path) -> Engine {
    Engine::load(&EngineConfig::for_dir(dir)).unwrap()
}

fn assert_same(past: &Engine, cut: &Engine, what: &str) {
    assert_eq!(past.as_of(), cut.as_of(), "{what}: as of");
    assert_eq!(past.as_of_day(), cut.as_of_day(), "{what}");
    for (a, b) in past.figures().iter().zip(cut.figures()) {
        assert_eq!(a, b, "{what}: {}", a.code);
    }
    for (i, (a, b)) in past.totals().iter().zip(cut.totals()).enumerate() {
        assert_eq!(a, b, "{what}: totals of {}", past.areas()[i].code.0);
    }
    assert_eq!(past.hexes(), cut.hexes(), "{what}: H3 layer");
    let res = h3o::Resolution::Nine;
    assert_eq!(
        past.hex_counts(res),
        cut.hex_counts(res),
        "{what}: H3 res 9"
    );
    assert_eq!(past.outside(), cut.outside(), "{what}: outside");
    assert_eq!(
        past.visit_report().rows_accepted,
        cut.visit_report().rows_accepted,
        "{what}: visits"
    );
    for level in phuso::model::Level::ALL {
        let a: Vec<_> = past.ranked(level).iter().map(|p| &p.figures).collect();
        let b: Vec<_> = cut.ranked(level).iter().map(|p| &p.figures).collect();
        assert_eq!(a, b, "{what}: ranking of {level:?}");
    }
}

#[test]
fn a_past_day_equals_a_load_of_the_visits_up_to_that_day() {
    let today = bundled_engine();
    let start = today.campaign().start;
    let days = [start, start + Days::new(9), today.as_of() - Days::new(1)];
    for day in days {
        let dir = scratch(&format!("past_{day}"));
        data_dir(&dir, Some(day), "");
        let cut = load(&dir);
        let past = today.until(day).expect("a past day");
        assert!(cut.visit_report().rows_accepted > 0, "{day}: visits left");
        assert!(
            past.figures()[0].households_reached < today.figures()[0].households_reached,
            "{day}: fewer households than today"
        );
        assert_same(&past, &cut, &day.to_string());
    }
}

#[test]
fn a_past_day_takes_the_roster_of_that_day() {
    let today = bundled_engine();
    let start = today.campaign().start;
    let teams = std::fs::read_to_string(bundled().join("synthetic/teams.csv")).unwrap();
    let ids: Vec<&str> = teams
        .lines()
        .skip(1)
        .filter_map(|l| l.split(',').next())
        .take(40)
        .collect();
    // Teams that grow on day 5, shrink on day 12, and change again after the day asked for.
    let mut roster = String::from("team_id,effective_from,members\n");
    for (n, id) in ids.iter().enumerate() {
        let d = [5, 12, 30][n % 3];
        roster.push_str(&format!("{id},{},{}\n", start + Days::new(d), 2 + n % 7));
    }
    let full_dir = scratch("past_roster_full");
    data_dir(&full_dir, None, &roster);
    let full = load(&full_dir);
    let day = start + Days::new(14);
    let cut_dir = scratch("past_roster_cut");
    data_dir(&cut_dir, Some(day), &roster);
    let cut = load(&cut_dir);
    let past = full.until(day).expect("a past day");
    assert_same(&past, &cut, "with roster changes");
    // The change of day 30 is not in the members of day 14; the one of day 12 is.
    assert_ne!(past.figures()[0].members, full.figures()[0].members);
}

fn state() -> Arc<AppState> {
    static STATE: OnceLock<Arc<AppState>> = OnceLock::new();
    STATE
        .get_or_init(|| Arc::new(AppState::new(bundled_engine(), None)))
        .clone()
}

async fn get(uri: &str) -> (StatusCode, Vec<u8>) {
    let res = router(state(), None)
        .oneshot(Request::get(uri).body(Body::empty()).unwrap())
        .await
        .unwrap();
    let status = res.status();
    (
        status,
        res.into_body().collect().await.unwrap().to_bytes().to_vec(),
    )
}

async fn json(uri: &str) -> Value {
    let (status, body) = get(uri).await;
    assert_eq!(
        status,
        StatusCode::OK,
        "{uri}: {}",
        String::from_utf8_lossy(&body)
    );
    serde_json::from_slice(&body).unwrap()
}

/// The figures of `engine` by code, as JSON objects.
fn by_code(engine: &Engine) -> HashMap<String, serde_json::Map<String, Value>> {
    engine
        .figures()
        .iter()
        .map(|f| {
            let Value::Object(m) = serde_json::to_value(f).unwrap() else {
                unreachable!()
            };
            (f.code.clone(), m)
        })
        .collect()
}

/// Every shown figure of `served` equals the oracle's; per-service counts are withheld.
fn assert_shown_equal(
    served: &serde_json::Map<String, Value>,
    oracle: &serde_json::Map<String, Value>,
    what: &str,
) -> usize {
    let mut shown = 0;
    for (name, want) in oracle {
        let Some(got) = served.get(name) else {
            continue;
        };
        if name.starts_with("visits_") && name != "visits_per_member_day"
            || name.starts_with("households_") && name != "households_reached"
        {
            assert_eq!(
                got,
                &Value::Null,
                "{what}: {name} of a past day is withheld"
            );
            continue;
        }
        if got.is_null() && !want.is_null() {
            continue;
        }
        let equal = match (got.as_f64(), want.as_f64()) {
            (Some(a), Some(b)) => (a - b).abs() <= 1e-9 * b.abs().max(1.0),
            _ => got == want,
        };
        assert!(equal, "{what}: {name}: served {got}, oracle {want}");
        shown += 1;
    }
    shown
}

#[tokio::test]
async fn as_of_on_the_read_routes_serves_that_days_figures_under_the_rule() {
    let today = bundled_engine();
    let day = today.campaign().start + Days::new(9);
    let past = today.until(day).unwrap();
    let oracle = by_code(&past);
    let now = by_code(&today);
    let k = phuso::disclosure::DEFAULT_MIN_COUNT;

    let pri = json(&format!(
        "/api/priorities?level=neighbourhood&limit=5000&as_of={day}"
    ))
    .await;
    assert_eq!(pri["as_of"], Value::from(day.to_string()));
    let items = pri["items"].as_array().unwrap();
    assert_eq!(
        items.len(),
        past.figures_at(phuso::model::Level::Neighbourhood).count()
    );
    let mut shown = 0;
    let mut stepped = 0;
    for item in items {
        let code = item["code"].as_str().unwrap();
        shown += assert_shown_equal(item.as_object().unwrap(), &oracle[code], code);
        // A count of a past day is shown only when it equals today's or is k or more apart.
        if let (Some(then), Some(_)) = (
            item["households_reached"].as_u64(),
            now[code]["households_reached"].as_u64(),
        ) {
            let today_shown = json_today(code).await;
            if let Some(t) = today_shown {
                let d = t.abs_diff(then);
                assert!(d == 0 || d >= k, "{code}: {then} then, {t} today");
                stepped += usize::from(d >= k);
            }
        }
    }
    assert!(
        shown > 1_000 && stepped > 50,
        "{shown} shown, {stepped} stepped"
    );
    // The ranking is that day's.
    let codes: Vec<&str> = items.iter().map(|i| i["code"].as_str().unwrap()).collect();
    let want: Vec<&str> = past
        .ranked(phuso::model::Level::Neighbourhood)
        .iter()
        .map(|p| p.figures.code.as_str())
        .collect();
    assert_eq!(codes, want);

    // The map's GeoJSON, the summary, the OGC items and their links.
    let areas = json(&format!("/api/areas?level=ward&as_of={day}")).await;
    for f in areas["features"].as_array().unwrap() {
        let code = f["id"].as_str().unwrap();
        assert_shown_equal(f["properties"].as_object().unwrap(), &oracle[code], code);
    }
    let summary = json(&format!("/api/summary?as_of={day}")).await;
    assert_eq!(summary["campaign"]["as_of"], Value::from(day.to_string()));
    assert_eq!(summary["campaign"]["day"], Value::from(10));
    let ogc = json(&format!("/ogc/collections/wards/items?limit=7&as_of={day}")).await;
    for f in ogc["features"].as_array().unwrap() {
        let code = f["id"].as_str().unwrap();
        assert_shown_equal(f["properties"].as_object().unwrap(), &oracle[code], code);
    }
    let next = ogc["links"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["rel"] == "next")
        .unwrap()["href"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(next.ends_with(&format!("&as_of={day}")), "{next}");

    // Tiles: the template carries the day, and a tile of that day differs from today's.
    let tj = json(&format!("/tiles/wards.json?as_of={day}")).await;
    assert!(
        tj["tiles"][0]
            .as_str()
            .unwrap()
            .ends_with(&format!(".mvt?as_of={day}"))
    );
    let (z, x, y) = centre_tile(&today, 10);
    let (s1, then) = get(&format!("/tiles/wards/{z}/{x}/{y}.mvt?as_of={day}")).await;
    let (s2, now_tile) = get(&format!("/tiles/wards/{z}/{x}/{y}.mvt")).await;
    assert_eq!((s1, s2), (StatusCode::OK, StatusCode::OK));
    assert_ne!(then, now_tile);

    // A day at or after the last day with data is today; before the start, no visits yet; not a
    // date, 400.
    let last = today.as_of();
    for d in [last, last + Days::new(3)] {
        let (_, a) = get(&format!("/api/priorities?level=ward&as_of={d}")).await;
        let (_, b) = get("/api/priorities?level=ward").await;
        assert_eq!(a, b, "{d}");
    }
    let before = json("/api/summary?as_of=2025-09-30").await;
    assert_eq!(before["data"]["visits"], Value::Bool(false));
    assert_eq!(before["campaign"]["day"], Value::from(1));
    for bad in ["2025-13-01", "yesterday", "2025-10-1x"] {
        let (status, body) = get(&format!("/api/areas?as_of={bad}")).await;
        let text = String::from_utf8_lossy(&body);
        assert_eq!(status, StatusCode::BAD_REQUEST, "{bad}: {text}");
        assert!(text.contains("as_of") && text.contains(bad), "{text}");
    }
}

/// Today's shown households reached of `code`.
async fn json_today(code: &str) -> Option<u64> {
    static TODAY: OnceLock<HashMap<String, Option<u64>>> = OnceLock::new();
    if TODAY.get().is_none() {
        let v = json("/api/priorities?level=neighbourhood&limit=5000").await;
        let m = v["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| {
                (
                    i["code"].as_str().unwrap().to_owned(),
                    i["households_reached"].as_u64(),
                )
            })
            .collect();
        let _ = TODAY.set(m);
    }
    TODAY.get().unwrap().get(code).copied().flatten()
}

/// The tile at zoom `z` over the middle of the province.
fn centre_tile(e: &Engine, z: u8) -> (u8, u32, u32) {
    let f = e.figures_at(phuso::model::Level::Ward).next().unwrap();
    let i = e.position(&f.code).unwrap();
    let g = e.areas()[i].geometry.as_ref().unwrap();
    let c = geo::InteriorPoint::interior_point(g).unwrap();
    let t = crate::tiles::tiles_over([c.x(), c.y(), c.x(), c.y()], z)[0];
    (t.z, t.x, t.y)
}
