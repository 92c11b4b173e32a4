//! The whole country (`phuso init --province all`): the tree is Việt Nam → 34 provinces →
//! former districts → 3,321 wards, and each province equals, ward by ward, the data directory
//! `phuso init --province CODE` writes for it alone (a second computation over the same national
//! files, province by province). The vector tiles of the country stay under 500 KB at every
//! overview zoom, and GDAL finds each ward in the tiles it lies in, with the map's figures.

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::sync::{Arc, OnceLock};

use axum::body::Body;
use axum::http::{Request, StatusCode};
use http_body_util::BodyExt;
use phuso::api::{AppState, router};
use phuso::ingest::national::{init_country, init_province};
use phuso::ingest::provinces::PROVINCES;
use phuso::model::Level;
use phuso::{Engine, EngineConfig};
use tower::ServiceExt;

use super::{bundled, scratch};

fn country() -> (PathBuf, Arc<Engine>) {
    static COUNTRY: OnceLock<(PathBuf, Arc<Engine>)> = OnceLock::new();
    COUNTRY
        .get_or_init(|| {
            let dir = scratch("national_country");
            let reports = init_country(
                &bundled().join("national"),
                &bundled().join("norms.toml"),
                &dir,
            )
            .unwrap();
            assert_eq!(reports.len(), 34);
            let e = Engine::load(&EngineConfig::for_dir(&dir)).unwrap();
            (dir, Arc::new(e))
        })
        .clone()
}

#[test]
fn the_country_is_its_provinces_each_equal_to_its_own_data_directory() {
    let (_, e) = country();
    let root = &e.areas()[0];
    assert_eq!(
        (root.code.as_str(), root.name.as_str(), root.level),
        ("VN", "Việt Nam", Level::Country)
    );
    let count = |l: Level| e.figures_at(l).count();
    assert_eq!(
        (
            count(Level::Country),
            count(Level::Province),
            count(Level::Ward)
        ),
        (1, 34, 3_321)
    );
    // Every ward under a province, every province under the country.
    for (i, a) in e
        .areas()
        .iter()
        .enumerate()
        .filter(|(_, a)| a.level == Level::Ward)
    {
        let mut at = a.parent;
        while let Some(p) = at {
            if e.areas()[p].level == Level::Province {
                break;
            }
            at = e.areas()[p].parent;
        }
        let p = at.unwrap_or_else(|| panic!("ward {} ({i}) under no province", a.code.0));
        assert_eq!(e.areas()[p].parent, Some(0));
    }
    let f = e.figures();
    let sum =
        |what: fn(&phuso::Figures) -> f64| -> f64 { e.figures_at(Level::Province).map(what).sum() };
    assert!((sum(|f| f.population) - f[0].population).abs() < 1e-3);
    assert!((sum(|f| f.households) - f[0].households).abs() < 1e-3);

    // Each province against its own directory: every ward's population, households and area,
    // its name and its former district, and the province's totals.
    let national = bundled().join("national");
    let norms = bundled().join("norms.toml");
    for p in &PROVINCES {
        let dir = scratch(&format!("national_{}", p.code));
        init_province(&national, &norms, p, &dir).unwrap();
        let one = Engine::load(&EngineConfig::for_dir(&dir)).unwrap();
        let mine = e
            .position(p.code)
            .unwrap_or_else(|| panic!("province {}", p.code));
        let (a, b) = (&e.figures()[mine], &one.figures()[0]);
        assert_eq!(
            (a.code.as_str(), a.name.as_str()),
            (b.code.as_str(), b.name.as_str())
        );
        for (x, y, what) in [
            (a.population, b.population, "population"),
            (a.households, b.households, "households"),
            (a.area_km2, b.area_km2, "area"),
        ] {
            assert!(
                (x - y).abs() <= 1e-9 * y.max(1.0),
                "{}: {what} {x} vs {y}",
                p.code
            );
        }
        let wards: BTreeMap<&str, &phuso::Figures> = one
            .figures_at(Level::Ward)
            .map(|f| (f.code.as_str(), f))
            .collect();
        let in_country: Vec<&phuso::Figures> = e
            .figures_at(Level::Ward)
            .filter(|f| wards.contains_key(f.code.as_str()))
            .collect();
        assert_eq!(in_country.len(), wards.len(), "{}: wards", p.code);
        for w in in_country {
            let o = wards[w.code.as_str()];
            assert_eq!(
                (
                    w.name.as_str(),
                    w.parent_code.as_deref(),
                    w.population,
                    w.households,
                    w.area_km2
                ),
                (
                    o.name.as_str(),
                    o.parent_code.as_deref(),
                    o.population,
                    o.households,
                    o.area_km2
                ),
                "{}: ward {}",
                p.code,
                w.code
            );
        }
        assert_eq!(
            e.figures_at(Level::District)
                .filter(|d| d.parent_code.as_deref() == Some(p.code))
                .count(),
            one.figures_at(Level::District).count(),
            "{}: former districts",
            p.code
        );
    }
}

