//! The engine: loads the campaign (boundaries, census, neighbourhoods, teams, visits, norms)
//! from a data directory or the store, joins visits to areas, rolls figures up the area tree
//! and answers queries with `&self`. A live server applies each accepted batch of visits to get
//! the next engine ([`Engine::apply`]); an engine itself never changes.
//!
//! Area tree: province → former district → 2025 ward → neighbourhood. Parents always come
//! before their children in [`Engine::areas`], so a reverse pass rolls totals up.
//!
//! Files: `inputs` (what is read, and the checks shared with the store), `load` (the pipeline),
//! `apply` (adding visits: loading and live batches alike), `aggregates` (the visits as integer
//! aggregates, computed here or on a cluster), this file (the engine and its queries).

mod aggregates;
mod apply;
mod inputs;
mod load;
mod past;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

use chrono::NaiveDate;
use geo::MultiPolygon;
use h3o::Resolution;
use serde::{Deserialize, Serialize};

pub use aggregates::Aggregates;
pub use apply::Tally;
use inputs::number_property;
pub use inputs::{
    DataPaths, Inputs, check_neighbourhoods, drop_outside_window, extent_of, neighbourhood_fields,
    parse_norms, read_norms,
};
use phuso_kernel::visit_row::{day_of, epoch_day};

use crate::error::IngestError;
use crate::hex::{self, HexStats};
use crate::ingest::census::FormerUnit;
use crate::ingest::visits::{VisitReport, Visits};
use crate::metrics::{self, Campaign, Figures, Totals};
use crate::model::{AreaCode, Level, Team};
use crate::priority::{self, Priority};

/// The code of the root of a national data directory.
pub const COUNTRY_CODE: &str = "VN";
/// Its name.
pub const COUNTRY_NAME: &str = "Việt Nam";

/// Milliseconds per day.
const DAY_MS: i64 = 86_400_000;

/// Which population figures to use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "snake_case")]
pub enum PopulationSource {
    /// 2019 census through the crosswalk (consistent with the household counts).
    #[default]
    Census2019,
    /// The 2025 published figures of the ward file (`population_published`).
    Published2025,
}

/// How to load.
#[derive(Debug, Clone)]
pub struct EngineConfig {
    /// Input files.
    pub paths: DataPaths,
    /// Population vintage.
    pub population: PopulationSource,
    /// Resolution of the precomputed H3 layer.
    pub hex_resolution: Resolution,
}

impl EngineConfig {
    /// Defaults for a data directory.
    #[must_use]
    pub fn for_dir(dir: &Path) -> Self {
        Self {
            paths: DataPaths::in_dir(dir),
            population: PopulationSource::default(),
            hex_resolution: hex::DEFAULT_RESOLUTION,
        }
    }
}

/// Why loading failed.
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    /// An input file is unreadable or invalid.
    #[error(transparent)]
    Ingest(#[from] IngestError),
    /// The norms file is invalid.
    #[error("{}: {message}", file.display())]
    Norms {
        /// The file.
        file: PathBuf,
        /// What is wrong.
        message: String,
    },
}

/// One area of the tree.
#[derive(Debug, Clone)]
pub struct Area {
    /// Code.
    pub code: AreaCode,
    /// Display name.
    pub name: String,
    /// Level.
    pub level: Level,
    /// Parent position in [`Engine::areas`].
    pub parent: Option<usize>,
    /// Children positions.
    pub children: Vec<usize>,
    /// Geometry (wards and neighbourhoods; none for rolled-up levels).
    pub geometry: Option<MultiPolygon<f64>>,
    /// 2019 census population (wards: via the crosswalk; others: sum or share).
    pub population_census_2019: Option<f64>,
    /// 2025 published population (wards only).
    pub population_published_2025: Option<f64>,
    /// Pre-2025 units that went into this ward.
    pub former_units: Vec<FormerUnit>,
}

/// The loaded, joined and aggregated campaign.
pub struct Engine {
    // Shared between successive snapshots: visits do not change them.
    areas: Arc<Vec<Area>>,
    by_code: Arc<HashMap<AreaCode, usize>>,
    teams: Arc<Vec<Team>>,
    campaign: Campaign,
    as_of: NaiveDate,
    as_of_day: u32,
    totals: Vec<Totals>,
    figures: Vec<Figures>,
    visit_report: VisitReport,
    outside: u64,
    hexes: Vec<HexStats>,
    population: PopulationSource,
    /// Direct (not rolled-up) totals per area: the input of what-if recomputation.
    own: Vec<Totals>,
    // Raw visit points stay private: read APIs serve aggregates only. Kept for H3 layers at
    // other resolutions; the other visit columns are dropped once aggregated. One chunk per
    // load or batch, shared between snapshots.
    points: Vec<Arc<VisitPoints>>,
    leaves: Vec<usize>,
    hex_resolution: Resolution,
    /// True when the neighbourhoods are the generator's (their features say `synthetic: true`).
    synthetic: bool,
    /// The ranking of each level, computed on first use (figures do not change after load).
    ranked: [OnceLock<Vec<Priority>>; Level::ALL.len()],
    /// For an engine as of a past day ([`Engine::until`]): how many campaign days (from the
    /// first) count; `None` for all of them.
    until: Option<u16>,
}

