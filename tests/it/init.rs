//! `phuso init` for every one of the 34 provinces, checked against sums computed here from the
//! national files (the 2019 census total is the published one), and the derived crosswalk
//! against the hand-made one of Bình Dương.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use phuso::ingest::national::init_province;
use phuso::ingest::provinces::PROVINCES;
use phuso::{Engine, EngineConfig, Level};

use crate::{bundled, phuso, scratch};

/// The national census: households and population per pre-2025 province.
fn census_by_old_province() -> HashMap<String, (f64, f64)> {
    let mut out: HashMap<String, (f64, f64)> = HashMap::new();
    let mut r =
        csv::Reader::from_path(bundled().join("national/vietnam_wards_2019_census.csv")).unwrap();
    let h = r.headers().unwrap().clone();
    let col = |n: &str| h.iter().position(|c| c == n).unwrap();
    let (p, name, hh, pop) = (
        col("province_code"),
        col("province_name"),
        col("households_2019"),
        col("pop_2019_total"),
    );
    let rows: Vec<csv::StringRecord> = r.records().map(Result::unwrap).collect();
    // 16 rows have no codes; their province's name says which it is.
    let code_of: HashMap<String, String> = rows
        .iter()
        .filter(|r| !r[p].is_empty())
        .map(|r| (r[name].to_owned(), r[p].to_owned()))
        .collect();
    for rec in rows {
        let code = if rec[p].is_empty() {
            code_of[&rec[name]].clone()
        } else {
            rec[p].to_owned()
        };
        let e = out.entry(code).or_default();
        e.0 += rec[hh].parse::<f64>().unwrap();
        e.1 += rec[pop].parse::<f64>().unwrap();
    }
    out
}

#[test]
fn init_sets_up_every_province_with_every_ward_once_and_the_census_accounted_for() {
    let national = bundled().join("national");
    let norms = bundled().join("norms.toml");
    let census = census_by_old_province();
    let doc: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(national.join("vietnam_wards_2025.geojson")).unwrap(),
    )
    .unwrap();
    let mut wards_of: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for f in doc["features"].as_array().unwrap() {
        let p = &f["properties"];
        wards_of
            .entry(p["province_code"].as_str().unwrap().to_owned())
            .or_default()
            .push(p["code"].as_str().unwrap().to_owned());
    }
    assert_eq!(wards_of.len(), 34);
    let (mut households, mut wards) = (0.0, 0);
    let mut shares = Vec::new();
    for p in &PROVINCES {
        let out = scratch(&format!("init_{}", p.code));
        let r = init_province(&national, &norms, p, &out).unwrap();
        // The census of its former provinces, all of it, is accounted for: in a ward or reported.
        let expected: f64 = p.formed_from.iter().map(|o| census[*o].0).sum();
        assert_eq!(r.households_2019, expected, "{}", p.code);
        let e = Engine::load(&EngineConfig::for_dir(&out)).unwrap();
        let mut codes: Vec<String> = e.figures_at(Level::Ward).map(|f| f.code.clone()).collect();
        let n = codes.len();
        codes.sort();
        codes.dedup();
        assert_eq!(codes.len(), n, "{}: a ward twice", p.code);
        let mut want = wards_of[p.code].clone();
        want.sort();
        assert_eq!(codes, want, "{}: wards", p.code);
        let in_wards: f64 = e.figures_at(Level::Ward).map(|f| f.households).sum();
        assert!(
            (in_wards - (r.households_2019 - r.households_unmatched)).abs() < 0.5,
            "{}: {in_wards} households in wards, {} − {} expected",
            p.code,
            r.households_2019,
            r.households_unmatched
        );
        // With no roster and no visits yet.
        let province = e.figures_at(Level::Province).next().unwrap();
        assert_eq!((province.visits, province.teams), (0, 0));
        assert_eq!(province.code, p.code);
        households += r.households_2019;
        wards += r.wards;
        shares.push((p.code, r.unmatched_share));
    }
    // Every unit of the census in exactly one province: the published national total.
    assert_eq!(households, 26_870_079.0);
    assert_eq!(wards, 3_321);
    // A regression guard on the matching (today's worst: Hải Phòng, whose early-2025 mergers
    // are newer than the census' change list).
    for (code, share) in shares {
        assert!(
            share < 0.22,
            "{code}: {:.1} % of households unmatched",
            100.0 * share
        );
    }
}

