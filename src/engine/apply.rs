//! Adding visits: the one code path of loading (all visits at once) and of the live server (each
//! accepted batch). A [`Tally`] holds what adding more needs and the figures do not: the leaves'
//! index, each household's first visit, the distinct (cell, household) pairs. Only the writer
//! owns it; readers keep the immutable [`Engine`] snapshots it produces.
//!
//! A batch adds to the direct totals of the leaves it touches (visits, services, days, households
//! reached) and to the H3 cells it touches; then every figure is rolled up and recomputed, because
//! the "as of" day (the last day with a visit) may move, and with it every projection. That part
//! is cheap (a few hundred areas); the join and the household sets are what a reload would cost.

use std::collections::HashMap;
use std::sync::Arc;

use chrono::{Days, NaiveDate};
use h3o::{CellIndex, Resolution};
use rustc_hash::FxHashMap;

use super::{DAY_MS, Engine, VisitPoints, aggregate};
use crate::hex::{self, HexCounts, HexStats};
use crate::index::AreaIndex;
use crate::ingest::visits::Visits;
use crate::join::{self, OUTSIDE};
use crate::metrics::Totals;

/// What adding more visits needs (see the module documentation).
pub struct Tally {
    index: AreaIndex,
    leaves: Vec<usize>,
    /// Wards with neighbourhoods (positions in the area list) and their index: a visit in no
    /// neighbourhood but inside such a ward counts for the ward itself (its part that no
    /// neighbourhood map covers).
    uncovered: Option<(AreaIndex, Vec<usize>)>,
    /// First visit of each household: (ts, visit id, area position). Grows with households.
    firsts: FxHashMap<u64, (i64, u64, u32)>,
    hex: HexCounts,
    population_cells: HashMap<CellIndex, f64>,
    start_day: i64,
    days: i64,
    max_day: i64,
    /// The newest store batch included (0: none, or not from a store).
    last_batch: i64,
}

impl Tally {
    /// No visits yet, over `leaves` (positions in the area list) and their geometries.
    pub(super) fn new(
        index: AreaIndex,
        leaves: Vec<usize>,
        uncovered: Option<(AreaIndex, Vec<usize>)>,
        start: NaiveDate,
        days: u32,
        res: Resolution,
        population_cells: HashMap<CellIndex, f64>,
    ) -> Self {
        let epoch = NaiveDate::from_ymd_opt(1970, 1, 1).expect("epoch");
        Self {
            index,
            leaves,
            uncovered,
            firsts: FxHashMap::default(),
            hex: HexCounts::new(res),
            population_cells,
            start_day: start.signed_duration_since(epoch).num_days(),
            days: i64::from(days),
            max_day: 0,
            last_batch: 0,
        }
    }

    /// The newest store batch whose visits are included.
    #[must_use]
    pub fn last_batch(&self) -> i64 {
        self.last_batch
    }

    pub(super) fn set_last_batch(&mut self, batch: i64) {
        self.last_batch = self.last_batch.max(batch);
    }