/// The visit columns an engine keeps after loading.
struct VisitPoints {
    lon: Vec<f64>,
    lat: Vec<f64>,
    household: Vec<u64>,
    /// Campaign day (0 = start) of each visit: what an engine as of a past day keeps.
    day: Vec<u16>,
}

impl VisitPoints {
    /// The kept columns of `visits` (inside the window of a campaign starting on `start`).
    fn of(visits: Visits, start: NaiveDate) -> Self {
        let start_day = epoch_day(start);
        let day = visits
            .ts_local_ms
            .iter()
            .map(|&ts| u16::try_from(day_of(ts, start_day)).unwrap_or(u16::MAX))
            .collect();
        Self {
            lon: visits.lon,
            lat: visits.lat,
            household: visits.household,
            day,
        }
    }
}

impl Engine {
    /// True when `other` has the very same areas (an engine and the ones applied batches made
    /// from it).
    #[must_use]
    pub fn shares_areas(&self, other: &Engine) -> bool {
        Arc::ptr_eq(&self.areas, &other.areas)
    }

    /// Recomputes every figure under `changes`, without touching the stored data.
    ///
    /// # Errors
    /// A message naming the change (by position), the field and the value when a change is
    /// impossible: unknown code, not a leaf, members below zero, bad target or deadline.
    pub fn whatif(&self, changes: &[Change]) -> Result<(Campaign, Vec<Figures>), String> {
        let mut own = self.own.clone();
        let mut campaign = self.campaign.clone();
        let leaf = |i: usize, code: &str, field: &str| -> Result<usize, String> {
            let p = self
                .position(code)
                .ok_or_else(|| format!("change {i}: field `{field}`: unknown code {code:?}"))?;
            if self.leaves.contains(&p) {
                Ok(p)
            } else {
                Err(format!(
                    "change {i}: field `{field}`: {code:?} is a {}; members belong to {}s",
                    self.areas[p].level,
                    self.leaf_level()
                ))
            }
        };
        for (i, c) in changes.iter().enumerate() {
            match c {
                Change::AddMembers { code, members } => {
                    let p = leaf(i, code, "code")?;
                    let now = i64::try_from(own[p].members).unwrap_or(i64::MAX);
                    let after = now.checked_add(*members).filter(|m| *m >= 0).ok_or_else(|| format!("change {i}: field `members`: {members} would leave {code:?} with fewer than 0 members (it has {now})"))?;
                    own[p].members = within_bound(after, i, code)?;
                }
                Change::MoveMembers { from, to, members } => {
                    let (f, t) = (leaf(i, from, "from")?, leaf(i, to, "to")?);
                    if *members == 0 || own[f].members < *members {
                        return Err(format!(
                            "change {i}: field `members`: {members}; expected 1..={} (the members of {from:?})",
                            own[f].members
                        ));
                    }
                    let after = own[t]
                        .members
                        .checked_add(*members)
                        .map_or(i64::MAX, |m| i64::try_from(m).unwrap_or(i64::MAX));
                    own[t].members = within_bound(after, i, to)?;
                    own[f].members -= members;
                }
                Change::SetTarget { value } => {
                    if !(*value > 0.0 && *value <= 1.0) {
                        return Err(format!(
                            "change {i}: field `value`: {value}; expected a target coverage in (0, 1]"
                        ));
                    }
                    campaign.target_coverage = *value;
                }
                Change::SetDeadline { date } => {
                    let days = (*date - campaign.start).num_days();
                    if !(1..=3_650).contains(&days) || *date <= self.as_of {
                        return Err(format!(
                            "change {i}: field `date`: {date}; expected a date after the last day with data ({}) and within 10 years of the start",
                            self.as_of
                        ));
                    }
                    campaign.days = u32::try_from(days).expect("checked range");
                }
            }
        }
        let (_, figures) = aggregate(
            &self.areas,
            &self.leaves,
            &own,
            &campaign,
            self.as_of,
            self.as_of_day,
        );
        Ok((campaign, figures))
    }

