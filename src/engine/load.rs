//! Loading: read and check the inputs, build the area tree (parents before children), add the
//! visits (with the [`Tally`] that the live server adds batches with), roll up.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use chrono::Days;
use geo::{GeodesicArea, MultiPolygon};
use h3o::Resolution;

use super::aggregates::Aggregates;
use super::{
    Area, COUNTRY_CODE, COUNTRY_NAME, Engine, EngineConfig, EngineError, Inputs, PopulationSource,
    Tally, VisitPoints, aggregate, check_neighbourhoods, drop_outside_window, extent_of,
    neighbourhood_fields, number_property,
};
use crate::error::IngestError;
use crate::hex;
use crate::index::AreaIndex;
use crate::ingest::visits::Visits;
use crate::metrics::Campaign;
use crate::metrics::Totals;
use crate::model::{AreaCode, Level, Team, TeamKind};

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
    pub fn load_from(
        inputs: &dyn Inputs,
        population: PopulationSource,
        hex_resolution: Resolution,
    ) -> Result<Self, EngineError> {
        Self::load_live(inputs, population, hex_resolution).map(|(engine, _)| engine)
    }

    /// As [`Engine::load_from`], and the [`Tally`] that later batches are applied with.
    ///
    /// # Errors
    /// As [`Engine::load_from`].
    pub fn load_live(
        inputs: &dyn Inputs,
        population: PopulationSource,
        hex_resolution: Resolution,
    ) -> Result<(Self, Tally), EngineError> {
        Self::load_with(inputs, population, hex_resolution, None)
    }

    /// As [`Engine::load_from`], with the visits given as [`Aggregates`] (computed elsewhere,
    /// e.g. on a Spark cluster; `given.0` names their file in messages) instead of the inputs'
    /// visits. The figures are computed as in a load of the visits; the engine has no visit
    /// points, so it answers figures and reports, not H3 layers at other resolutions or past
    /// days.
    ///
    /// # Errors
    /// As [`Engine::load_from`], and aggregates of another campaign or naming an area, day,
    /// service or cell it does not have.
    pub fn load_aggregated(
        inputs: &dyn Inputs,
        population: PopulationSource,
        hex_resolution: Resolution,
        given: (&Path, &Aggregates),
    ) -> Result<Self, EngineError> {
        Self::load_with(inputs, population, hex_resolution, Some(given)).map(|(e, _)| e)
    }

    #[expect(
        clippy::too_many_lines,
        reason = "one linear pipeline, commented step by step"
    )]
    fn load_with(
        inputs: &dyn Inputs,
        population: PopulationSource,
        hex_resolution: Resolution,
        given: Option<(&Path, &Aggregates)>,
    ) -> Result<(Self, Tally), EngineError> {
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

        let synthetic = neighbourhoods
            .iter()
            .any(|n| n.properties.get("synthetic") == Some(&serde_json::Value::Bool(true)));
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
        // A national directory (wards of several provinces): the country, then its provinces.
        let mut provinces: Vec<(AreaCode, String)> = census
            .wards
            .values()
            .filter_map(|w| w.province.clone())
            .collect();
        provinces.sort();
        provinces.dedup();
        let mut province_pos: HashMap<AreaCode, usize> = HashMap::new();
        if provinces.len() > 1 {
            areas.push(new_area(
                AreaCode(COUNTRY_CODE.into()),
                COUNTRY_NAME.into(),
                Level::Country,
                None,
            ));
            for (code, name) in provinces {
                province_pos.insert(code.clone(), areas.len());
                areas.push(new_area(code, name, Level::Province, Some(0)));
            }
        } else {
            let (pcode, pname) = census
                .province
                .clone()
                .unwrap_or_else(|| (AreaCode("0".into()), "Province".into()));
            areas.push(new_area(pcode, pname, Level::Province, None));
        }
        // The province holding a ward (the root when there is one province): its census rows'
        // or, for a ward without census rows in a national directory, the ward file's.
        let file_province: HashMap<&AreaCode, AreaCode> = wards
            .iter()
            .filter_map(|w| {
                let code = w.properties.get("province_code")?.as_str()?;
                Some((&w.code, AreaCode(code.to_owned())))
            })
            .collect();
        let province_of = |w: &AreaCode| {
            census
                .wards
                .get(w)
                .and_then(|c| c.province.as_ref())
                .map(|(p, _)| p)
                .or_else(|| file_province.get(w))
                .and_then(|p| province_pos.get(p).copied())
                .unwrap_or(0)
        };
        let mut districts: Vec<(AreaCode, String, usize)> = census
            .wards
            .iter()
            .filter_map(|(w, c)| {
                c.district
                    .clone()
                    .map(|(code, name)| (code, name, province_of(w)))
            })
            .collect();
        districts.sort();
        districts.dedup_by(|a, b| a.0 == b.0);
        let mut district_pos = HashMap::new();
        for (code, name, province) in districts {
            district_pos.insert(code.clone(), areas.len());
            areas.push(new_area(code, name, Level::District, Some(province)));
        }
        let mut ward_pos = HashMap::new();
        for w in &wards {
            let c = census.wards.get(&w.code);
            let parent = c
                .and_then(|c| c.district.as_ref())
                .and_then(|(d, _)| district_pos.get(d).copied())
                .unwrap_or_else(|| province_of(&w.code));
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
        for (i, a) in areas.iter().enumerate() {
            if a.level == Level::Neighbourhood {
                own[i].neighbourhoods = 1;
                let groups = groups_given.get(&i).copied().unwrap_or_else(|| {
                    (own[i].households / campaign.households_per_residential_group).ceil()
                });
                own[i].residential_groups = groups.max(0.0) as u64;
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
        let (visits, visit_report) = if let Some((_, a)) = given {
            (Visits::default(), a.visit_report())
        } else {
            let (mut visits, mut report) = inputs.visits(&team_index, extent)?;
            drop_outside_window(&mut visits, &mut report, &campaign);
            (visits, report)
        };

        phase("visits read");
        // 7. Add the visits to the leaves: the code that adds a live batch.
        let leaf_index = AreaIndex::new(
            leaves
                .iter()
                .map(|&l| areas[l].geometry.clone().expect("leaf geometry"))
                .collect(),
        );
        phase("leaf index");
        let leaf_pop: Vec<(&MultiPolygon<f64>, f64)> = leaves
            .iter()
            .map(|&l| {
                (
                    areas[l].geometry.as_ref().expect("leaf geometry"),
                    own[l].population,
                )
            })
            .collect();
        let population_cells = hex::population_by_cell(&leaf_pop, hex_resolution);
        phase("population by H3 cell");
        // Wards with neighbourhoods hold the visits in no neighbourhood (a map that does not
        // cover the whole ward).
        let mapped: Vec<usize> = (0..areas.len())
            .filter(|&i| {
                areas[i].level == Level::Ward
                    && !areas[i].children.is_empty()
                    && areas[i].geometry.is_some()
            })
            .collect();
        let receiving: HashSet<usize> = leaves.iter().chain(&mapped).copied().collect();
        let uncovered = (!mapped.is_empty()).then(|| {
            let index = AreaIndex::new(
                mapped
                    .iter()
                    .map(|&w| areas[w].geometry.clone().expect("filtered"))
                    .collect(),
            );
            (index, mapped)
        });
        let mut tally = Tally::new(
            leaf_index,
            leaves.clone(),
            uncovered,
            campaign.start,
            campaign.days,
            hex_resolution,
            population_cells,
        );
        let mut outside = tally.add(&mut own, &visits);
        tally.set_last_batch(inputs.last_batch()?);
        let mut as_of_day = tally.as_of_day();
        if let Some((path, a)) = given {
            let position = |code: &str| {
                by_code
                    .get(&AreaCode(code.to_owned()))
                    .copied()
                    .filter(|p| receiving.contains(p))
            };
            a.add_to(
                path,
                &mut own,
                position,
                campaign.start,
                campaign.days,
                hex_resolution,
            )?;
            outside = a.outside;
            as_of_day = a.last_day.unwrap_or(0);
        }
        let as_of = campaign.start + Days::new(u64::from(as_of_day));
        staff(&mut own, &areas, &by_code, &teams, &campaign, as_of_day);

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
        let hexes = match given {
            Some((path, a)) => tally.hexes_of(&a.cell_counts(path)?),
            None => tally.hexes(),
        };
        phase("H3 layer");
        tracing::info!(areas = areas.len(), teams = teams.len(), visits = visits.len(), outside, %as_of, "engine loaded");
        let campaign_start = campaign.start;
        let engine = Self {
            areas: Arc::new(areas),
            by_code: Arc::new(by_code),
            teams: Arc::new(teams),
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
            points: vec![Arc::new(VisitPoints::of(visits, campaign_start))],
            leaves,
            hex_resolution,
            synthetic,
            ranked: Default::default(),
            until: None,
        };
        Ok((engine, tally))
    }
}

/// Sets the team figures of every area's direct totals from the roster as of campaign day
/// `as_of_day`: teams with members, members (and observed members), members on each day (the
/// pace counts member-days), and for neighbourhoods the pairs and the TNTN norm. Called at load
/// and again after each batch, since a batch may move the "as of" day past a roster change.
pub(super) fn staff(
    own: &mut [Totals],
    areas: &[Area],
    by_code: &HashMap<AreaCode, usize>,
    teams: &[Team],
    campaign: &Campaign,
    as_of_day: u32,
) {
    let today = campaign.start + Days::new(u64::from(as_of_day));
    for t in own.iter_mut() {
        t.teams = 0;
        t.members = 0;
        t.observed_members = 0;
        t.daily_members.iter_mut().for_each(|m| *m = 0);
    }
    let mut largest_tntn: HashMap<usize, u32> = HashMap::new();
    for team in teams {
        let a = by_code[&team.area_code];
        let now = team.members_on(today);
        let t = &mut own[a];
        t.teams += u64::from(now > 0);
        t.members += u64::from(now);
        t.observed_members += u64::from(now);
        for (d, m) in t.daily_members.iter_mut().enumerate() {
            *m += u64::from(team.members_on(campaign.start + Days::new(d as u64)));
        }
        if team.kind == TeamKind::Tntn {
            let e = largest_tntn.entry(a).or_default();
            *e = (*e).max(now);
        }
    }
    for (i, a) in areas.iter().enumerate() {
        if a.level == Level::Neighbourhood {
            let largest = largest_tntn.get(&i).copied().unwrap_or(0);
            let t = &mut own[i];
            t.pairs = t.members / u64::from(campaign.members_per_group);
            t.pairs_short = t.residential_groups.saturating_sub(t.pairs);
            t.neighbourhoods_below_norm = u64::from(largest < campaign.tntn_min_members);
            t.norm_members_short = u64::from(campaign.tntn_min_members.saturating_sub(largest));
        }
    }
}