#[test]
fn the_derived_crosswalk_agrees_with_the_hand_made_one_of_binh_duong() {
    let out = scratch("init_binh_duong");
    let p = phuso::ingest::provinces::find("79").unwrap();
    init_province(
        &bundled().join("national"),
        &bundled().join("norms.toml"),
        p,
        &out,
    )
    .unwrap();
    let read =
        |path: &std::path::Path, filter: bool| -> BTreeMap<String, (BTreeSet<String>, f64)> {
            let mut r = csv::Reader::from_path(path).unwrap();
            let h = r.headers().unwrap().clone();
            let col = |n: &str| h.iter().position(|c| c == n);
            let old = col("province_code_2019");
            r.records()
                .map(Result::unwrap)
                .filter(|rec| !filter || old.is_some_and(|i| &rec[i] == "74"))
                .map(|rec| {
                    (
                        rec[col("gso_code_2019").unwrap()].to_owned(),
                        (
                            rec[col("new_ward_code_2025").unwrap()]
                                .split(';')
                                .map(str::to_owned)
                                .collect(),
                            rec[col("households_2019").unwrap()].parse().unwrap(),
                        ),
                    )
                })
                .collect()
        };
    let derived = read(&out.join("census_2019.csv"), true);
    let hand = read(&bundled().join("census_2019.csv"), false);
    assert_eq!(hand.len(), 91);
    assert_eq!(
        derived.keys().collect::<Vec<_>>(),
        hand.keys().collect::<Vec<_>>()
    );
    let differ: Vec<&String> = hand
        .keys()
        .filter(|k| hand[*k].0 != derived[*k].0)
        .collect();
    // Every one of the 91 goes to the same wards. (Two that share their names with units of
    // Bà Rịa – Vũng Tàu, Phường Phú Mỹ and Xã Thanh An, are told apart by the texts' district
    // qualifier and by diacritics: Thạnh An of Cần Giờ is not Thanh An of Dầu Tiếng.)
    assert!(differ.is_empty(), "differ: {differ:?}");
    // Households per 2025 ward: equal, ward by ward.
    let per = |m: &BTreeMap<String, (BTreeSet<String>, f64)>| {
        let mut o: BTreeMap<String, f64> = BTreeMap::new();
        for (wards, h) in m.values() {
            for w in wards {
                *o.entry(w.clone()).or_default() += h / wards.len() as f64;
            }
        }
        o
    };
    let (a, b) = (per(&derived), per(&hand));
    assert_eq!(a.len(), 36);
    for (w, h) in &b {
        assert!(
            (a[w] - h).abs() < 1e-6,
            "{w}: derived {} vs hand-made {h}",
            a[w]
        );
    }
    // The hand-made total.
    assert_eq!(b.values().sum::<f64>().round(), 832_087.0);
}

#[test]
fn init_on_the_command_line() {
    let out = scratch("init_cli");
    let (code, stdout, stderr) = phuso(&[
        "init",
        "--province",
        "ha noi",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stdout.starts_with("01 Thành phố Hà Nội: 126 wards"),
        "{stdout}"
    );
    // Not over a data directory already there.
    let (code, _, stderr) = phuso(&["init", "--province", "01", "--out", out.to_str().unwrap()]);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("--force"), "{stderr}");
    // An unknown province, with the list to choose from.
    let (code, _, stderr) = phuso(&["init", "--province", "74", "--out", "x"]);
    assert_eq!(code, 2);
    assert!(
        stderr.contains("no such province") && stderr.contains("79 Thành phố Hồ Chí Minh"),
        "{stderr}"
    );
    // The report runs on it, at ward level.
    let (code, stdout, stderr) =
        phuso(&["report", "--data", out.to_str().unwrap(), "--limit", "3"]);
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.contains("126 areas at level ward"), "{stdout}");
}

