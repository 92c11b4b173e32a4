//! What the engine reads: a data directory ([`DataPaths`]) or anything else that implements
//! [`Inputs`] (the store), and the checks shared by both.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};

use chrono::{Days, NaiveDate};
use geo::{BoundingRect, MultiPolygon};
use serde::Deserialize;

use phuso_kernel::visit_row;

use super::{DAY_MS, EngineError};
use crate::error::{IngestError, Problems};
use crate::ingest::boundaries::{AreaFeature, BoundaryFields, read_boundaries};
use crate::ingest::census::{Census, read_census};
use crate::ingest::teams::{attach_changes, read_roster_changes, read_teams};
use crate::ingest::visits::{Extent, VisitReport, Visits, read_visits};
use crate::metrics::Campaign;
use crate::model::{AreaCode, Team};

/// Where the inputs are. [`DataPaths::in_dir`] gives the bundled layout.
#[derive(Debug, Clone)]
pub struct DataPaths {
    /// 2025 ward polygons (GeoJSON).
    pub wards: PathBuf,
    /// 2019 census with crosswalk (CSV).
    pub census: PathBuf,
    /// Neighbourhood polygons (GeoJSON, `code`, `name`, `ward_code`, `population`, `households`).
    pub neighbourhoods: PathBuf,
    /// Team roster (CSV or Parquet).
    pub teams: PathBuf,
    /// Changes of members over time (CSV: `team_id`, `effective_from`, `members`); optional.
    pub roster_changes: PathBuf,
    /// Visits (Parquet or CSV).
    pub visits: PathBuf,
    /// Campaign settings and norms (TOML).
    pub norms: PathBuf,
}

impl DataPaths {
    /// True when neither a roster nor visits are there: a province set up with `phuso init`,
    /// before its campaign starts (uploads add them). A roster without visits is a campaign
    /// staffed but not begun (no visits yet); visits without a roster are an error (a visit
    /// needs its team).
    #[must_use]
    pub fn no_campaign_yet(&self) -> bool {
        !self.teams.exists() && !self.visits.exists()
    }

    /// The layout under `dir`: `wards_2025.geojson`, `census_2019.csv`, `norms.toml`, and
    /// `neighbourhoods.geojson`, `teams.csv`, `roster_changes.csv`, `visits.parquet` (or
    /// `visits.csv`) — a province's own files, as `phuso import --data` writes them — each
    /// taken from `synthetic/` when not at the top (the bundled data). No roster changes when
    /// that file is absent.
    #[must_use]
    pub fn in_dir(dir: &Path) -> Self {
        let synthetic = dir.join("synthetic");
        let own_or_synthetic = |name: &str| {
            let own = dir.join(name);
            if own.exists() {
                own
            } else {
                synthetic.join(name)
            }
        };
        let visits = [dir, synthetic.as_path()]
            .into_iter()
            .flat_map(|d| [d.join("visits.parquet"), d.join("visits.csv")])
            .find(|p| p.exists())
            .unwrap_or_else(|| synthetic.join("visits.parquet"));
        Self {
            wards: dir.join("wards_2025.geojson"),
            census: dir.join("census_2019.csv"),
            neighbourhoods: own_or_synthetic("neighbourhoods.geojson"),
            teams: own_or_synthetic("teams.csv"),
            roster_changes: own_or_synthetic("roster_changes.csv"),
            visits,
            norms: dir.join("norms.toml"),
        }
    }
}

