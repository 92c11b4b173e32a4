//! The engine: loads a data directory once (boundaries, census, neighbourhoods, teams, visits,
//! norms), joins visits to areas, rolls figures up the area tree and answers queries with `&self`.
//!
//! Area tree: province → former district → 2025 ward → neighbourhood. Parents always come
//! before their children in [`Engine::areas`], so a reverse pass rolls totals up.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use chrono::{Days, NaiveDate};
use geo::{BoundingRect, GeodesicArea, MultiPolygon};
use h3o::Resolution;
use rustc_hash::FxHashMap;
use serde::{Deserialize, Serialize};

use crate::error::{IngestError, Problems};
use crate::hex::{self, HexStats};
use crate::index::AreaIndex;
use crate::ingest::boundaries::{AreaFeature, BoundaryFields, read_boundaries};
use crate::ingest::census::{Census, FormerUnit, read_census};
use crate::ingest::teams::read_teams;
use crate::ingest::visits::{Extent, VisitReport, Visits, read_visits};
use crate::join::{self, OUTSIDE};
use crate::metrics::{self, Campaign, Figures, Totals};
use crate::model::{AreaCode, Level, Team, TeamKind};
use crate::priority::{self, Priority};

/// Milliseconds per day.
const DAY_MS: i64 = 86_400_000;

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
    /// Visits (Parquet or CSV).
    pub visits: PathBuf,
    /// Campaign settings and norms (TOML).
    pub norms: PathBuf,
}

impl DataPaths {
    /// The bundled layout under `dir`: `wards_2025.geojson`, `census_2019.csv`, `norms.toml`, and
    /// `synthetic/{neighbourhoods.geojson, teams.csv, visits.parquet}` (or `visits.csv` when there
    /// is no Parquet file).
    #[must_use]
    pub fn in_dir(dir: &Path) -> Self {
        let synthetic = dir.join("synthetic");
        Self {
            wards: dir.join("wards_2025.geojson"),
            census: dir.join("census_2019.csv"),
            neighbourhoods: synthetic.join("neighbourhoods.geojson"),
            teams: synthetic.join("teams.csv"),
            visits: if synthetic.join("visits.parquet").exists()
                || !synthetic.join("visits.csv").exists()
            {
                synthetic.join("visits.parquet")
            } else {
                synthetic.join("visits.csv")
            },
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
        read_teams(&self.teams, leaves, parents)
    }

    fn visits(
        &self,
        teams: &HashMap<String, u32>,
        extent: Extent,
    ) -> Result<(Visits, VisitReport), IngestError> {
        read_visits(&self.visits, teams, extent)
    }
}

/// The fields of a neighbourhood file: `code`, `name`, `ward_code`.
#[must_use]
pub fn neighbourhood_fields() -> BoundaryFields {
    BoundaryFields {
        code: "code".into(),
        name: vec!["name".into()],
        parent: Some("ward_code".into()),
    }
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
    areas: Vec<Area>,
    by_code: HashMap<AreaCode, usize>,
    teams: Vec<Team>,
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
    // other resolutions; the other visit columns are dropped once aggregated.
    points: VisitPoints,
    leaves: Vec<usize>,
    hex_resolution: Resolution,
    /// The ranking of each level, computed on first use (figures do not change after load).
    ranked: [OnceLock<Vec<Priority>>; 4],
}

/// The visit columns an engine keeps after loading.
struct VisitPoints {
    lon: Vec<f64>,
    lat: Vec<f64>,
    household: Vec<u64>,
}

fn number_property(f: &AreaFeature, key: &str) -> Option<f64> {
    f.properties
        .get(key)
        .and_then(serde_json::Value::as_f64)
        .filter(|v| v.is_finite() && *v >= 0.0)
}

fn area_km2(g: &MultiPolygon<f64>) -> f64 {
    g.geodesic_area_unsigned() / 1e6
}

impl Engine {
    /// Loads, validates, joins and aggregates the data directory of `config`.
    ///
    /// # Errors
    /// The first input that cannot be used, with file, row or feature, field and value.
    pub fn load(config: &EngineConfig) -> Result<Self, EngineError> {
        Self::load_from(&config.paths, config.population, config.hex_resolution)
    }

