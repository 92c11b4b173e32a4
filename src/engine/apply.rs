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

use phuso_kernel::visit_row;

use super::{Engine, VisitPoints, aggregate};
use crate::hex::{self, HexCounts, HexStats};
use crate::index::AreaIndex;
use crate::ingest::visits::Visits;
use crate::join::{self, OUTSIDE};
use crate::metrics::Totals;

/// An index and the positions (in the area list) of the areas it holds, in its order.
pub type JoinIndex<'a> = (&'a AreaIndex, &'a [usize]);

/// What adding more visits needs (see the module documentation).
pub struct Tally {
    index: AreaIndex,
    leaves: Vec<usize>,
    /// Wards with neighbourhoods (positions in the area list) and their index: a visit in no
    /// neighbourhood but inside such a ward counts for the ward itself (its part that no
    /// neighbourhood map covers).
    uncovered: Option<(AreaIndex, Vec<usize>)>,
    /// Each household's first visit and the first day of each service. Grows with households.
    firsts: FxHashMap<u64, Household>,
    hex: HexCounts,
    population_cells: HashMap<CellIndex, f64>,
    start_day: i64,
    days: i64,
    max_day: i64,
    /// The newest store batch included (0: none, or not from a store).
    last_batch: i64,
}

/// A household as the tally knows it.
struct Household {
    /// Its first visit (earliest time, then smallest id): the time, the id and the area.
    ts: i64,
    visit: u64,
    area: u32,
    /// Per service ([`crate::model::Service::ALL`] order): the campaign day of its first visit
    /// of that service, or [`NEVER`].
    service_day: [u16; 5],
}

/// No visit of the service yet.
const NEVER: u16 = u16::MAX;

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
        Self {
            index,
            leaves,
            uncovered,
            firsts: FxHashMap::default(),
            hex: HexCounts::new(res),
            population_cells,
            start_day: visit_row::epoch_day(start),
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

    /// The area receiving each point (a position in the area list): its leaf, else the ward
    /// whose part no neighbourhood covers, else `None` (in no area).
    #[must_use]
    pub fn locate(&self, lon: &[f64], lat: &[f64]) -> Vec<Option<usize>> {
        let assigned = join::assign(&self.index, lon, lat);
        let mut area_of: Vec<Option<usize>> = assigned
            .iter()
            .map(|&l| (l != OUTSIDE).then(|| self.leaves[l as usize]))
            .collect();
        if let Some((index, wards)) = &self.uncovered {
            let missing: Vec<usize> = (0..area_of.len())
                .filter(|&i| area_of[i].is_none())
                .collect();
            if !missing.is_empty() {
                let lon: Vec<f64> = missing.iter().map(|&i| lon[i]).collect();
                let lat: Vec<f64> = missing.iter().map(|&i| lat[i]).collect();
                for (k, w) in join::assign(index, &lon, &lat).into_iter().enumerate() {
                    if w != OUTSIDE {
                        area_of[missing[k]] = Some(wards[w as usize]);
                    }
                }
            }
        }
        area_of
    }

    /// The join's two indexes: the leaves' (and their positions in the area list), and the
    /// index of the wards with neighbourhoods (and theirs), when there are any.
    #[must_use]
    pub fn indexes(&self) -> (JoinIndex<'_>, Option<JoinIndex<'_>>) {
        (
            (&self.index, &self.leaves),
            self.uncovered.as_ref().map(|(i, w)| (i, w.as_slice())),
        )
    }

    /// Adds `visits` (all inside the campaign window) to `own`, the direct totals per area;
    /// returns how many lie in no leaf and no ward.
    pub(super) fn add(&mut self, own: &mut [Totals], visits: &Visits) -> u64 {
        let area_of = self.locate(&visits.lon, &visits.lat);
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
            let area32 = u32::try_from(area).expect("areas fit u32");
            let day16 = u16::try_from(d).expect("campaigns are at most 3,650 days");
            let (start_day, days) = (self.start_day, self.days);
            let h = match self.firsts.entry(visits.household[i]) {
                std::collections::hash_map::Entry::Vacant(e) => {
                    let t = &mut own[area];
                    t.households_reached += 1;
                    t.daily_new_households[d] += 1;
                    e.insert(Household {
                        ts,
                        visit: visits.visit_id[i],
                        area: area32,
                        service_day: [NEVER; 5],
                    })
                }
                std::collections::hash_map::Entry::Occupied(e) => {
                    let h = e.into_mut();
                    if (ts, visits.visit_id[i]) < (h.ts, h.visit) {
                        // Reached earlier, maybe elsewhere: it and its funnel steps move.
                        let old_day =
                            usize::try_from(day_index(start_day, days, h.ts)).expect("in window");
                        let from = &mut own[h.area as usize];
                        from.households_reached -= 1;
                        from.daily_new_households[old_day] -= 1;
                        for (s, &sd) in h.service_day.iter().enumerate() {
                            if sd != NEVER {
                                from.funnel[s] -= 1;
                                from.daily_funnel[usize::from(sd)][s] -= 1;
                            }
                        }
                        let to = &mut own[area];
                        to.households_reached += 1;
                        to.daily_new_households[d] += 1;
                        for (s, &sd) in h.service_day.iter().enumerate() {
                            if sd != NEVER {
                                to.funnel[s] += 1;
                                to.daily_funnel[usize::from(sd)][s] += 1;
                            }
                        }
                        (h.ts, h.visit, h.area) = (ts, visits.visit_id[i], area32);
                    }
                    h
                }
            };
            // The funnel step of this visit's service, counted on its first day.
            let first = h.service_day[service];
            if first == NEVER || day16 < first {
                let t = &mut own[h.area as usize];
                if first == NEVER {
                    t.funnel[service] += 1;
                } else {
                    t.daily_funnel[usize::from(first)][service] -= 1;
                }
                t.daily_funnel[d][service] += 1;
                h.service_day[service] = day16;
            }
        }
        self.hex.add(&visits.lon, &visits.lat, &visits.household);
        outside
    }

    fn day_of(&self, ts: i64) -> i64 {
        day_index(self.start_day, self.days, ts)
    }

    /// The last day with a visit, counted from the campaign start.
    pub(super) fn as_of_day(&self) -> u32 {
        u32::try_from(self.max_day).expect("in window")
    }

    /// The H3 layer at the tally's resolution.
    pub(super) fn hexes(&self) -> Vec<HexStats> {
        self.hexes_of(&self.hex.counts())
    }

    /// The H3 layer of `counts` (visits and distinct households per cell at the tally's
    /// resolution) with the tally's residents per cell.
    pub(super) fn hexes_of(&self, counts: &HashMap<CellIndex, (u64, u64)>) -> Vec<HexStats> {
        hex::hex_layer(counts, &self.population_cells)
    }
}

/// The campaign day of `ts` (local milliseconds) for a campaign of `days` days from `start_day`
/// (days since 1970-01-01).
fn day_index(start_day: i64, days: i64, ts: i64) -> i64 {
    let day = visit_row::day_of(ts, start_day);
    debug_assert!((0..days).contains(&day), "visits are inside the window");
    day
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
        points.push(Arc::new(VisitPoints::of(
            visits.clone(),
            self.campaign.start,
        )));
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
            until: None,
        }
    }
}