/// Where an engine's inputs come from: a data directory ([`DataPaths`]) or the store
/// ([`crate::store::Store`]). Each reader validates as file ingest does and names its source
/// (the file, or the store's record) in messages.
pub trait Inputs {
    /// Campaign settings and norms.
    ///
    /// # Errors
    /// Unreadable or invalid norms.
    fn norms(&self) -> Result<Campaign, EngineError>;
    /// The 2025 wards, and the name of their source for messages.
    ///
    /// # Errors
    /// As [`read_boundaries`].
    fn wards(&self) -> Result<(PathBuf, Vec<AreaFeature>), IngestError>;
    /// The 2019 census attributed to `wards`.
    ///
    /// # Errors
    /// As [`read_census`].
    fn census(&self, wards: &HashSet<AreaCode>) -> Result<Census, IngestError>;
    /// The neighbourhood polygons, when there are any, and their source.
    ///
    /// # Errors
    /// As [`read_boundaries`].
    fn neighbourhoods(
        &self,
        fields: &BoundaryFields,
    ) -> Result<Option<(PathBuf, Vec<AreaFeature>)>, IngestError>;
    /// The roster; teams belong to `leaves`, never to `parents`.
    ///
    /// # Errors
    /// As [`read_teams`].
    fn teams(
        &self,
        leaves: &HashSet<AreaCode>,
        parents: &HashSet<AreaCode>,
    ) -> Result<Vec<Team>, IngestError>;
    /// The visits of the teams in `teams` (team id → roster index).
    ///
    /// # Errors
    /// As [`read_visits`].
    fn visits(
        &self,
        teams: &HashMap<String, u32>,
        extent: Extent,
    ) -> Result<(Visits, VisitReport), IngestError>;
    /// The newest store batch these inputs hold (0 for a data directory): later batches are
    /// applied on top of an engine loaded from them, earlier ones are already in it.
    ///
    /// # Errors
    /// When it cannot be read.
    fn last_batch(&self) -> Result<i64, IngestError> {
        Ok(0)
    }
}

impl Inputs for DataPaths {
    fn norms(&self) -> Result<Campaign, EngineError> {
        read_norms(&self.norms)
    }

    fn wards(&self) -> Result<(PathBuf, Vec<AreaFeature>), IngestError> {
        Ok((
            self.wards.clone(),
            read_boundaries(&self.wards, &BoundaryFields::default())?,
        ))
    }

    fn census(&self, wards: &HashSet<AreaCode>) -> Result<Census, IngestError> {
        read_census(&self.census, wards)
    }

    fn neighbourhoods(
        &self,
        fields: &BoundaryFields,
    ) -> Result<Option<(PathBuf, Vec<AreaFeature>)>, IngestError> {
        if !self.neighbourhoods.exists() {
            return Ok(None);
        }
        Ok(Some((
            self.neighbourhoods.clone(),
            read_boundaries(&self.neighbourhoods, fields)?,
        )))
    }

    fn teams(
        &self,
        leaves: &HashSet<AreaCode>,
        parents: &HashSet<AreaCode>,
    ) -> Result<Vec<Team>, IngestError> {
        if self.no_campaign_yet() {
            return Ok(Vec::new());
        }
        let mut teams = read_teams(&self.teams, leaves, parents)?;
        if self.roster_changes.exists() {
            let ids: HashSet<String> = teams.iter().map(|t| t.team_id.clone()).collect();
            let changes = read_roster_changes(&self.roster_changes, &ids, NaiveDate::MAX)?;
            attach_changes(&mut teams, changes);
        }
        Ok(teams)
    }

    fn visits(
        &self,
        teams: &HashMap<String, u32>,
        extent: Extent,
    ) -> Result<(Visits, VisitReport), IngestError> {
        if !self.visits.exists() {
            return Ok((Visits::default(), VisitReport::default()));
        }
        read_visits(&self.visits, teams, extent)
    }
}

/// The fields of a neighbourhood file: `code`, `name`, `ward_code`.
#[must_use]
pub fn neighbourhood_fields() -> BoundaryFields {
    BoundaryFields::neighbourhoods()
}

