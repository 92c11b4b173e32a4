//! The campaign's visits as integer aggregates: what the figures need of the visits, and no
//! more. A cluster (`phuso-spark report`) computes them over billions of rows with integer
//! arithmetic only; [`Engine::load_aggregated`] then computes every figure from them with the
//! same code as a load of the visits themselves.
//!
//! Per receiving area (a leaf, or a ward for the part no neighbourhood covers), keyed by code:
//! visits per campaign day and service; households first reached per day (a household's first
//! visit is its earliest, then the smallest visit id, among its visits inside an area); per
//! service, households whose first visit of that service fell on each day, counted where the
//! household was first reached. Besides: visits and distinct households per H3 cell (every
//! accepted visit, inside an area or not), the last campaign day with a visit, the visits in no
//! area, and the rows read and left out per kind.
//!
//! [`Engine::load_aggregated`]: super::Engine::load_aggregated

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use chrono::NaiveDate;
use h3o::{CellIndex, Resolution};
use rustc_hash::FxHashMap;
use serde::{Deserialize, Serialize};

use crate::error::IngestError;
use crate::hex::HexCounts;
use crate::ingest::visits::{VisitReport, Visits};
use crate::metrics::Totals;
use phuso_kernel::visit_row::{day_of, epoch_day};

/// The format name written in every aggregates file.
pub const FORMAT: &str = "phuso-aggregates/1";

/// The visits of a campaign as integer aggregates (see the module documentation). Lists are
/// sorted by their keys (area code, day, service; cells by index).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Aggregates {
    /// [`FORMAT`].
    pub format: String,
    /// The campaign start the days count from.
    pub campaign_start: NaiveDate,
    /// Days of the campaign window.
    pub days: u32,
    /// Resolution of the H3 cells.
    pub hex_resolution: u8,
    /// Rows read.
    pub rows_read: u64,
    /// Rows kept (inside the campaign window).
    pub rows_accepted: u64,
    /// Rows left out, per kind.
    pub rejected: BTreeMap<String, u64>,
    /// The first problems, each naming the file or row, the column and the value.
    pub examples: Vec<String>,
    /// Kept visits in no area.
    pub outside: u64,
    /// The last campaign day with a kept visit (none without visits).
    pub last_day: Option<u32>,
    /// `[area, day, service, visits]`.
    pub visits: Vec<(String, u32, u8, u64)>,
    /// `[area, day, households first reached]`.
    pub households: Vec<(String, u32, u64)>,
    /// `[area, day, service, households]`: households whose first visit of the service was
    /// that day, counted where they were first reached.
    pub funnel: Vec<(String, u32, u8, u64)>,
    /// `[cell, visits, distinct households]`, the cell as h3 text.
    pub cells: Vec<(String, u64, u64)>,
}

