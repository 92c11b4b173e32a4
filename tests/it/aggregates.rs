//! The visits as integer aggregates (what `phuso-spark report` computes on a cluster): the
//! figures from them equal a load of the visits themselves, on the bundled campaign and on the
//! hand-counted tiny one; aggregates that do not fit the campaign are refused by name.

use phuso::Level;
use phuso::engine::{Aggregates, Engine, EngineConfig, Tally};

use crate::{bundled, fixture, phuso, scratch};

fn tiny_config() -> EngineConfig {
    let dir = fixture("tiny");
    let mut config = EngineConfig::for_dir(&dir);
    config.paths.visits = dir.join("synthetic/visits.csv");
    config
}

fn live(config: &EngineConfig) -> (Engine, Tally) {
    Engine::load_live(&config.paths, config.population, config.hex_resolution).unwrap()
}

/// Every figure of `a` and `b`: totals and figures of every area, each level's ranking, the H3
/// layer, the visit report, the visits in no area and the data date.
fn assert_same_figures(a: &Engine, b: &Engine) {
    assert_eq!(a.areas().len(), b.areas().len());
    assert_eq!(a.totals(), b.totals());
    assert_eq!(a.figures(), b.figures());
    for level in Level::ALL {
        assert_eq!(a.priorities(level), b.priorities(level), "{level}");
    }
    assert_eq!(a.hexes(), b.hexes());
    assert_eq!(a.visit_report(), b.visit_report());
    assert_eq!(a.outside(), b.outside());
    assert_eq!(a.as_of(), b.as_of());
}

fn aggregated(config: &EngineConfig, a: &Aggregates) -> Result<Engine, String> {
    Engine::load_aggregated(
        &config.paths,
        config.population,
        config.hex_resolution,
        (std::path::Path::new("agg.json"), a),
    )
    .map_err(|e| e.to_string())
}

#[test]
fn the_bundled_campaigns_figures_from_its_aggregates_equal_a_load_of_its_visits() {
    let config = EngineConfig::for_dir(&bundled());
    let (engine, tally) = live(&config);
    let a = engine.aggregates_of(&tally, &config.paths).unwrap();
    assert!(a.rows_accepted > 1_000_000, "{}", a.rows_accepted);
    // Sums the aggregates must have: visits = kept − in no area; one first visit per household
    // reached; the H3 cells hold every kept visit.
    let visits: u64 = a.visits.iter().map(|v| v.3).sum();
    assert_eq!(visits + a.outside, a.rows_accepted);
    let reached: u64 = a.households.iter().map(|h| h.2).sum();
    assert_eq!(reached, engine.totals()[0].households_reached);
    assert_eq!(a.cells.iter().map(|c| c.1).sum::<u64>(), a.rows_accepted);
    assert_same_figures(&engine, &aggregated(&config, &a).unwrap());
}

#[test]
fn the_tiny_campaigns_aggregates_are_its_hand_counts() {
    let config = tiny_config();
    let (engine, tally) = live(&config);
    let a = engine.aggregates_of(&tally, &config.paths).unwrap();
    // 14 rows: 8 kept (rows 1–7 and 10), 10 in no area; six left out (tests/it/tiny.rs).
    assert_eq!((a.rows_read, a.rows_accepted, a.outside), (14, 8, 1));
    assert_eq!(a.rejected.values().sum::<u64>(), 6);
    // Kept visits by day: Oct 1 rows 1–3, Oct 2 rows 4–6, Oct 3 row 7 (row 10 is in no area
    // but still makes Oct 3, day 2, the last day).
    let per_day = |d: u32| {
        a.visits
            .iter()
            .filter(|v| v.1 == d)
            .map(|v| v.3)
            .sum::<u64>()
    };
    assert_eq!((per_day(0), per_day(1), per_day(2)), (3, 3, 1));
    assert_eq!(a.last_day, Some(2));
    // Households h1…h6 are reached (h1 twice: its first visit is day 0); h1 has two services.
    let firsts: Vec<(u32, u64)> = a.households.iter().map(|h| (h.1, h.2)).collect();
    assert_eq!(firsts.iter().map(|f| f.1).sum::<u64>(), 6);
    assert_eq!(
        firsts.iter().filter(|f| f.0 == 0).map(|f| f.1).sum::<u64>(),
        3
    );
    assert_eq!(a.funnel.iter().map(|f| f.3).sum::<u64>(), 7);
    // h1's dvc_account step (service 2) is on day 1, counted where h1 was first reached.
    let h1_area = &a.households.iter().find(|h| h.1 == 0).unwrap().0;
    assert!(
        a.funnel
            .iter()
            .any(|f| (f.0.as_str(), f.1, f.2) == (h1_area.as_str(), 1, 2)),
        "{:?}",
        a.funnel
    );
    assert_same_figures(&engine, &aggregated(&config, &a).unwrap());
}