/// Checks neighbourhood polygons as the engine needs them: each in a ward of `wards_file`
/// (`ward_codes`), with `population` and `households` numbers ≥ 0; every problem listed.
///
/// # Errors
/// [`IngestError::Features`] naming `nb_file`, the feature, field and value.
pub fn check_neighbourhoods(
    nb_file: &Path,
    features: &[AreaFeature],
    ward_codes: &HashSet<AreaCode>,
    wards_file: &Path,
) -> Result<(), IngestError> {
    let mut problems = Problems::default();
    for (i, f) in features.iter().enumerate() {
        match &f.parent_code {
            Some(w) if ward_codes.contains(w) => {}
            other => problems.push(format!("feature {i} (code {:?}): field `ward_code`: unknown code {}; expected a ward of {}", f.code.0, crate::error::shown(other.as_ref().map(|c| c.0.as_str())), wards_file.display())),
        }
        for key in ["population", "households"] {
            if number_property(f, key).is_none() {
                problems.push(format!(
                    "feature {i} (code {:?}): field `{key}`: {}; expected a number ≥ 0",
                    f.code.0,
                    f.properties
                        .get(key)
                        .map_or_else(|| "absent".to_owned(), ToString::to_string)
                ));
            }
        }
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(IngestError::Features {
            file: nb_file.to_owned(),
            problems: problems.into_lines(),
        })
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NormsFile {
    campaign: Campaign,
}

/// Reads and checks a norms file.
///
/// # Errors
/// [`EngineError::Norms`] naming the field and value.
pub fn read_norms(path: &Path) -> Result<Campaign, EngineError> {
    let text = std::fs::read_to_string(path).map_err(|e| IngestError::io(path, e))?;
    parse_norms(path, &text)
}

/// Parses and checks norms held in memory; `path` names them in messages.
///
/// # Errors
/// As [`read_norms`].
pub fn parse_norms(path: &Path, text: &str) -> Result<Campaign, EngineError> {
    let norms: NormsFile = toml::from_str(text).map_err(|e| EngineError::Norms {
        file: path.to_owned(),
        message: e.to_string(),
    })?;
    norms
        .campaign
        .validate()
        .map_err(|message| EngineError::Norms {
            file: path.to_owned(),
            message,
        })?;
    Ok(norms.campaign)
}

/// Leaves out (and reports) the visits dated outside the campaign window of `campaign`.
pub fn drop_outside_window(visits: &mut Visits, report: &mut VisitReport, campaign: &Campaign) {
    let epoch = NaiveDate::from_ymd_opt(1970, 1, 1).expect("epoch");
    let start_day = visit_row::epoch_day(campaign.start);
    let keep: Vec<bool> = visits
        .ts_local_ms
        .iter()
        .map(|&ts| (0..i64::from(campaign.days)).contains(&visit_row::day_of(ts, start_day)))
        .collect();
    for (i, _) in keep.iter().enumerate().filter(|(_, k)| !**k) {
        let when =
            epoch + Days::new(u64::try_from(visits.ts_local_ms[i].div_euclid(DAY_MS)).unwrap_or(0));
        report.reject(visit_row::Rejection::OutsideWindow.kind(), || {
            format!("visit {}: column `ts`: date {when}; expected {} to {} (the campaign window of norms.toml)", visits.visit_id[i], campaign.start, campaign.deadline() - Days::new(1))
        });
    }
    visits.retain(&keep);
    report.rows_accepted = visits.len();
}

/// The lon/lat box of `geoms`.
#[must_use]
pub fn extent_of<'a>(geoms: impl Iterator<Item = &'a MultiPolygon<f64>>) -> Extent {
    let mut e = Extent {
        min_lon: f64::INFINITY,
        min_lat: f64::INFINITY,
        max_lon: f64::NEG_INFINITY,
        max_lat: f64::NEG_INFINITY,
    };
    for r in geoms.filter_map(BoundingRect::bounding_rect) {
        e.min_lon = e.min_lon.min(r.min().x);
        e.min_lat = e.min_lat.min(r.min().y);
        e.max_lon = e.max_lon.max(r.max().x);
        e.max_lat = e.max_lat.max(r.max().y);
    }
    e
}

/// A number ≥ 0 of a feature's properties.
pub(super) fn number_property(f: &AreaFeature, key: &str) -> Option<f64> {
    f.properties
        .get(key)
        .and_then(serde_json::Value::as_f64)
        .filter(|v| v.is_finite() && *v >= 0.0)
}