    /// The norm audit of the areas at `level`, furthest from the norms first (most TNTN members
    /// short, then most pairs short), numbered.
    #[must_use]
    pub fn audit(&self, level: Level) -> Vec<crate::audit::AuditRow> {
        let mut rows: Vec<crate::audit::AuditRow> = (0..self.areas.len())
            .filter(|&i| self.areas[i].level == level)
            .map(|i| {
                crate::audit::audit(
                    &self.areas[i].code.0,
                    &self.areas[i].name,
                    level,
                    &self.totals[i],
                    &self.campaign,
                )
            })
            .collect();
        crate::audit::rank(&mut rows);
        rows
    }

    /// The audit of `level` with its summary (province totals and the paragraph).
    #[must_use]
    pub fn audit_with_summary(
        &self,
        level: Level,
    ) -> (crate::audit::AuditSummary, Vec<crate::audit::AuditRow>) {
        let rows = self.audit(level);
        let summary = crate::audit::summary(level, &rows, &self.totals[0], &self.campaign);
        (summary, rows)
    }

    /// The level of the leaf areas (neighbourhood in the bundled data).
    #[must_use]
    pub fn leaf_level(&self) -> Level {
        self.leaves
            .first()
            .map_or(Level::Ward, |&l| self.areas[l].level)
    }

    /// Positions of the leaf areas (where teams work and the projection is computed).
    #[must_use]
    pub fn leaves(&self) -> &[usize] {
        &self.leaves
    }

    /// Direct totals of every area (before roll-up).
    #[must_use]
    pub fn own_totals(&self) -> &[Totals] {
        &self.own
    }

    /// Every area, parents before children.
    #[must_use]
    pub fn areas(&self) -> &[Area] {
        &self.areas
    }

    /// The position of an area by code.
    #[must_use]
    pub fn position(&self, code: &str) -> Option<usize> {
        self.by_code.get(&AreaCode(code.to_owned())).copied()
    }

    /// Figures of every area, in [`Engine::areas`] order.
    #[must_use]
    pub fn figures(&self) -> &[Figures] {
        &self.figures
    }

    /// Additive totals (including daily series) of every area.
    #[must_use]
    pub fn totals(&self) -> &[Totals] {
        &self.totals
    }

    /// Figures of the areas of one level.
    pub fn figures_at(&self, level: Level) -> impl Iterator<Item = &Figures> {
        self.figures.iter().filter(move |f| f.level == level)
    }

    /// The ranked list at `level`, ranked once and then served from memory.
    #[must_use]
    pub fn ranked(&self, level: Level) -> &[Priority] {
        self.ranked[level as usize].get_or_init(|| {
            let at: Vec<Figures> = self.figures_at(level).cloned().collect();
            priority::rank(&at, &self.campaign)
        })
    }

    /// The ranked list at `level`, as an owned copy.
    #[must_use]
    pub fn priorities(&self, level: Level) -> Vec<Priority> {
        self.ranked(level).to_vec()
    }

    /// The roster.
    #[must_use]
    pub fn teams(&self) -> &[Team] {
        &self.teams
    }

    /// Campaign settings.
    #[must_use]
    pub fn campaign(&self) -> &Campaign {
        &self.campaign
    }

    /// Last day with data.
    #[must_use]
    pub fn as_of(&self) -> NaiveDate {
        self.as_of
    }

    /// 0-based campaign day of [`Engine::as_of`].
    #[must_use]
    pub fn as_of_day(&self) -> u32 {
        self.as_of_day
    }

    /// Total population of the wards by vintage: (2019 census via the crosswalk, 2025 published),
    /// each summed over the wards that have it, and the vintage in use.
    #[must_use]
    pub fn population_vintages(&self) -> (f64, f64, PopulationSource) {
        let wards = self.areas.iter().filter(|a| a.level == Level::Ward);
        let census = wards.clone().filter_map(|a| a.population_census_2019).sum();
        let published = wards.filter_map(|a| a.population_published_2025).sum();
        (census, published, self.population)
    }

    /// What happened to the visit rows.
    #[must_use]
    pub fn visit_report(&self) -> &VisitReport {
        &self.visit_report
    }

    /// Accepted visits that lie in no area.
    #[must_use]
    pub fn outside(&self) -> u64 {
        self.outside
    }

    /// True when the neighbourhoods (and so the roster and visits made for them) are the
    /// generator's synthetic ones.
    #[must_use]
    pub fn synthetic(&self) -> bool {
        self.synthetic
    }

    /// True once any visit has been counted (a province just set up with `phuso init` has
    /// none: its figures are "no data yet", not zeros).
    #[must_use]
    pub fn has_visits(&self) -> bool {
        self.totals.first().is_some_and(|t| t.visits > 0) || self.outside > 0
    }

