//! The small-count rule, played by an adversary who reads every answer of the API on the
//! bundled data and subtracts: parent minus shown children (the area tree and two H3
//! resolutions), consecutive days of a series, totals minus services, differencing two boxes.
//! The adversary's sums are written here from the published meaning of the figures, not taken
//! from the rule's own table. It solves every sum with one unknown, again and again; nothing it
//! learns may be a count below k, and every sum's unknowns together must hold k or more.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, OnceLock};

use axum::body::Body;
use axum::http::{Request, StatusCode};
use http_body_util::BodyExt;
use phuso::api::live::{Live, ReadAccess};
use phuso::api::{AppState, router, router_live};
use phuso::disclosure::DEFAULT_MIN_COUNT as K;
use serde_json::Value;
use tower::ServiceExt;

use crate::{bundled, bundled_engine, scratch};

fn state() -> Arc<AppState> {
    static STATE: OnceLock<Arc<AppState>> = OnceLock::new();
    STATE
        .get_or_init(|| Arc::new(AppState::new(bundled_engine(), None)))
        .clone()
}

async fn json(uri: &str) -> Value {
    Get::Static.json(uri).await
}

/// Where the answers come from: the bundled snapshot, or a live server over a store.
enum Get {
    Static,
    Live(Arc<Live>),
}

impl Get {
    async fn json(&self, uri: &str) -> Value {
        let app = match self {
            Self::Static => router(state(), None),
            Self::Live(live) => router_live(Arc::clone(live), None),
        };
        let res = app
            .oneshot(Request::get(uri).body(Body::empty()).unwrap())
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::OK, "{uri}");
        serde_json::from_slice(&res.into_body().collect().await.unwrap().to_bytes()).unwrap()
    }
}

/// What the adversary knows and the sums it believes: `total = Σ parts`, and across two
/// snapshots `step = after − before`.
#[derive(Default)]
struct Adversary {
    known: HashMap<String, u64>,
    unknown: HashSet<String>,
    sums: Vec<(String, Vec<String>)>,
    steps: Vec<(String, String, String)>,
}

impl Adversary {
    fn read(&mut self, key: String, v: &Value) {
        match v.as_u64() {
            Some(n) => {
                self.known.insert(key, n);
            }
            None => {
                assert!(v.is_null(), "{key}: {v}");
                self.unknown.insert(key);
            }
        }
    }

    /// Solves every sum with exactly one unknown until nothing changes; returns what it learnt.
    fn solve(&mut self) -> HashMap<String, i64> {
        let mut learnt = HashMap::new();
        loop {
            let mut changed = false;
            for (total, parts) in &self.sums {
                let all: Vec<&String> = std::iter::once(total).chain(parts).collect();
                let missing: Vec<&&String> = all
                    .iter()
                    .filter(|k| !self.known.contains_key(**k))
                    .collect();
                if missing.len() != 1 {
                    continue;
                }
                let m = (**missing[0]).clone();
                let sum_parts: i64 = parts
                    .iter()
                    .filter(|p| **p != m)
                    .map(|p| self.known[p] as i64)
                    .sum();
                let value = if *total == m {
                    sum_parts
                } else {
                    self.known[total] as i64 - sum_parts
                };
                learnt.insert(m.clone(), value);
                self.known.insert(m, value.max(0) as u64);
                changed = true;
            }
            for (step, after, before) in &self.steps {
                let (s, a, b) = (
                    self.known.get(step).map(|&v| v as i64),
                    self.known.get(after).map(|&v| v as i64),
                    self.known.get(before).map(|&v| v as i64),
                );
                let (m, value) = match (s, a, b) {
                    (None, Some(a), Some(b)) => (step, a - b),
                    (Some(s), None, Some(b)) => (after, b + s),
                    (Some(s), Some(a), None) => (before, a - s),
                    _ => continue,
                };
                learnt.insert(m.clone(), value);
                self.known.insert(m.clone(), value.max(0) as u64);
                changed = true;
            }
            if !changed {
                return learnt;
            }
        }
    }