impl Aggregates {
    /// The aggregates of accepted `visits` (inside the window of a campaign of `days` days from
    /// `start`), each visit received by `area_of` (area codes; `None`: in no area): the
    /// single-machine computation, written directly from the definitions.
    #[must_use]
    pub fn of(
        visits: &Visits,
        area_of: &[Option<&str>],
        report: &VisitReport,
        start: NaiveDate,
        days: u32,
        res: Resolution,
    ) -> Self {
        let start_day = epoch_day(start);
        let day = |i: usize| {
            u32::try_from(day_of(visits.ts_local_ms[i], start_day)).expect("inside the window")
        };
        let mut per_visit: BTreeMap<(&str, u32, u8), u64> = BTreeMap::new();
        // Each household's first visit (time, id, area, day) and first day per service.
        let mut first: FxHashMap<u64, (i64, u64, &str, u32)> = FxHashMap::default();
        let mut first_service: FxHashMap<(u64, u8), u32> = FxHashMap::default();
        let mut last_day = None;
        let mut outside = 0;
        for (i, &area) in area_of.iter().enumerate() {
            let d = day(i);
            last_day = last_day.max(Some(d));
            let Some(area) = area else {
                outside += 1;
                continue;
            };
            let (h, s) = (visits.household[i], visits.service[i]);
            *per_visit.entry((area, d, s)).or_default() += 1;
            let key = (visits.ts_local_ms[i], visits.visit_id[i], area, d);
            first
                .entry(h)
                .and_modify(|f| {
                    if (key.0, key.1) < (f.0, f.1) {
                        *f = key;
                    }
                })
                .or_insert(key);
            first_service
                .entry((h, s))
                .and_modify(|f| *f = (*f).min(d))
                .or_insert(d);
        }
        let mut households: BTreeMap<(&str, u32), u64> = BTreeMap::new();
        for &(_, _, area, d) in first.values() {
            *households.entry((area, d)).or_default() += 1;
        }
        let mut funnel: BTreeMap<(&str, u32, u8), u64> = BTreeMap::new();
        for (&(h, s), &d) in &first_service {
            *funnel.entry((first[&h].2, d, s)).or_default() += 1;
        }
        let mut hex = HexCounts::new(res);
        hex.add(&visits.lon, &visits.lat, &visits.household);
        let mut per_cell: Vec<(CellIndex, (u64, u64))> = hex.counts().into_iter().collect();
        per_cell.sort_unstable_by_key(|(c, _)| u64::from(*c));
        Self {
            format: FORMAT.to_owned(),
            campaign_start: start,
            days,
            hex_resolution: u8::from(res),
            rows_read: report.rows_read as u64,
            rows_accepted: report.rows_accepted as u64,
            rejected: report
                .rejected
                .iter()
                .map(|(k, &v)| (k.clone(), v as u64))
                .collect(),
            examples: report.examples.clone(),
            outside,
            last_day,
            visits: per_visit
                .into_iter()
                .map(|((a, d, s), n)| (a.to_owned(), d, s, n))
                .collect(),
            households: households
                .into_iter()
                .map(|((a, d), n)| (a.to_owned(), d, n))
                .collect(),
            funnel: funnel
                .into_iter()
                .map(|((a, d, s), n)| (a.to_owned(), d, s, n))
                .collect(),
            cells: per_cell
                .into_iter()
                .map(|(c, (v, h))| (c.to_string(), v, h))
                .collect(),
        }
    }

    /// Reads an aggregates file.
    ///
    /// # Errors
    /// An unreadable file, or one that is not an aggregates file (the field and position named).
    pub fn read(path: &Path) -> Result<Self, IngestError> {
        let text = std::fs::read(path).map_err(|e| IngestError::io(path, e))?;
        let a: Self = serde_json::from_slice(&text).map_err(|e| {
            IngestError::format(path, format!("not an aggregates file ({FORMAT}): {e}"))
        })?;
        if a.format != FORMAT {
            return Err(IngestError::format(
                path,
                format!("field `format`: value {:?}; expected {FORMAT:?}", a.format),
            ));
        }
        Ok(a)
    }

    /// The visit report the rows make.
    #[must_use]
    pub fn visit_report(&self) -> VisitReport {
        VisitReport {
            rows_read: usize::try_from(self.rows_read).unwrap_or(usize::MAX),
            rows_accepted: usize::try_from(self.rows_accepted).unwrap_or(usize::MAX),
            rejected: self
                .rejected
                .iter()
                .map(|(k, &v)| (k.clone(), usize::try_from(v).unwrap_or(usize::MAX)))
                .collect(),
            examples: self.examples.clone(),
        }
    }

