//! Batches applied to a live engine ([`Engine::apply`]) against the oracle of a full reload of
//! the store after each batch: every figure, every H3 cell, the visit counts and the "as of" day
//! equal, field by field, after random batches that include re-sends, conflicts, households
//! visited again (earlier, later, elsewhere), points outside every area and late days that move
//! "as of".

use phuso::engine::Tally;
use phuso::hex::DEFAULT_RESOLUTION;
use phuso::ingest::visits::Visits;
use phuso::store::Store;
use phuso::store::import::{Stored, Upload};
use phuso::{Engine, PopulationSource};
use polars::prelude::SerReader;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::{bundled, fixture, scratch};

fn assert_equal(live: &Engine, fresh: &Engine, what: &str) {
    assert_eq!(live.as_of(), fresh.as_of(), "{what}: as of");
    assert_eq!(live.figures().len(), fresh.figures().len(), "{what}");
    for (a, b) in live.figures().iter().zip(fresh.figures()) {
        assert_eq!(a, b, "{what}: {}", a.code);
    }
    for (a, b) in live.totals().iter().zip(fresh.totals()) {
        assert_eq!(a, b, "{what}: totals");
    }
    assert_eq!(live.hexes(), fresh.hexes(), "{what}: H3 cells");
    assert_eq!(live.outside(), fresh.outside(), "{what}: outside");
    assert_eq!(
        (
            live.visit_report().rows_read,
            live.visit_report().rows_accepted
        ),
        (
            fresh.visit_report().rows_read,
            fresh.visit_report().rows_accepted
        ),
        "{what}: visit counts"
    );
    for level in phuso::model::Level::ALL {
        let a: Vec<_> = live.ranked(level).iter().map(|p| &p.figures.code).collect();
        let b: Vec<_> = fresh
            .ranked(level)
            .iter()
            .map(|p| &p.figures.code)
            .collect();
        assert_eq!(a, b, "{what}: ranking of {level:?}");
    }
}

/// An oracle that shares no code with the tally: each visit placed by the brute-force join
/// (every leaf polygon tested), each household reached at its first visit (earliest time, then
/// smallest id), counted per leaf and per day.
fn assert_oracle(engine: &Engine, all: &Visits, what: &str) {
    let leaves = engine.leaves();
    let geoms: Vec<_> = leaves
        .iter()
        .map(|&l| engine.areas()[l].geometry.clone().unwrap())
        .collect();
    let at = phuso::join::brute_force(&geoms, &all.lon, &all.lat);
    let start = engine
        .campaign()
        .start
        .and_hms_opt(0, 0, 0)
        .unwrap()
        .and_utc()
        .timestamp_millis();
    let day = |ts: i64| ((ts - start) / 86_400_000) as usize;
    let mut first: std::collections::HashMap<u64, (i64, u64, u32)> = Default::default();
    let mut services: std::collections::HashMap<u64, [bool; 5]> = Default::default();
    let mut visits = vec![0_u64; leaves.len()];
    for i in 0..all.len() {
        if at[i] == phuso::join::OUTSIDE {
            continue;
        }
        visits[at[i] as usize] += 1;
        services.entry(all.household[i]).or_default()[all.service[i] as usize] = true;
        let key = (all.ts_local_ms[i], all.visit_id[i], at[i]);
        let e = first.entry(all.household[i]).or_insert(key);
        if key < *e {
            *e = key;
        }
    }
    let mut reached = vec![0_u64; leaves.len()];
    let mut daily = vec![vec![0_u64; engine.campaign().days as usize]; leaves.len()];
    // The funnel: each household in the leaf of its first visit, once per service it had.
    let mut funnel = vec![[0_u64; 5]; leaves.len()];
    for (h, &(ts, _, leaf)) in &first {
        reached[leaf as usize] += 1;
        daily[leaf as usize][day(ts)] += 1;
        for (s, &had) in services[h].iter().enumerate() {
            funnel[leaf as usize][s] += u64::from(had);
        }
    }
    for (k, &l) in leaves.iter().enumerate() {
        let own = &engine.own_totals()[l];
        let code = &engine.areas()[l].code.0;
        assert_eq!(own.visits, visits[k], "{what}: {code} visits");
        assert_eq!(
            own.households_reached, reached[k],
            "{what}: {code} households"
        );
        assert_eq!(own.daily_new_households, daily[k], "{what}: {code} per day");
        assert_eq!(own.funnel, funnel[k], "{what}: {code} funnel");
        let by_days: Vec<u64> = (0..5)
            .map(|s| own.daily_funnel.iter().map(|d| d[s]).sum())
            .collect();
        assert_eq!(by_days, funnel[k], "{what}: {code} funnel by first day");
    }
    let outside = at.iter().filter(|&&a| a == phuso::join::OUTSIDE).count() as u64;
    assert_eq!(engine.outside(), outside, "{what}: outside");
}