async fn get(state: &Arc<AppState>, uri: &str) -> (StatusCode, Vec<u8>) {
    let res = router(Arc::clone(state), None)
        .oneshot(Request::get(uri).body(Body::empty()).unwrap())
        .await
        .unwrap();
    let status = res.status();
    (
        status,
        res.into_body().collect().await.unwrap().to_bytes().to_vec(),
    )
}

#[tokio::test]
async fn national_tiles_stay_small_and_hold_every_ward_with_the_maps_figures() {
    let (_, e) = country();
    let state = Arc::new(AppState::new(Arc::clone(&e), None));
    let (_, tj) = get(&state, "/tiles/wards.json").await;
    let tj: serde_json::Value = serde_json::from_slice(&tj).unwrap();
    let b: Vec<f64> = tj["bounds"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_f64().unwrap())
        .collect();
    let figures: HashMap<&str, &phuso::Figures> = e
        .figures_at(Level::Ward)
        .map(|f| (f.code.as_str(), f))
        .collect();
    let dir = scratch("national_tiles");
    let mut largest = 0;
    for z in 0..=6u8 {
        let mut seen: HashMap<String, usize> = HashMap::new();
        for t in crate::tiles::tiles_over([b[0], b[1], b[2], b[3]], z) {
            let (status, bytes) =
                get(&state, &format!("/tiles/wards/{}/{}/{}.mvt", t.z, t.x, t.y)).await;
            if status == StatusCode::NO_CONTENT {
                continue;
            }
            assert_eq!(status, StatusCode::OK);
            assert!(bytes.len() < 500 * 1024, "z{z}: {} bytes", bytes.len());
            largest = largest.max(bytes.len());
            if z != 6 {
                continue;
            }
            let decoded = crate::tiles::gdal_decode(&dir, t, &bytes);
            for f in decoded["features"].as_array().unwrap() {
                let p = &f["properties"];
                let code = p["code"].as_str().unwrap();
                *seen.entry(code.to_owned()).or_default() += 1;
                let want = figures[code];
                assert_eq!(p["name"].as_str(), Some(want.name.as_str()));
                assert_eq!(
                    p["members_needed"].as_u64(),
                    Some(want.members_needed),
                    "{code}"
                );
                assert!(
                    (p["population"].as_f64().unwrap() - want.population).abs() < 1e-6,
                    "{code}"
                );
                // Overview tiles carry the map's figures, not the sentences.
                assert!(
                    p.get("reason").is_none() && p.get("visits_qr_payment").is_none(),
                    "{code}: {p}"
                );
            }
        }
        if z == 6 {
            // Every ward with an area of more than a pixel is drawn in some tile at zoom 6.
            let missing: Vec<&str> = figures
                .iter()
                .filter(|(c, f)| f.area_km2 > 1.0 && !seen.contains_key(**c))
                .map(|(c, _)| *c)
                .collect();
            assert!(missing.is_empty(), "wards in no tile at z6: {missing:?}");
            assert!(seen.len() > 3_200, "{} wards at z6", seen.len());
        }
    }
    assert!(
        largest > 100 * 1024,
        "the test looks at real tiles: {largest}"
    );
    // From zoom 8 on, the reasons are there.
    // The tile over Thuận An (Hồ Chí Minh City).
    let t = crate::tiles::tiles_over([106.65, 10.98, 106.65, 10.98], 8)[0];
    let (status, bytes) = get(&state, &format!("/tiles/wards/8/{}/{}.mvt", t.x, t.y)).await;
    assert_eq!(status, StatusCode::OK);
    let decoded = crate::tiles::gdal_decode(&dir, t, &bytes);
    assert!(
        decoded["features"]
            .as_array()
            .unwrap()
            .iter()
            .all(|f| f["properties"]["reason_vi"].is_string())
    );
}