    /// Solves what it can over the areas and asserts that it learnt no count below k (what lies
    /// outside a parent's children may be 0), no step between two snapshots of 1 to k − 1, and
    /// that the unknowns of every sum with a known total hold 0 or k or more. Returns how many
    /// values, and how many steps, it worked out.
    fn learns_nothing_small(&mut self) -> (usize, usize) {
        let learnt = self.solve();
        let mut steps = 0;
        for (key, v) in &learnt {
            if key.starts_with("step:") {
                steps += 1;
                assert!(*v == 0 || *v >= K as i64, "{key} worked out as {v}");
            } else {
                assert!(
                    *v >= K as i64 || (key.contains("/rest/") && *v == 0),
                    "{key} worked out as {v}"
                );
            }
        }
        for (total, gap) in self.gaps() {
            assert!(
                gap == 0 || gap >= K as i64,
                "{total}: the withheld parts hold {gap}"
            );
        }
        (learnt.len(), steps)
    }

    /// The sums whose total is known: what their unknown parts hold together.
    fn gaps(&self) -> Vec<(String, i64)> {
        self.sums
            .iter()
            .filter(|(t, parts)| {
                self.known.contains_key(t) && parts.iter().any(|p| !self.known.contains_key(p))
            })
            .map(|(t, parts)| {
                let shown: i64 = parts
                    .iter()
                    .filter_map(|p| self.known.get(p))
                    .map(|&v| v as i64)
                    .sum();
                (t.clone(), self.known[t] as i64 - shown)
            })
            .collect()
    }
}

/// Reads every area's figures and series from `get` into `adv` (keys prefixed `tag`), with the
/// sums their published meaning gives; returns how many area-days below k it saw withheld.
async fn read_areas(get: &Get, e: &phuso::Engine, adv: &mut Adversary, tag: &str) -> usize {
    let w = phuso::metrics::window(e.campaign(), e.as_of_day());
    let days = (e.as_of_day() + 1) as usize;
    let services: Vec<&str> = phuso::Service::ALL.iter().map(|s| s.as_str()).collect();
    let mut withheld_small = 0;
    for (i, a) in e.areas().iter().enumerate() {
        let d = get.json(&format!("/api/areas/{}", a.code.as_str())).await;
        let code = &format!("{tag}{}", a.code.as_str());
        assert_eq!(d["full"], false);
        let p = &d["area"];
        adv.read(format!("{code}/households"), &p["households_reached"]);
        adv.read(format!("{code}/visits"), &p["visits"]);
        for s in &services {
            adv.read(format!("{code}/{s}"), &p[format!("visits_{s}")]);
        }
        // The pace is the window's new households over its days.
        let window_new = p["new_households_per_day"]
            .as_f64()
            .map(|r| Value::from((r * w.1 as f64).round() as u64))
            .unwrap_or(Value::Null);
        adv.read(format!("{code}/window"), &window_new);
        let series = &d["series"];
        assert!(series.get("per_service").is_none());
        for day in 0..days {
            adv.read(format!("{code}/new/{day}"), &series["new_households"][day]);
            adv.read(
                format!("{code}/cum/{day}"),
                &series["households_reached"][day],
            );
            adv.read(format!("{code}/dv/{day}"), &series["visits"][day]);
        }
        // Consecutive days, totals, services, the window.
        for day in 0..days {
            let mut parts = vec![format!("{code}/new/{day}")];
            if day > 0 {
                parts.push(format!("{code}/cum/{}", day - 1));
            }
            adv.sums.push((format!("{code}/cum/{day}"), parts));
        }
        adv.sums.push((
            format!("{code}/households"),
            vec![format!("{code}/cum/{}", days - 1)],
        ));
        adv.sums.push((
            format!("{code}/visits"),
            (0..days).map(|d| format!("{code}/dv/{d}")).collect(),
        ));
        adv.sums.push((
            format!("{code}/visits"),
            services.iter().map(|s| format!("{code}/{s}")).collect(),
        ));
        adv.sums.push((
            format!("{code}/window"),
            (w.0..w.0 + w.1)
                .map(|d| format!("{code}/new/{d}"))
                .collect(),
        ));
        // Parent minus children (what lies in the parent outside them is one more unknown).
        if !a.children.is_empty() {
            let mut quantities = vec![
                "households".to_owned(),
                "visits".to_owned(),
                "window".to_owned(),
            ];
            quantities.extend(services.iter().map(|s| (*s).to_owned()));
            for day in 0..days {
                quantities.extend([
                    format!("new/{day}"),
                    format!("cum/{day}"),
                    format!("dv/{day}"),
                ]);
            }
            for q in quantities {
                let mut parts: Vec<String> = a
                    .children
                    .iter()
                    .map(|&j| format!("{tag}{}/{q}", e.areas()[j].code.as_str()))
                    .collect();
                parts.push(format!("{code}/rest/{q}"));
                adv.sums.push((format!("{code}/{q}"), parts));
            }
        }
        let t = &e.totals()[i];
        if t.households_reached < K {
            assert!(
                p["households_reached"].is_null(),
                "{code}: {} shown",
                t.households_reached
            );
            assert!(p["coverage_ratio"].is_null() && p["days_to_target"].is_null());
        }
        for (day, &n) in t.daily_new_households.iter().take(days).enumerate() {
            if n < K {
                withheld_small += 1;
                assert!(
                    series["new_households"][day].is_null(),
                    "{code} day {day}: {n} shown"
                );
            }
        }
    }
    withheld_small
}