    /// Adds the aggregates to `own`, the direct totals of the areas (`position` finds an area
    /// that may receive visits by code), after checking they belong to this campaign.
    ///
    /// # Errors
    /// Aggregates of another campaign (start, days, resolution) or naming an area, day,
    /// service or cell that this campaign does not have, with the list, entry and value.
    pub fn add_to(
        &self,
        path: &Path,
        own: &mut [Totals],
        position: impl Fn(&str) -> Option<usize>,
        start: NaiveDate,
        days: u32,
        res: Resolution,
    ) -> Result<(), IngestError> {
        if (self.campaign_start, self.days) != (start, days) {
            return Err(IngestError::format(
                path,
                format!(
                    "fields `campaign_start`, `days`: {} and {}; the data directory's campaign starts {start} and has {days} days (norms.toml)",
                    self.campaign_start, self.days
                ),
            ));
        }
        if self.hex_resolution != u8::from(res) {
            return Err(IngestError::format(
                path,
                format!(
                    "field `hex_resolution`: {}; expected {} (the engine's)",
                    self.hex_resolution,
                    u8::from(res)
                ),
            ));
        }
        if let Some(d) = self.last_day.filter(|&d| d >= days) {
            return Err(IngestError::format(
                path,
                format!("field `last_day`: {d}; expected a day below {days}"),
            ));
        }
        let at = |list: &str, k: usize, code: &str, day: u32, service: u8| {
            let p = position(code).ok_or_else(|| {
                IngestError::format(path, format!("`{list}` entry {k}: area {code:?}; expected an area of the data directory that receives visits (a leaf, or a ward with neighbourhoods)"))
            })?;
            if day >= days || service >= 5 {
                return Err(IngestError::format(
                    path,
                    format!(
                        "`{list}` entry {k}: day {day}, service {service}; expected a day below {days} and a service 0..=4"
                    ),
                ));
            }
            Ok((p, day as usize, usize::from(service)))
        };
        for (k, (code, day, service, n)) in self.visits.iter().enumerate() {
            let (p, d, s) = at("visits", k, code, *day, *service)?;
            let t = &mut own[p];
            t.visits += n;
            t.per_service[s] += n;
            t.daily_visits[d] += n;
            t.daily_service[d][s] += n;
        }
        for (k, (code, day, n)) in self.households.iter().enumerate() {
            let (p, d, _) = at("households", k, code, *day, 0)?;
            own[p].households_reached += n;
            own[p].daily_new_households[d] += n;
        }
        for (k, (code, day, service, n)) in self.funnel.iter().enumerate() {
            let (p, d, s) = at("funnel", k, code, *day, *service)?;
            own[p].funnel[s] += n;
            own[p].daily_funnel[d][s] += n;
        }
        Ok(())
    }

    /// Visits and distinct households per cell.
    ///
    /// # Errors
    /// A cell that is not an H3 cell of the aggregates' resolution.
    pub fn cell_counts(&self, path: &Path) -> Result<HashMap<CellIndex, (u64, u64)>, IngestError> {
        self.cells
            .iter()
            .enumerate()
            .map(|(k, (text, v, h))| {
                let cell = text
                    .parse::<CellIndex>()
                    .ok()
                    .filter(|c| u8::from(c.resolution()) == self.hex_resolution)
                    .ok_or_else(|| {
                        IngestError::format(
                            path,
                            format!(
                                "`cells` entry {k}: {text:?}; expected an H3 cell of resolution {}",
                                self.hex_resolution
                            ),
                        )
                    })?;
                Ok((cell, (*v, *h)))
            })
            .collect()
    }
}

impl super::Engine {
    /// The aggregates of the visits of `inputs` computed on this machine: the visits read and
    /// checked as a load reads them, each received by `tally`'s join (the tally this engine was
    /// loaded with). The reference a cluster's aggregates are compared with.
    ///
    /// # Errors
    /// As reading the visits for a load.
    pub fn aggregates_of(
        &self,
        tally: &super::Tally,
        inputs: &dyn super::Inputs,
    ) -> Result<Aggregates, IngestError> {
        let team_index: HashMap<String, u32> = self
            .teams
            .iter()
            .enumerate()
            .map(|(i, t)| (t.team_id.clone(), u32::try_from(i).unwrap_or(u32::MAX)))
            .collect();
        let (mut visits, mut report) = inputs.visits(&team_index, self.visit_extent())?;
        super::drop_outside_window(&mut visits, &mut report, &self.campaign);
        let area_of: Vec<Option<&str>> = tally
            .locate(&visits.lon, &visits.lat)
            .into_iter()
            .map(|p| p.map(|p| self.areas[p].code.0.as_str()))
            .collect();
        Ok(Aggregates::of(
            &visits,
            &area_of,
            &report,
            self.campaign.start,
            self.campaign.days,
            self.hex_resolution,
        ))
    }

    /// The box of every ward: where a visit counts as inside for the swapped-coordinates check.
    #[must_use]
    pub fn visit_extent(&self) -> crate::ingest::visits::Extent {
        super::extent_of(
            self.areas
                .iter()
                .filter(|a| a.level == crate::model::Level::Ward)
                .filter_map(|a| a.geometry.as_ref()),
        )
    }
}