#[test]
fn the_commands_round_trip_the_aggregates_file() {
    let dir = scratch("aggregates-cli");
    let file = dir.join("a.json");
    let data = fixture("tiny");
    let data = data.to_str().unwrap();
    let (code, _, err) = phuso(&["aggregate", "--data", data, "--out", file.to_str().unwrap()]);
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("14 rows read, 8 kept, 1 in no area"), "{err}");
    for level in ["province", "district", "ward", "neighbourhood"] {
        let (c1, direct, e1) = phuso(&[
            "report", "--data", data, "--level", level, "--format", "json",
        ]);
        let (c2, via, e2) = phuso(&[
            "report",
            "--data",
            data,
            "--level",
            level,
            "--format",
            "json",
            "--aggregates",
            file.to_str().unwrap(),
        ]);
        assert_eq!((c1, c2), (0, 0), "{e1}{e2}");
        assert_eq!(direct, via, "{level}");
        assert!(direct.len() > 50, "{direct}");
    }
    let index = dir.join("index");
    let (code, _, err) = phuso(&[
        "campaign-index",
        "--data",
        data,
        "--out",
        index.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{err}");
    let setup: serde_json::Value =
        serde_json::from_slice(&std::fs::read(index.join("campaign.json")).unwrap()).unwrap();
    assert_eq!(setup["days"], 10);
    assert_eq!(setup["campaign_start"], "2025-10-01");
    // 2025-10-01 is day 20362 since 1970-01-01.
    assert_eq!(setup["start_day"], 20_362);
    assert_eq!(setup["teams"].as_array().unwrap().len(), 3);
    let (names, _) =
        phuso_kernel::index_file::decode(&std::fs::read(index.join("leaves.idx")).unwrap())
            .unwrap();
    // The three neighbourhoods, and the ward without neighbourhoods, receive visits first.
    assert!(names.len() >= 3, "{names:?}");
}

#[test]
fn aggregates_that_do_not_fit_the_campaign_are_refused_by_name() {
    let config = tiny_config();
    let (engine, tally) = live(&config);
    let good = engine.aggregates_of(&tally, &config.paths).unwrap();
    let refused = |f: fn(&mut Aggregates), said: &[&str]| {
        let mut a = good.clone();
        f(&mut a);
        let Err(e) = aggregated(&config, &a) else {
            panic!("accepted: {said:?}");
        };
        for s in said {
            assert!(e.contains(s), "{e} lacks {s}");
        }
        assert!(e.contains("agg.json"), "{e}");
    };
    refused(|a| a.days = 30, &["`days`", "30", "10 days"]);
    refused(
        |a| a.visits[0].0 = "99999".into(),
        &["`visits` entry 0", "\"99999\""],
    );
    refused(
        |a| a.households[0].1 = 10,
        &["`households` entry 0", "day 10"],
    );
    refused(|a| a.funnel[0].2 = 7, &["`funnel` entry 0", "service 7"]);
    refused(
        |a| a.cells[0].0 = "not a cell".into(),
        &["`cells` entry 0", "not a cell"],
    );
    refused(|a| a.hex_resolution = 3, &["`hex_resolution`", "3"]);
    refused(|a| a.last_day = Some(10), &["`last_day`", "10"]);
    // The province is no area that receives visits.
    refused(
        |a| a.visits[0].0 = "99".into(),
        &["`visits` entry 0", "receives visits"],
    );
    // A file that is not an aggregates file, and one of another format version.
    let dir = scratch("aggregates-refused");
    let p = dir.join("x.json");
    std::fs::write(&p, br#"{"format": "phuso-aggregates/1"}"#).unwrap();
    let e = Aggregates::read(&p).unwrap_err().to_string();
    assert!(e.contains("x.json") && e.contains("missing field"), "{e}");
    let mut other = serde_json::to_value(&good).unwrap();
    other["format"] = "phuso-aggregates/9".into();
    std::fs::write(&p, other.to_string()).unwrap();
    let e = Aggregates::read(&p).unwrap_err().to_string();
    assert!(e.contains("phuso-aggregates/9"), "{e}");
}