/// The visits the store holds, read as the engine reads them.
fn stored_visits(store: &Store) -> Visits {
    use phuso::engine::Inputs;
    let (index, _, extent, _) = store.visit_context().unwrap();
    store.visits(&index, extent).unwrap().0
}

/// Stores a CSV batch as an upload does and applies what it added; returns the receipt.
fn upload(
    store: &mut Store,
    engine: &mut Engine,
    tally: &mut Tally,
    all: &mut Visits,
    file: &std::path::Path,
    key: &str,
) -> Stored {
    let (index, team_rows, extent, campaign) = store.visit_context().unwrap();
    let (mut v, mut report) = phuso::ingest::visits::read_visits(file, &index, extent).unwrap();
    phuso::engine::drop_outside_window(&mut v, &mut report, &campaign);
    let bytes = std::fs::read(file).unwrap();
    let up = Upload {
        source: "test".into(),
        sha256: phuso::store::sha256_hex(&bytes),
        key: Some(key),
        token: None,
    };
    let stored = store
        .store_visits(&v, &report, &team_rows, &up, &|_| {})
        .unwrap();
    if let Stored::New(r, mask) = &stored {
        let mut added = v.clone();
        added.retain(mask);
        assert_eq!(added.len() as u64, r.rows_accepted);
        *engine = engine.apply(tally, &added, r.batch);
        all.extend(&added);
    }
    stored
}

fn random_batch(
    rng: &mut ChaCha8Rng,
    first_id: u64,
    n: usize,
    households: u64,
    max_day: u32,
) -> String {
    let mut out = String::from("visit_id,team_id,lon,lat,ts,household_id,service\n");
    let services = [
        "vneid_install",
        "vneid_activate",
        "dvc_account",
        "qr_payment",
        "bill_online",
    ];
    // Ids in random order within the batch, so rows are not met in id order.
    let mut ids: Vec<u64> = (first_id..first_id + n as u64).collect();
    for i in (1..ids.len()).rev() {
        ids.swap(i, rng.random_range(0..=i));
    }
    for &id in &ids {
        // Mostly inside the two wards (106.00–106.02 × 11.00–11.01), some just outside.
        let lon = rng.random_range(105.998..106.022);
        let lat = rng.random_range(10.999..11.011);
        let day = rng.random_range(0..=max_day);
        let hour = rng.random_range(7..20);
        out.push_str(&format!(
            "{},T{},{lon:.6},{lat:.6},2025-10-{:02}T{hour:02}:{:02}:00+07:00,hh{},{}\n",
            id,
            rng.random_range(1..=3),
            day + 1,
            rng.random_range(0..60),
            rng.random_range(0..households),
            services[rng.random_range(0..services.len())],
        ));
    }
    out
}

