//! The 2019 census table (pre-2025 units) and its crosswalk to 2025 wards.
//!
//! Rule for an old unit split across several new wards (`new_ward_code_2025` lists them separated
//! by `;`): its population and households are divided **equally** among those wards. The source
//! does not say how the old unit was split, and equal shares keep totals exact.

use std::collections::{BTreeMap, HashSet};
use std::path::Path;

use crate::error::{IngestError, Problems};
use crate::ingest::table::Table;
use crate::model::AreaCode;

/// One pre-2025 unit that went (wholly or partly) into a 2025 ward.
#[derive(Debug, Clone, PartialEq)]
pub struct FormerUnit {
    /// GSO 2019 code.
    pub code: String,
    /// Full name as of 2019, e.g. "Phường Bình Chuẩn".
    pub name: String,
    /// Share of the old unit that went into this ward (1/k for a unit split over k wards).
    pub share: f64,
}

/// Census figures attributed to one 2025 ward through the crosswalk.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct WardCensus {
    /// 2019 population, split by the equal-share rule.
    pub population: f64,
    /// 2019 households, split by the equal-share rule.
    pub households: f64,
    /// The former units, for search by old names.
    pub former_units: Vec<FormerUnit>,
    /// Former district (pre-2025) code contributing most households, with its current name.
    pub district: Option<(AreaCode, String)>,
    /// The province of the rows that went into the ward (of the first such row): code and name.
    pub province: Option<(AreaCode, String)>,
}

/// The census attributed to 2025 wards.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Census {
    /// The (former) province of the rows: code and name of the first row.
    pub province: Option<(AreaCode, String)>,
    /// Figures per 2025 ward.
    pub wards: BTreeMap<AreaCode, WardCensus>,
}

/// Reads the census table and attributes it to the 2025 wards in `known_wards`.
///
/// # Errors
/// Missing columns, unparsable numbers, and crosswalk codes that are not among `known_wards`
/// are reported together as [`IngestError::Rows`].
pub fn read_census(path: &Path, known_wards: &HashSet<AreaCode>) -> Result<Census, IngestError> {
    census_from(&Table::read(path, EXPECTED)?, known_wards)
}

/// [`read_census`] on CSV bytes in memory; `path` names them in messages.
///
/// # Errors
/// As [`read_census`].
pub fn parse_census(
    path: &Path,
    bytes: &[u8],
    known_wards: &HashSet<AreaCode>,
) -> Result<Census, IngestError> {
    census_from(&Table::from_csv(path, bytes, EXPECTED)?, known_wards)
}

const EXPECTED: &str = "2019 census rows with a crosswalk to 2025 wards";

fn census_from(table: &Table, known_wards: &HashSet<AreaCode>) -> Result<Census, IngestError> {
    let path = table.path.as_path();
    let province_codes = table.text("province_code", "GSO province code")?;
    let province_names = table.text("province_name", "province name")?;
    let province_of = |row: usize| match (&province_codes[row], &province_names[row]) {
        (Some(c), Some(n)) => Some((AreaCode(c.clone()), n.clone())),
        _ => None,
    };
    let province = if table.height() > 0 {
        province_of(0)
    } else {
        None
    };
    let code = table.text("gso_code_2019", "GSO 2019 code of the unit")?;
    let name = table.text("full_name_2019", "full name of the unit in 2019")?;
    let targets = table.text(
        "new_ward_code_2025",
        "2025 ward code(s) the unit went into, `;`-separated",
    )?;
    let district_code = table.text("district_code", "GSO code of the pre-2025 district")?;
    let district_name = if table.has("district_name_2024") {
        table.text("district_name_2024", "district name in 2024")?
    } else {
        table.text("district_name_2019", "district name in 2019")?
    };
    let mut cells = Vec::new();
    let population = table.f64s("pop_2019_total", "population (a number ≥ 0)", &mut cells)?;
    let households = table.f64s("households_2019", "households (a number ≥ 0)", &mut cells)?;
    let mut problems = Problems::default();
    for (row, what) in &table.malformed {
        problems.push(format!("row {}: {what}", row + 1));
    }
    for c in cells
        .iter()
        .filter(|c| table.malformed_at(c.row - 1).is_none())
    {
        problems.push(c.to_string());
    }
    let mut out: BTreeMap<AreaCode, WardCensus> = BTreeMap::new();
    let mut district_households: BTreeMap<AreaCode, BTreeMap<(String, String), f64>> =
        BTreeMap::new();
    for row in 0..table.height() {
        if table.malformed_at(row).is_some() {
            continue;
        }
        let Some(list) = &targets[row] else {
            problems.push(format!(
                "row {}: column `new_ward_code_2025`: null; expected at least one 2025 ward code",
                row + 1
            ));
            continue;
        };
        let wards: Vec<AreaCode> = list
            .split(';')
            .map(|s| AreaCode(s.trim().to_owned()))
            .collect();
        if let Some(bad) = wards.iter().find(|w| !known_wards.contains(w)) {
            problems.push(format!(
                "row {}: column `new_ward_code_2025`: unknown code {:?}; expected a code of the boundary file",
                row + 1,
                bad.0
            ));
            continue;
        }
        let (p, h) = (population[row], households[row]);
        if !(p >= 0.0 && h >= 0.0) {
            if p.is_finite() && h.is_finite() {
                problems.push(format!(
                    "row {}: negative population {p} or households {h}; expected ≥ 0",
                    row + 1
                ));
            }
            continue;
        }
        let share = 1.0 / wards.len() as f64;
        for w in wards {
            let entry = out.entry(w.clone()).or_default();
            if entry.province.is_none() {
                entry.province = province_of(row);
            }
            entry.population += p * share;
            entry.households += h * share;
            entry.former_units.push(FormerUnit {
                code: code[row].clone().unwrap_or_default(),
                name: name[row].clone().unwrap_or_default(),
                share,
            });
            if let (Some(dc), Some(dn)) = (&district_code[row], &district_name[row]) {
                *district_households
                    .entry(w)
                    .or_default()
                    .entry((dc.clone(), dn.clone()))
                    .or_default() += h * share;
            }
        }
    }
    if !problems.is_empty() {
        return Err(IngestError::Rows {
            file: path.to_owned(),
            problems: problems.into_lines(),
        });
    }
    for (ward, by_district) in district_households {
        let best = by_district
            .into_iter()
            .max_by(|a, b| a.1.total_cmp(&b.1).then_with(|| b.0.cmp(&a.0)));
        if let (Some(entry), Some(((dc, dn), _))) = (out.get_mut(&ward), best) {
            entry.district = Some((AreaCode(dc), dn));
        }
    }
    Ok(Census {
        province,
        wards: out,
    })
}