#[tokio::test]
async fn no_area_count_below_k_can_be_worked_out() {
    let e = bundled_engine();
    let mut adv = Adversary::default();
    let withheld_small = read_areas(&Get::Static, &e, &mut adv, "").await;
    assert!(withheld_small > 0, "the bundled data has area-days below k");
    eprintln!(
        "published counts: {} shown, {} withheld; {withheld_small} area-days with fewer than {K} new households",
        adv.known.len(),
        adv.unknown.len()
    );
    assert!(!adv.unknown.is_empty());
    adv.learns_nothing_small();
}

#[tokio::test]
async fn no_cell_count_below_k_can_be_worked_out_across_resolutions_or_boxes() {
    // A box around Thủ Dầu Một at every resolution, and a second, overlapping box.
    let a = "106.62,10.95,106.72,11.03";
    let b = "106.66,10.97,106.76,11.05";
    let mut adv = Adversary::default();
    let mut cells: HashMap<u8, Vec<(h3o::CellIndex, Value)>> = HashMap::new();
    let mut seen: HashSet<String> = HashSet::new();
    let mut overlaps = 0;
    for res in 6..=10u8 {
        let da = json(&format!("/api/hexes?res={res}&bbox={a}")).await;
        let db = json(&format!("/api/hexes?res={res}&bbox={b}")).await;
        let by_cell = |d: &Value| -> HashMap<String, Value> {
            d["features"]
                .as_array()
                .unwrap()
                .iter()
                .map(|f| {
                    (
                        f["id"].as_str().unwrap().to_owned(),
                        f["properties"].clone(),
                    )
                })
                .collect()
        };
        let (ma, mb) = (by_cell(&da), by_cell(&db));
        // Differencing two boxes: a cell in both says the same in both.
        let both: Vec<&String> = ma.keys().filter(|c| mb.contains_key(*c)).collect();
        overlaps += both.len();
        for c in both {
            assert_eq!(ma[c], mb[c], "cell {c} differs between boxes");
        }
        let mut list = Vec::new();
        for (c, p) in ma.into_iter().chain(mb) {
            if !seen.insert(c.clone()) {
                continue;
            }
            adv.read(format!("{c}/households"), &p["households"]);
            adv.read(format!("{c}/visits"), &p["visits"]);
            if p["suppressed"] == false {
                assert!(p["households"].as_u64().unwrap() >= K);
            } else {
                assert!(p["population_est"].is_null());
            }
            list.push((c.parse().unwrap(), p));
        }
        cells.insert(res, list);
    }
    assert!(overlaps > 100, "{overlaps} cells in both boxes");
    eprintln!(
        "H3 counts in the boxes: {} shown, {} withheld",
        adv.known.len(),
        adv.unknown.len()
    );
    // Two resolutions: a cell and its seven children one resolution finer, when every child's
    // centre lies in the first box (an unlisted child then holds nothing).
    let (w, s, e, n) = (106.62, 10.95, 106.72, 11.03);
    let inside = |c: h3o::CellIndex| {
        let ll = h3o::LatLng::from(c);
        (w..=e).contains(&ll.lng()) && (s..=n).contains(&ll.lat())
    };
    for res in 6..10u8 {
        let finer = h3o::Resolution::try_from(res + 1).unwrap();
        let listed: HashSet<h3o::CellIndex> = cells[&(res + 1)].iter().map(|(c, _)| *c).collect();
        let mut relations = 0;
        for (parent, _) in &cells[&res] {
            let children: Vec<h3o::CellIndex> = parent.children(finer).collect();
            if !children.iter().all(|&c| inside(c)) {
                continue;
            }
            for q in ["households", "visits"] {
                for c in &children {
                    if !listed.contains(c) {
                        adv.known.insert(format!("{c}/{q}"), 0);
                    }
                }
                adv.sums.push((
                    format!("{parent}/{q}"),
                    children.iter().map(|c| format!("{c}/{q}")).collect(),
                ));
            }
            relations += 1;
        }
        assert!(
            relations > 0,
            "resolution {res}: no cell with all its children in the box"
        );
    }
    assert!(!adv.unknown.is_empty());
    let learnt = adv.solve();
    for (key, v) in &learnt {
        // Cells nest only approximately, so what is "learnt" is an estimate; none is small.
        assert!(*v >= K as i64 || *v < 0, "{key} worked out as {v}");
    }
    for (total, gap) in adv.gaps() {
        assert!(
            gap <= 0 || gap >= K as i64,
            "{total}: the withheld children hold {gap}"
        );
    }
}