#[test]
fn random_batches_applied_equal_a_full_reload_after_each() {
    let dir = scratch("apply_random");
    let db = dir.join("s.db");
    let mut store = Store::open(&db, true).unwrap();
    store.import_dir(&fixture("tiny"), &|_| {}).unwrap();
    let (mut engine, mut tally) = store
        .load_engine(PopulationSource::default(), DEFAULT_RESOLUTION)
        .unwrap();
    let mut all = stored_visits(&store);
    let mut rng = ChaCha8Rng::seed_from_u64(20_251_001);
    let mut next_id = 1_000;
    let mut sent: Vec<(String, std::path::PathBuf)> = Vec::new();
    let (mut resends, mut conflicts, mut moved_days) = (0, 0, 0);
    for round in 0..24 {
        let file = dir.join(format!("b{round}.csv"));
        let key = format!("k{round}");
        let as_of_before = engine.as_of();
        match round % 6 {
            // A re-send of an earlier batch under its own key: the first receipt, no change.
            4 if !sent.is_empty() => {
                let (k, f) = sent[rng.random_range(0..sent.len())].clone();
                let r = upload(&mut store, &mut engine, &mut tally, &mut all, &f, &k);
                assert!(matches!(r, Stored::AlreadyReceived(_)), "round {round}");
                resends += 1;
                continue;
            }
            // Earlier ids under a new key, some moved: duplicates and conflicts, nothing added
            // for them.
            5 => {
                let text = std::fs::read_to_string(&sent[0].1).unwrap();
                let mut lines: Vec<String> = text.lines().map(str::to_owned).collect();
                for l in lines.iter_mut().skip(1).step_by(3) {
                    *l = l.replace(":00+07:00", ":30+07:00");
                }
                lines.push(format!(
                    "{next_id},T1,106.001,11.001,2025-10-01T06:00:00+07:00,hh0,vneid_install"
                ));
                next_id += 1;
                std::fs::write(&file, lines.join("\n") + "\n").unwrap();
                let r = upload(&mut store, &mut engine, &mut tally, &mut all, &file, &key);
                let Stored::New(r, _) = r else {
                    panic!("round {round}: {r:?}")
                };
                assert_eq!(r.rows_accepted, 1, "round {round}: {r:?}");
                assert!(
                    r.duplicates > 0
                        && r.rejected
                            .get("conflict with a stored visit")
                            .copied()
                            .unwrap_or(0)
                            > 0,
                    "{r:?}"
                );
                conflicts += 1;
            }
            _ => {
                let n = rng.random_range(10..40);
                // Late days come in later rounds: "as of" moves.
                let max_day = (round / 3).min(9);
                std::fs::write(&file, random_batch(&mut rng, next_id, n, 60, max_day)).unwrap();
                next_id += n as u64;
                let r = upload(&mut store, &mut engine, &mut tally, &mut all, &file, &key);
                assert!(matches!(r, Stored::New(..)), "round {round}: {r:?}");
            }
        }
        sent.push((key, file));
        moved_days += usize::from(engine.as_of() != as_of_before);
        let (fresh, fresh_tally) = store
            .load_engine(PopulationSource::default(), DEFAULT_RESOLUTION)
            .unwrap();
        assert_eq!(
            fresh_tally.last_batch(),
            tally.last_batch(),
            "round {round}"
        );
        assert_equal(&engine, &fresh, &format!("after round {round}"));
        assert_oracle(&engine, &all, &format!("after round {round}"));
    }
    assert!(
        resends >= 3 && conflicts >= 3 && moved_days >= 3,
        "{resends} {conflicts} {moved_days}"
    );
    // The batches did reach households more than once and points outside every area.
    assert!(engine.outside() > 0);
    let p = &engine.figures()[0];
    assert!(p.visits > p.households_reached, "{p:?}");
}

#[test]
fn a_batch_on_the_bundled_campaign_equals_a_reload() {
    let dir = scratch("apply_bundled");
    let mut store = Store::open(&dir.join("s.db"), true).unwrap();
    // The bundled areas, teams and norms, without the 1.6M visits (kept short for CI).
    let p = phuso::engine::DataPaths::in_dir(&bundled());
    for (name, file) in [
        ("wards", &p.wards),
        ("census", &p.census),
        ("norms", &p.norms),
        ("neighbourhoods", &p.neighbourhoods),
    ] {
        store.import_document(name, file).unwrap();
    }
    store.import_teams(&p.teams).unwrap();
    let (mut engine, mut tally) = store
        .load_engine(PopulationSource::default(), DEFAULT_RESOLUTION)
        .unwrap();
    let mut all = Visits::default();
    // 20,000 visits from the bundled file, in two batches.
    let frame = polars::prelude::ParquetReader::new(std::fs::File::open(&p.visits).unwrap())
        .with_slice(Some((0, 20_000)))
        .finish()
        .unwrap();
    for (k, part) in [frame.slice(0, 10_000), frame.slice(10_000, 10_000)]
        .into_iter()
        .enumerate()
    {
        let mut part = part;
        let f = dir.join(format!("part{k}.parquet"));
        polars::prelude::ParquetWriter::new(std::fs::File::create(&f).unwrap())
            .finish(&mut part)
            .unwrap();
        let r = upload(
            &mut store,
            &mut engine,
            &mut tally,
            &mut all,
            &f,
            &format!("p{k}"),
        );
        assert!(
            matches!(r, Stored::New(ref r, _) if r.rows_accepted == 10_000),
            "{r:?}"
        );
        let fresh = store
            .load_engine(PopulationSource::default(), DEFAULT_RESOLUTION)
            .unwrap()
            .0;
        assert_equal(&engine, &fresh, &format!("after part {k}"));
        assert_oracle(&engine, &all, &format!("after part {k}"));
    }
    assert_eq!(engine.figures()[0].visits + engine.outside(), 20_000);
}