#[tokio::test]
async fn a_province_without_visits_says_no_data_yet_not_zero() {
    use axum::body::Body;
    use axum::http::Request;
    use http_body_util::BodyExt;
    use tower::ServiceExt;
    let out = scratch("init_no_data");
    let p = phuso::ingest::provinces::find("cao bang").unwrap();
    init_province(
        &bundled().join("national"),
        &bundled().join("norms.toml"),
        p,
        &out,
    )
    .unwrap();
    let e = std::sync::Arc::new(Engine::load(&EngineConfig::for_dir(&out)).unwrap());
    assert!(!e.has_visits() && !e.synthetic());
    let state = std::sync::Arc::new(phuso::api::AppState::new(e, None));
    let get = |state: &std::sync::Arc<phuso::api::AppState>, uri: &'static str| {
        let app = phuso::api::router(std::sync::Arc::clone(state), None);
        async move {
            let res = app
                .oneshot(Request::get(uri).body(Body::empty()).unwrap())
                .await
                .unwrap();
            let bytes = res.into_body().collect().await.unwrap().to_bytes();
            serde_json::from_slice::<serde_json::Value>(&bytes).unwrap()
        }
    };
    let s = get(&state, "/api/summary").await;
    assert_eq!(s["synthetic"], false);
    assert_eq!(s["data"]["visits"], false);
    assert_eq!(s["data"]["teams"], 0);
    assert_eq!(s["data"]["neighbourhoods"], 0);
    assert_eq!(s["counts"]["ward"], 56);
    let d = get(&state, "/api/priorities?level=ward&limit=100").await;
    for item in d["items"].as_array().unwrap() {
        assert!(item["coverage_ratio"].is_null(), "{item}");
        assert!(
            item["reason"]
                .as_str()
                .unwrap()
                .starts_with("No visits yet"),
            "{}",
            item["reason"]
        );
        assert!(
            item["reason_vi"]
                .as_str()
                .unwrap()
                .starts_with("Chưa có lượt")
        );
    }
    // The bundled demo says it is synthetic and has visits.
    let bundled_state =
        std::sync::Arc::new(phuso::api::AppState::new(crate::bundled_engine(), None));
    let s = get(&bundled_state, "/api/summary").await;
    assert_eq!(
        (s["synthetic"].clone(), s["data"]["visits"].clone()),
        (true.into(), true.into())
    );
    assert_eq!(s["data"]["neighbourhoods"], 586);
}

#[test]
fn a_bad_census_value_is_named_not_read_as_zero() {
    let national = scratch("init_bad_census");
    std::fs::copy(
        bundled().join("national/vietnam_wards_2025.geojson"),
        national.join("vietnam_wards_2025.geojson"),
    )
    .unwrap();
    // Phúc Xá (Hà Nội, the first data row, line 2) with households "5,863".
    let census =
        std::fs::read_to_string(bundled().join("national/vietnam_wards_2019_census.csv")).unwrap();
    let mut lines: Vec<String> = census.lines().map(str::to_owned).collect();
    assert!(lines[1].contains(",5863,5863,"), "{}", lines[1]);
    lines[1] = lines[1].replacen(",5863,5863,", ",\"5,863\",5863,", 1);
    std::fs::write(
        national.join("vietnam_wards_2019_census.csv"),
        lines.join("\n"),
    )
    .unwrap();
    let out = scratch("init_bad_census_out");
    let (code, _, stderr) = phuso(&[
        "init",
        "--province",
        "01",
        "--national",
        national.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.contains("vietnam_wards_2019_census.csv")
            && stderr.contains("line 2: column `households_2019`: value \"5,863\""),
        "{stderr}"
    );
    assert!(!out.join("census_2019.csv").exists());
}