#[tokio::test]
async fn a_withheld_pace_says_why() {
    let e = bundled_engine();
    // An area whose recent window is withheld (its pace and projections with it).
    let d = json("/api/priorities?level=neighbourhood&limit=5000").await;
    let items = d["items"].as_array().unwrap();
    let withheld: Vec<&Value> = items.iter().filter(|p| p["withheld"] == true).collect();
    assert!(
        !withheld.is_empty(),
        "no neighbourhood with a withheld pace"
    );
    for p in withheld {
        let i = e.position(p["code"].as_str().unwrap()).unwrap();
        let w = state().rule().withheld(i);
        assert!(w.households || w.window_new);
        if w.window_new {
            assert!(p["new_households_per_day"].is_null());
        }
        // What is projected from households reached and the pace goes with either.
        for name in [
            "days_to_target",
            "projected_completion",
            "on_track",
            "completion_optimistic",
        ] {
            assert!(p[name].is_null(), "{}: {name} = {}", p["code"], p[name]);
        }
        // The rule's sentence instead of what is withheld, in both languages.
        let (en, vi) = (
            p["reason"].as_str().unwrap(),
            p["reason_vi"].as_str().unwrap(),
        );
        if w.households {
            assert!(!en.contains('%') && vi.contains("dưới 5 hộ"), "{en} / {vi}");
        } else {
            assert!(
                en.ends_with("recent pace withheld (fewer than 5 new households)"),
                "{en}"
            );
            assert!(
                !en.contains(" by 20") && vi.contains("dưới 5 hộ mới"),
                "{en} / {vi}"
            );
        }
    }
    assert_eq!(
        items.len(),
        e.figures_at(phuso::Level::Neighbourhood).count()
    );
}