    /// Adds `visits` (all inside the campaign window) to `own`, the direct totals per area;
    /// returns how many lie in no leaf and no ward.
    pub(super) fn add(&mut self, own: &mut [Totals], visits: &Visits) -> u64 {
        let assigned = join::assign(&self.index, &visits.lon, &visits.lat);
        let mut area_of: Vec<Option<usize>> = assigned
            .iter()
            .map(|&l| (l != OUTSIDE).then(|| self.leaves[l as usize]))
            .collect();
        if let Some((index, wards)) = &self.uncovered {
            let missing: Vec<usize> = (0..area_of.len())
                .filter(|&i| area_of[i].is_none())
                .collect();
            if !missing.is_empty() {
                let lon: Vec<f64> = missing.iter().map(|&i| visits.lon[i]).collect();
                let lat: Vec<f64> = missing.iter().map(|&i| visits.lat[i]).collect();
                for (k, w) in join::assign(index, &lon, &lat).into_iter().enumerate() {
                    if w != OUTSIDE {
                        area_of[missing[k]] = Some(wards[w as usize]);
                    }
                }
            }
        }
        let mut outside = 0;
        for (i, area) in area_of.into_iter().enumerate() {
            let ts = visits.ts_local_ms[i];
            let day = self.day_of(ts);
            self.max_day = self.max_day.max(day);
            let Some(area) = area else {
                outside += 1;
                continue;
            };
            let d = usize::try_from(day).expect("in window");
            let service = visits.service[i] as usize;
            let t = &mut own[area];
            t.visits += 1;
            t.per_service[service] += 1;
            t.daily_visits[d] += 1;
            t.daily_service[d][service] += 1;
            // The household is reached on its first visit (earliest time, then smallest id).
            let key = (
                ts,
                visits.visit_id[i],
                u32::try_from(area).expect("areas fit u32"),
            );
            let moved = match self.firsts.entry(visits.household[i]) {
                std::collections::hash_map::Entry::Vacant(e) => {
                    e.insert(key);
                    None
                }
                std::collections::hash_map::Entry::Occupied(mut e) => {
                    let old = *e.get();
                    if (key.0, key.1) < (old.0, old.1) {
                        e.insert(key);
                        Some(old)
                    } else {
                        continue;
                    }
                }
            };
            if let Some((old_ts, _, old_area)) = moved {
                let old_day = usize::try_from(self.day_of(old_ts)).expect("in window");
                let t = &mut own[old_area as usize];
                t.households_reached -= 1;
                t.daily_new_households[old_day] -= 1;
            }
            let t = &mut own[area];
            t.households_reached += 1;
            t.daily_new_households[d] += 1;
        }
        self.hex.add(&visits.lon, &visits.lat, &visits.household);
        outside
    }

    fn day_of(&self, ts: i64) -> i64 {
        let day = ts.div_euclid(DAY_MS) - self.start_day;
        debug_assert!(
            (0..self.days).contains(&day),
            "visits are inside the window"
        );
        day
    }

    /// The last day with a visit, counted from the campaign start.
    pub(super) fn as_of_day(&self) -> u32 {
        u32::try_from(self.max_day).expect("in window")
    }

    /// The H3 layer at the tally's resolution.
    pub(super) fn hexes(&self) -> Vec<HexStats> {
        hex::hex_layer(&self.hex.counts(), &self.population_cells)
    }
}

impl Engine {
    /// The engine with `visits` added: accepted visits of store batch `batch` (inside the
    /// campaign window, not stored before). Returns a new snapshot; `self` is unchanged, so
    /// readers holding it see the figures before the batch, never half of it.
    ///
    /// # Panics
    /// When `tally` is not the one this engine was loaded (or last applied) with.
    #[must_use]
    pub fn apply(&self, tally: &mut Tally, visits: &Visits, batch: i64) -> Self {
        assert_eq!(tally.leaves, self.leaves, "the tally of another engine");
        let mut own = self.own.clone();
        let outside = tally.add(&mut own, visits);
        tally.set_last_batch(batch);
        let as_of_day = tally.as_of_day();
        let as_of = self.campaign.start + Days::new(u64::from(as_of_day));
        if as_of_day != self.as_of_day {
            super::load::staff(
                &mut own,
                &self.areas,
                &self.by_code,
                &self.teams,
                &self.campaign,
                as_of_day,
            );
        }
        let (totals, figures) = aggregate(
            &self.areas,
            &self.leaves,
            &own,
            &self.campaign,
            as_of,
            as_of_day,
        );
        let mut visit_report = self.visit_report.clone();
        visit_report.rows_read += visits.len();
        visit_report.rows_accepted += visits.len();
        let mut points = self.points.clone();
        points.push(Arc::new(VisitPoints::of(visits)));
        Self {
            areas: Arc::clone(&self.areas),
            by_code: Arc::clone(&self.by_code),
            teams: Arc::clone(&self.teams),
            campaign: self.campaign.clone(),
            as_of,
            as_of_day,
            totals,
            figures,
            visit_report,
            outside: self.outside + outside,
            hexes: tally.hexes(),
            population: self.population,
            own,
            points,
            leaves: self.leaves.clone(),
            hex_resolution: self.hex_resolution,
            synthetic: self.synthetic,
            ranked: Default::default(),
        }
    }
}
