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
use phuso::api::{AppState, router};
use phuso::disclosure::DEFAULT_MIN_COUNT as K;
use serde_json::Value;
use tower::ServiceExt;

use crate::bundled_engine;

fn state() -> Arc<AppState> {
    static STATE: OnceLock<Arc<AppState>> = OnceLock::new();
    STATE
        .get_or_init(|| Arc::new(AppState::new(bundled_engine(), None)))
        .clone()
}

async fn json(uri: &str) -> Value {
    let res = router(state(), None)
        .oneshot(Request::get(uri).body(Body::empty()).unwrap())
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK, "{uri}");
    serde_json::from_slice(&res.into_body().collect().await.unwrap().to_bytes()).unwrap()
}

/// What the adversary knows and the sums it believes: `total = Σ parts`.
#[derive(Default)]
struct Adversary {
    known: HashMap<String, u64>,
    unknown: HashSet<String>,
    sums: Vec<(String, Vec<String>)>,
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
            if !changed {
                return learnt;
            }
        }
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

#[tokio::test]
async fn no_area_count_below_k_can_be_worked_out() {
    let e = bundled_engine();
    let w = phuso::metrics::window(e.campaign(), e.as_of_day());
    let days = (e.as_of_day() + 1) as usize;
    let services: Vec<&str> = phuso::Service::ALL.iter().map(|s| s.as_str()).collect();
    let mut adv = Adversary::default();
    let mut withheld_small = 0;
    for (i, a) in e.areas().iter().enumerate() {
        let code = a.code.as_str();
        let d = json(&format!("/api/areas/{code}")).await;
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
                    .map(|&j| format!("{}/{q}", e.areas()[j].code.as_str()))
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
    assert!(withheld_small > 0, "the bundled data has area-days below k");
    eprintln!(
        "published counts: {} shown, {} withheld; {withheld_small} area-days with fewer than {K} new households",
        adv.known.len(),
        adv.unknown.len()
    );
    assert!(!adv.unknown.is_empty());
    let learnt = adv.solve();
    // The adversary may learn a count of k or more (or what lies outside the children), never
    // a count below k.
    for (key, v) in &learnt {
        assert!(
            *v >= K as i64 || (key.contains("/rest/") && *v == 0),
            "{key} worked out as {v}"
        );
    }
    for (total, gap) in adv.gaps() {
        assert!(
            gap == 0 || gap >= K as i64,
            "{total}: the withheld parts hold {gap}"
        );
    }
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