    /// The precomputed H3 layer (at [`EngineConfig::hex_resolution`]).
    #[must_use]
    pub fn hexes(&self) -> &[HexStats] {
        &self.hexes
    }

    /// The resolution of [`Engine::hexes`].
    #[must_use]
    pub fn hex_resolution(&self) -> Resolution {
        self.hex_resolution
    }

    /// Residents per H3 cell at `res`, spread over the leaf areas (see
    /// [`hex::population_by_cell`]); visits do not change it.
    #[must_use]
    pub fn hex_population(&self, res: Resolution) -> HashMap<h3o::CellIndex, f64> {
        let leaf_pop: Vec<(&MultiPolygon<f64>, f64)> = self
            .leaves
            .iter()
            .filter_map(|&l| {
                self.areas[l]
                    .geometry
                    .as_ref()
                    .map(|g| (g, self.totals[l].population))
            })
            .collect();
        hex::population_by_cell(&leaf_pop, res)
    }

    /// Visits and distinct households per H3 cell at `res`.
    #[must_use]
    pub fn hex_counts(&self, res: Resolution) -> HashMap<h3o::CellIndex, (u64, u64)> {
        let mut counts = hex::HexCounts::new(res);
        for p in &self.points {
            match self.until {
                None => counts.add(&p.lon, &p.lat, &p.household),
                Some(days) => {
                    let keep: Vec<usize> = (0..p.day.len()).filter(|&i| p.day[i] < days).collect();
                    let pick = |v: &[f64]| keep.iter().map(|&i| v[i]).collect::<Vec<f64>>();
                    let household: Vec<u64> = keep.iter().map(|&i| p.household[i]).collect();
                    counts.add(&pick(&p.lon), &pick(&p.lat), &household);
                }
            }
        }
        counts.counts()
    }
}

/// Rolls direct totals up the tree (children come after parents) and computes every figure.
fn aggregate(
    areas: &[Area],
    leaves: &[usize],
    own: &[Totals],
    campaign: &Campaign,
    as_of: NaiveDate,
    as_of_day: u32,
) -> (Vec<Totals>, Vec<Figures>) {
    let mut totals = own.to_vec();
    for &leaf in leaves {
        match metrics::leaf_members_needed(&totals[leaf], campaign, as_of, as_of_day) {
            Some(n) => totals[leaf].members_needed = n,
            None => totals[leaf].out_of_reach = 1,
        }
    }
    for i in (1..areas.len()).rev() {
        let parent = areas[i].parent.expect("only the province has no parent");
        let child = totals[i].clone();
        totals[parent].add(&child);
    }
    let mut figures: Vec<Figures> = areas
        .iter()
        .enumerate()
        .map(|(i, a)| {
            let parent_code = a.parent.map(|p| areas[p].code.0.as_str());
            metrics::figures(
                &a.code.0,
                &a.name,
                a.level,
                parent_code,
                &totals[i],
                campaign,
                as_of,
                as_of_day,
            )
        })
        .collect();
    let children: Vec<&[usize]> = areas.iter().map(|a| a.children.as_slice()).collect();
    metrics::roll_up_projection(&mut figures, &children, as_of);
    (totals, figures)
}

/// Most members one area may have in a what-if: far above any real team (a ward has thousands
/// of residents per member), low enough that no sum of areas can overflow.
pub const MAX_MEMBERS_PER_AREA: u64 = 1_000_000;

/// `members` as a count, if it is at most [`MAX_MEMBERS_PER_AREA`].
fn within_bound(members: i64, change: usize, code: &str) -> Result<u64, String> {
    u64::try_from(members)
        .ok()
        .filter(|m| *m <= MAX_MEMBERS_PER_AREA)
        .ok_or_else(|| {
            format!(
                "change {change}: field `members`: would give {code:?} {members} members; at most {MAX_MEMBERS_PER_AREA} per area"
            )
        })
}

/// A hypothetical change for [`Engine::whatif`]; the stored data is never touched.
#[derive(utoipa::ToSchema, Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(tag = "op", rename_all = "snake_case", deny_unknown_fields)]
pub enum Change {
    /// Add (or, negative, remove) members of the teams of a leaf area.
    AddMembers {
        /// The area (a neighbourhood in the bundled data).
        code: String,
        /// Members to add; negative removes.
        members: i64,
    },
    /// Move members from one leaf area to another.
    MoveMembers {
        /// Giving area.
        from: String,
        /// Receiving area.
        to: String,
        /// Members moved (> 0).
        members: u64,
    },
    /// Change the target coverage (0, 1].
    SetTarget {
        /// New target.
        value: f64,
    },
    /// Change the deadline.
    SetDeadline {
        /// New deadline (after the campaign start).
        date: NaiveDate,
    },
}