    /// Loads, validates, joins and aggregates everything from `inputs`.
    ///
    /// # Errors
    /// The first input that cannot be used, with its source, row or feature, field and value.
    #[expect(
        clippy::too_many_lines,
        reason = "one linear pipeline, commented step by step"
    )]
    pub fn load_from(
        inputs: &dyn Inputs,
        population: PopulationSource,
        hex_resolution: Resolution,
    ) -> Result<Self, EngineError> {
        let campaign = inputs.norms()?;
        let started = std::time::Instant::now();
        let phase = |name: &str| {
            tracing::info!(
                elapsed_s = started.elapsed().as_secs_f64(),
                "load: {name} done"
            );
        };

        // 1. Wards and census.
        let (wards_file, wards) = inputs.wards()?;
        let ward_codes: HashSet<AreaCode> = wards.iter().map(|w| w.code.clone()).collect();
        let census = inputs.census(&ward_codes)?;

        phase("wards and census");
        // 2. Neighbourhoods (optional: without them, wards are the leaves).
        let mut nb_file = PathBuf::new();
        let neighbourhoods =
            if let Some((file, features)) = inputs.neighbourhoods(&neighbourhood_fields())? {
                nb_file = file;
                check_neighbourhoods(&nb_file, &features, &ward_codes, &wards_file)?;
                features
            } else {
                Vec::new()
            };

        phase("neighbourhoods");
        // 3. The area tree: province, districts, wards, neighbourhoods (parents first).
        let mut areas: Vec<Area> = Vec::new();
        let new_area = |code: AreaCode, name: String, level: Level, parent: Option<usize>| Area {
            code,
            name,
            level,
            parent,
            children: Vec::new(),
            geometry: None,
            population_census_2019: None,
            population_published_2025: None,
            former_units: Vec::new(),
        };
        let (pcode, pname) = census
            .province
            .clone()
            .unwrap_or_else(|| (AreaCode("0".into()), "Province".into()));
        areas.push(new_area(pcode, pname, Level::Province, None));
        let mut districts: Vec<(AreaCode, String)> = census
            .wards
            .values()
            .filter_map(|w| w.district.clone())
            .collect();
        districts.sort();
        districts.dedup();
        let mut district_pos = HashMap::new();
        for (code, name) in districts {
            district_pos.insert(code.clone(), areas.len());
            areas.push(new_area(code, name, Level::District, Some(0)));
        }
        let mut ward_pos = HashMap::new();
        for w in &wards {
            let c = census.wards.get(&w.code);
            let parent = c
                .and_then(|c| c.district.as_ref())
                .and_then(|(d, _)| district_pos.get(d).copied())
                .unwrap_or(0);
            ward_pos.insert(w.code.clone(), areas.len());
            let mut a = new_area(w.code.clone(), w.name.clone(), Level::Ward, Some(parent));
            a.geometry = Some(w.geometry.clone());
            a.population_census_2019 = c.map(|c| c.population);
            a.population_published_2025 = number_property(w, "population_published");
            a.former_units = c.map(|c| c.former_units.clone()).unwrap_or_default();
            areas.push(a);
        }
        let mut nb_share: HashMap<usize, (f64, f64)> = HashMap::new();
        let mut groups_given: HashMap<usize, f64> = HashMap::new();
        let mut nb_sums: HashMap<usize, (f64, f64)> = HashMap::new();
        for n in &neighbourhoods {
            let parent = ward_pos[n.parent_code.as_ref().expect("checked above")];
            let (pop, hh) = (
                number_property(n, "population").unwrap_or(0.0),
                number_property(n, "households").unwrap_or(0.0),
            );
            let s = nb_sums.entry(parent).or_default();
            s.0 += pop;
            s.1 += hh;
            nb_share.insert(areas.len(), (pop, hh));
            if let Some(g) = number_property(n, "residential_groups") {
                groups_given.insert(areas.len(), g);
            }
            let mut a = new_area(
                n.code.clone(),
                n.name.clone(),
                Level::Neighbourhood,
                Some(parent),
            );
            a.geometry = Some(n.geometry.clone());
            areas.push(a);
        }
        let mut by_code = HashMap::new();
        for (i, a) in areas.iter().enumerate() {
            if let Some(prev) = by_code.insert(a.code.clone(), i) {
                return Err(IngestError::format(&nb_file, format!("area code {:?} is used by two areas ({} and {}); codes must be unique across levels", a.code.0, areas[prev].name, a.name)).into());
            }
        }
        for i in 0..areas.len() {
            if let Some(parent) = areas[i].parent {
                areas[parent].children.push(i);
            }
        }
        let leaves: Vec<usize> = (0..areas.len())
            .filter(|&i| areas[i].children.is_empty() && areas[i].geometry.is_some())
            .collect();

        // 4. Leaf totals: population, households, area.
        let days = campaign.days as usize;
        let mut own: Vec<Totals> = vec![Totals::with_days(days); areas.len()];
        for &leaf in &leaves {
            let a = &areas[leaf];
            let (ward, share_pop, share_hh) = if a.level == Level::Neighbourhood {
                let ward = a.parent.expect("neighbourhoods have wards");
                let (pop, hh) = nb_share[&leaf];
                let (sp, sh) = nb_sums[&ward];
                (
                    ward,
                    if sp > 0.0 { pop / sp } else { 0.0 },
                    if sh > 0.0 { hh / sh } else { 0.0 },
                )
            } else {
                (leaf, 1.0, 1.0)
            };
            let c = census.wards.get(&areas[ward].code);
            let population = match population {
                PopulationSource::Census2019 => c.map(|c| c.population),
                PopulationSource::Published2025 => areas[ward].population_published_2025,
            }
            .unwrap_or(0.0);
            let t = &mut own[leaf];
            t.population = population * share_pop;
            t.households = c.map_or(0.0, |c| c.households) * share_hh;
            t.area_km2 = area_km2(a.geometry.as_ref().expect("leaves have geometry"));
        }

        // 5. Teams.
        let leaf_codes: HashSet<AreaCode> = leaves.iter().map(|&l| areas[l].code.clone()).collect();
        let parent_codes: HashSet<AreaCode> = by_code
            .keys()
            .filter(|c| !leaf_codes.contains(*c))
            .cloned()
            .collect();
        let teams = inputs.teams(&leaf_codes, &parent_codes)?;
        let mut largest_tntn: HashMap<usize, u32> = HashMap::new();
        for t in &teams {
            let a = by_code[&t.area_code];
            own[a].teams += 1;
            own[a].members += u64::from(t.members);
            own[a].observed_members += u64::from(t.members);
            if t.kind == TeamKind::Tntn {
                let e = largest_tntn.entry(a).or_default();
                *e = (*e).max(t.members);
            }
        }
        for (i, a) in areas.iter().enumerate() {
            if a.level == Level::Neighbourhood {
                let largest = largest_tntn.get(&i).copied().unwrap_or(0);
                own[i].neighbourhoods = 1;
                let groups = groups_given.get(&i).copied().unwrap_or_else(|| {
                    (own[i].households / campaign.households_per_residential_group).ceil()
                });
                own[i].residential_groups = groups.max(0.0) as u64;
                own[i].pairs = own[i].members / u64::from(campaign.members_per_group);
                own[i].pairs_short = own[i].residential_groups.saturating_sub(own[i].pairs);
                own[i].neighbourhoods_below_norm = u64::from(largest < campaign.tntn_min_members);
                own[i].norm_members_short =
                    u64::from(campaign.tntn_min_members.saturating_sub(largest));
            }
        }

        phase("teams");
        // 6. Visits, kept only inside the campaign window.
        let team_index: HashMap<String, u32> = teams
            .iter()
            .enumerate()
            .map(|(i, t)| {
                (
                    t.team_id.clone(),
                    u32::try_from(i).expect("roster fits u32"),
                )
            })
            .collect();
        let extent = extent_of(wards.iter().map(|w| &w.geometry));
        let (mut visits, mut visit_report) = inputs.visits(&team_index, extent)?;
        let epoch = NaiveDate::from_ymd_opt(1970, 1, 1).expect("epoch");
        let start_day = campaign.start.signed_duration_since(epoch).num_days();
        let day_of = |ts: i64| ts.div_euclid(DAY_MS) - start_day;
        drop_outside_window(&mut visits, &mut visit_report, &campaign);
        visit_report.rows_accepted = visits.len();

        phase("visits read");
        // 7. Join to leaves and aggregate.
        let leaf_index = AreaIndex::new(
            leaves
                .iter()
                .map(|&l| areas[l].geometry.clone().expect("leaf geometry"))
                .collect(),
        );
        let assigned = join::assign(&leaf_index, &visits.lon, &visits.lat);
        let mut outside = 0;
        // First visit of each household: (ts, visit id, leaf). Memory grows with households,
        // not visits.
        let mut firsts: FxHashMap<u64, (i64, u64, u32)> = FxHashMap::default();
        let mut max_day = 0_i64;
        for (i, &leaf_pos) in assigned.iter().enumerate() {
            let day = day_of(visits.ts_local_ms[i]);
            max_day = max_day.max(day);
            if leaf_pos == OUTSIDE {
                outside += 1;
                continue;
            }
            let t = &mut own[leaves[leaf_pos as usize]];
            t.visits += 1;
            t.per_service[visits.service[i] as usize] += 1;
            let d = usize::try_from(day).expect("in window");
            t.daily_visits[d] += 1;
            t.daily_service[d][visits.service[i] as usize] += 1;
            let key = (visits.ts_local_ms[i], visits.visit_id[i], leaf_pos);
            firsts
                .entry(visits.household[i])
                .and_modify(|v| {
                    if (key.0, key.1) < (v.0, v.1) {
                        *v = key;
                    }
                })
                .or_insert(key);
        }
        for &(ts, _, leaf_pos) in firsts.values() {
            let t = &mut own[leaves[leaf_pos as usize]];
            t.households_reached += 1;
            t.daily_new_households[usize::try_from(day_of(ts)).expect("in window")] += 1;
        }
        drop(firsts);
        let as_of_day = u32::try_from(max_day).expect("in window");
        let as_of = campaign.start + Days::new(u64::from(as_of_day));

        phase("join and aggregation");
        // 8. Roll up and compute figures.
        // Parents without a geometry of their own get the union of their wards'.
        for i in (0..areas.len()).rev() {
            if areas[i].geometry.is_none() && !areas[i].children.is_empty() {
                let parts: Vec<&MultiPolygon<f64>> = areas[i]
                    .children
                    .iter()
                    .filter_map(|&c| areas[c].geometry.as_ref())
                    .collect();
                areas[i].geometry = Some(geo::unary_union(parts));
            }
        }
        for i in 0..areas.len() {
            if areas[i].level != Level::Ward && areas[i].level != Level::Neighbourhood {
                areas[i].population_census_2019 = Some(
                    areas[i]
                        .children
                        .iter()
                        .filter_map(|&c| areas[c].population_census_2019)
                        .sum(),
                );
            }
        }
        let (totals, figures) = aggregate(&areas, &leaves, &own, &campaign, as_of, as_of_day);

        phase("roll-up");
        // 9. H3 layer.
        let leaf_pop: Vec<(&MultiPolygon<f64>, f64)> = leaves
            .iter()
            .map(|&l| {
                (
                    areas[l].geometry.as_ref().expect("leaf geometry"),
                    totals[l].population,
                )
            })
            .collect();
        let population_cells = hex::population_by_cell(&leaf_pop, hex_resolution);
        let counts = hex::visit_counts(&visits.lon, &visits.lat, &visits.household, hex_resolution);
        let hexes = hex::hex_layer(&counts, &population_cells);

        phase("H3 layer");
        tracing::info!(areas = areas.len(), teams = teams.len(), visits = visits.len(), outside, %as_of, "engine loaded");
        Ok(Self {
            areas,
            by_code,
            teams,
            campaign,
            as_of,
            as_of_day,
            totals,
            figures,
            visit_report,
            outside,
            hexes,
            population,
            own,
            points: VisitPoints {
                lon: visits.lon,
                lat: visits.lat,
                household: visits.household,
            },
            leaves,
            hex_resolution,
            ranked: Default::default(),
        })
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
                    own[p].members = u64::try_from(after).unwrap_or(0);
                }
                Change::MoveMembers { from, to, members } => {
                    let (f, t) = (leaf(i, from, "from")?, leaf(i, to, "to")?);
                    if *members == 0 || own[f].members < *members {
                        return Err(format!(
                            "change {i}: field `members`: {members}; expected 1..={} (the members of {from:?})",
                            own[f].members
                        ));
                    }
                    own[f].members -= members;
                    own[t].members += members;
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

    /// The precomputed H3 layer (at [`EngineConfig::hex_resolution`]).
    #[must_use]
    pub fn hexes(&self) -> &[HexStats] {
        &self.hexes
    }

    /// The H3 layer at any resolution: the precomputed one, or computed now from the visits and
    /// the leaf areas' population (seconds at resolution 10 for the bundled province).
    #[must_use]
    pub fn hexes_at(&self, res: Resolution) -> Vec<HexStats> {
        if res == self.hex_resolution {
            return self.hexes.clone();
        }
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
        let population = hex::population_by_cell(&leaf_pop, res);
        let counts = hex::visit_counts(
            &self.points.lon,
            &self.points.lat,
            &self.points.household,
            res,
        );
        hex::hex_layer(&counts, &population)
    }
}

/// Leaves out (and reports) the visits dated outside the campaign window of `campaign`.
pub fn drop_outside_window(visits: &mut Visits, report: &mut VisitReport, campaign: &Campaign) {
    let epoch = NaiveDate::from_ymd_opt(1970, 1, 1).expect("epoch");
    let start_day = campaign.start.signed_duration_since(epoch).num_days();
    let day_of = |ts: i64| ts.div_euclid(DAY_MS) - start_day;
    let keep: Vec<bool> = visits
        .ts_local_ms
        .iter()
        .map(|&ts| (0..i64::from(campaign.days)).contains(&day_of(ts)))
        .collect();
    for (i, _) in keep.iter().enumerate().filter(|(_, k)| !**k) {
        let when =
            epoch + Days::new(u64::try_from(visits.ts_local_ms[i].div_euclid(DAY_MS)).unwrap_or(0));
        report.reject("outside campaign window", || {
            format!("visit {}: column `ts`: date {when}; expected {} to {} (the campaign window of norms.toml)", visits.visit_id[i], campaign.start, campaign.deadline() - Days::new(1))
        });
    }
    visits.retain(&keep);
    report.rows_accepted = visits.len();
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

/// A hypothetical change for [`Engine::whatif`]; the stored data is never touched.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
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