/// H3 cells of `bbox` at resolutions 8–10: (households, visits) as published.
async fn read_cells(get: &Get, bbox: &str) -> HashMap<String, (Value, Value)> {
    let mut out = HashMap::new();
    for res in 8..=10 {
        let d = get.json(&format!("/api/hexes?res={res}&bbox={bbox}")).await;
        for f in d["features"].as_array().unwrap() {
            let p = &f["properties"];
            out.insert(
                f["id"].as_str().unwrap().to_owned(),
                (p["households"].clone(), p["visits"].clone()),
            );
        }
    }
    out
}

#[tokio::test]
async fn two_snapshots_differenced_say_nothing_below_k() {
    use geo::InteriorPoint;
    // A live server over a store of the bundled data.
    let dir = scratch("disclosure_two_snapshots");
    let mut store = phuso::store::Store::open(&dir.join("s.db"), true).unwrap();
    store.import_dir(&bundled(), &|_| {}).unwrap();
    let (_, admin) = store
        .create_token(phuso::store::tokens::Role::Admin, &[], "admin")
        .unwrap();
    let live = Live::with_store(
        store,
        phuso::PopulationSource::default(),
        None,
        ReadAccess::Open,
        K,
    )
    .unwrap();
    let get = Get::Live(Arc::clone(&live));
    let bbox = "106.62,10.95,106.72,11.03";
    let e1 = Arc::clone(live.current().engine());
    let mut adv = Adversary::default();
    read_areas(&get, &e1, &mut adv, "1:").await;
    let cells1 = read_cells(&get, bbox).await;

    // An upload on the last day: 2 new households in one neighbourhood, 5 in a second of the
    // same ward, 6 in a third; the ward grows by 13. The first moves by less than k; were only
    // the snapshot's own sums protected, the ward's step minus the shown steps would give it.
    let inside =
        |p: geo::Point<f64>| (106.62..=106.72).contains(&p.x()) && (10.95..=11.03).contains(&p.y());
    let ward = e1
        .areas()
        .iter()
        .find(|a| {
            a.level == phuso::Level::Ward
                && a.children
                    .iter()
                    .filter(|&&j| {
                        e1.areas()[j]
                            .geometry
                            .as_ref()
                            .and_then(InteriorPoint::interior_point)
                            .is_some_and(inside)
                    })
                    .count()
                    >= 3
        })
        .expect("a ward with three neighbourhoods in the box");
    let (codes, points): (Vec<String>, Vec<geo::Point<f64>>) = ward
        .children
        .iter()
        .filter_map(|&j| {
            let a = &e1.areas()[j];
            Some((
                a.code.as_str().to_owned(),
                a.geometry.as_ref()?.interior_point()?,
            ))
        })
        .filter(|&(_, p)| inside(p))
        .take(3)
        .unzip();
    let team = std::fs::read_to_string(bundled().join("synthetic/teams.csv")).unwrap();
    let team = team
        .lines()
        .nth(1)
        .unwrap()
        .split(',')
        .next()
        .unwrap()
        .to_owned();
    let day = e1.campaign().start + chrono::Days::new(u64::from(e1.as_of_day()));
    let mut csv = String::from("visit_id,team_id,lon,lat,ts,household_id,service\n");
    let mut id = 900_000_000u64;
    for (p, n) in points.iter().zip([2, 5, 6]) {
        for h in 0..n {
            id += 1;
            csv.push_str(&format!(
                "{id},{team},{:.7},{:.7},{day}T10:00:00+07:00,adv-{id}-{h},vneid_install\n",
                p.x(),
                p.y()
            ));
        }
    }
    let res = router_live(Arc::clone(&live), None)
        .oneshot(
            Request::post("/api/visits")
                .header("authorization", format!("Bearer {admin}"))
                .header("content-type", "text/csv")
                .header("idempotency-key", "adversary-1")
                .body(Body::from(csv))
                .unwrap(),
        )
        .await
        .unwrap();
    let status = res.status();
    let receipt: Value =
        serde_json::from_slice(&res.into_body().collect().await.unwrap().to_bytes()).unwrap();
    assert_eq!(status, StatusCode::OK, "{receipt}");
    assert_eq!(receipt["rows_accepted"], 13, "{receipt}");
    let until = std::time::Instant::now() + std::time::Duration::from_secs(120);
    while live.rebuilding() {
        assert!(std::time::Instant::now() < until, "the batch did not show");
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    let e2 = Arc::clone(live.current().engine());
    assert_eq!(e2.as_of_day(), e1.as_of_day());
    // The neighbourhood that moved by 2 is withheld until it moves by k or more since shown.
    let small = |d: &Value| d["area"]["households_reached"].clone();
    let first = get.json(&format!("/api/areas/{}", codes[0])).await;
    assert!(small(&first).is_null(), "{}: {}", codes[0], small(&first));
    let w = e2.position(ward.code.as_str()).unwrap();
    let wi = e1.position(ward.code.as_str()).unwrap();
    assert_eq!(
        e2.totals()[w].households_reached,
        e1.totals()[wi].households_reached + 13
    );
    let before: HashSet<String> = adv.known.keys().chain(&adv.unknown).cloned().collect();
    let sums1: HashSet<(String, Vec<String>)> = adv.sums.iter().cloned().collect();
    read_areas(&get, &e2, &mut adv, "2:").await;
    let cells2 = read_cells(&get, bbox).await;

    // Each count shown in both snapshots moved by 0 or by k or more.
    let mut compared = 0;
    let mut moved = 0;
    for key in &before {
        let Some(after_key) = key.strip_prefix("1:").map(|k| format!("2:{k}")) else {
            continue;
        };
        if let (Some(&a), Some(&b)) = (adv.known.get(key), adv.known.get(&after_key)) {
            compared += 1;
            let step = b.abs_diff(a);
            moved += usize::from(step > 0);
            assert!(step == 0 || step >= K, "{key}: {a} then {b}");
        }
    }
    assert!(
        compared > 10_000 && moved > 0,
        "{compared} compared, {moved} moved"
    );
    let mut cells_moved = 0;
    for (cell, (h1, v1)) in &cells1 {
        let Some((h2, v2)) = cells2.get(cell) else {
            continue;
        };
        for (a, b) in [(h1, h2), (v1, v2)] {
            if let (Some(a), Some(b)) = (a.as_u64(), b.as_u64()) {
                let step = b.abs_diff(a);
                cells_moved += usize::from(step > 0);
                assert!(step == 0 || step >= K, "cell {cell}: {a} then {b}");
            }
        }
    }
    eprintln!(
        "two snapshots: {compared} area counts shown in both, {moved} moved; {cells_moved} H3 counts moved"
    );

    // The adversary's sums of both snapshots, each count's step between them, and the sums of
    // steps (a difference of two sums is the sum of the differences).
    let mut names: HashSet<String> = HashSet::new();
    for (t, parts) in &adv.sums {
        names.insert(t.clone());
        names.extend(parts.iter().cloned());
    }
    for name in &names {
        if let Some(k) = name.strip_prefix("2:") {
            adv.steps
                .push((format!("step:{k}"), name.clone(), format!("1:{k}")));
        }
    }
    let step_sums: Vec<(String, Vec<String>)> = adv
        .sums
        .iter()
        .filter(|(t, _)| t.starts_with("2:"))
        .filter(|(t, parts)| {
            let back = |k: &String| format!("1:{}", &k[2..]);
            sums1.contains(&(back(t), parts.iter().map(back).collect()))
        })
        .map(|(t, parts)| {
            let step = |k: &String| format!("step:{}", &k[2..]);
            (step(t), parts.iter().map(step).collect())
        })
        .collect();
    assert!(
        step_sums.len() > 10_000,
        "{} sums of steps",
        step_sums.len()
    );
    adv.sums.extend(step_sums);
    let (learnt, steps_learnt) = adv.learns_nothing_small();
    eprintln!("the adversary worked out {learnt} values ({steps_learnt} steps)");
}
