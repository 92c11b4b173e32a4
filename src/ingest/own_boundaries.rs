//! A province's own neighbourhood (khu phố / ấp) or residential-group boundaries into a data
//! directory: any layer [`super::layer`] reads, its fields chosen by flags or guessed from the
//! names Vietnamese offices use, each neighbourhood's ward found by code, by name, or (when the
//! file has no ward field) by where it lies; population and households from the file or a
//! spreadsheet ([`super::sheet`]). Everything goes through the boundary checks, and the result
//! is checked against the wards: a neighbourhood that sticks out of its ward by more than a
//! tolerance, and a part of a ward that no neighbourhood covers, are reported.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};

use geo::{BooleanOps, Contains, GeodesicArea, InteriorPoint, MultiPolygon};
use serde_json::{Map, Value};

use super::boundaries::{AreaFeature, BoundaryFields, parse_features, read_boundaries};
use super::crosswalk::fold;
use super::layer::{Field, Layer, OpenOptions, open};
use super::sheet::{Column, read_sheet};
use crate::error::{IngestError, Problems, shown};

/// Which fields hold what; `None` is guessed.
#[derive(Debug, Clone, Default)]
pub struct FieldChoice {
    /// The neighbourhood's code.
    pub code: Option<String>,
    /// Its name.
    pub name: Option<String>,
    /// Its ward: a 2025 ward code or name.
    pub ward: Option<String>,
    /// Residents.
    pub population: Option<String>,
    /// Households.
    pub households: Option<String>,
}

/// Field names guessed for each role, folded (no case, diacritics, spaces or underscores).
pub const GUESSES: [(&str, &[&str]); 5] = [
    (
        "code",
        &[
            "code", "ma", "makp", "makhupho", "maap", "mathon", "matdp", "mato", "makv", "maso",
            "makhuvuc", "id",
        ],
    ),
    (
        "name",
        &[
            "name",
            "ten",
            "tenkp",
            "tenkhupho",
            "tenap",
            "tenthon",
            "tentdp",
            "tento",
            "tenkv",
            "tenkhuvuc",
        ],
    ),
    (
        "ward",
        &[
            "wardcode",
            "maphuong",
            "maxa",
            "mapx",
            "maphuongxa",
            "madvhc",
            "ward",
            "phuong",
            "xa",
            "phuongxa",
            "tenphuong",
            "tenxa",
            "tenphuongxa",
        ],
    ),
    (
        "population",
        &[
            "population",
            "danso",
            "sodan",
            "nhankhau",
            "sonhankhau",
            "tongdanso",
        ],
    ),
    (
        "households",
        &[
            "households",
            "soho",
            "sohogd",
            "hogiadinh",
            "sohogiadinh",
            "tongsoho",
        ],
    ),
];

fn compact(s: &str) -> String {
    fold(s).replace(' ', "")
}

/// The field of `fields` a role most likely is (the earliest alias that matches).
#[must_use]
pub fn guess(fields: &[Field], role: &str) -> Option<String> {
    let aliases = GUESSES.iter().find(|(r, _)| *r == role)?.1;
    aliases
        .iter()
        .find_map(|a| fields.iter().find(|f| compact(&f.name) == *a))
        .map(|f| f.name.clone())
}

/// Options of [`import_neighbourhoods`].
#[derive(Debug, Clone)]
pub struct ImportOptions {
    /// How to open the file.
    pub open: OpenOptions,
    /// Field choices.
    pub fields: FieldChoice,
    /// A spreadsheet with population and households per neighbourhood code (its first sheet
    /// with the headers of [`POPULATION_COLUMNS`]).
    pub population: Option<PathBuf>,
    /// Share of a neighbourhood's area that may lie outside its ward, and of a ward's area that
    /// may lie outside all its neighbourhoods, before it is reported (default 1 %).
    pub tolerance: f64,
}

impl Default for ImportOptions {
    fn default() -> Self {
        Self {
            open: OpenOptions::default(),
            fields: FieldChoice::default(),
            population: None,
            tolerance: 0.01,
        }
    }
}

/// A neighbourhood that sticks out of its ward.
#[derive(Debug, Clone, PartialEq)]
pub struct Outside {
    /// Its code.
    pub code: String,
    /// Its ward.
    pub ward: String,
    /// Area outside the ward, m².
    pub m2: f64,
    /// As a share of its area.
    pub share: f64,
}

/// A ward part no neighbourhood covers.
#[derive(Debug, Clone, PartialEq)]
pub struct Uncovered {
    /// The ward's code.
    pub ward: String,
    /// Its name.
    pub name: String,
    /// Area covered by no neighbourhood, km².
    pub km2: f64,
    /// As a share of the ward.
    pub share: f64,
}

/// What an import did.
#[derive(Debug, Clone)]
pub struct ImportReport {
    /// The layer as read (CRS, encoding, notes…), without its features.
    pub layer: Layer,
    /// Field used for each role, and whether it was guessed.
    pub fields: Vec<(&'static str, String, bool)>,
    /// Neighbourhoods written.
    pub neighbourhoods: usize,
    /// Wards found by code, by name, by location.
    pub wards_by: [usize; 3],
    /// Wards with at least one neighbourhood.
    pub wards_covered: usize,
    /// Wards of the data directory.
    pub wards: usize,
    /// Neighbourhoods sticking out of their ward by more than the tolerance.
    pub outside: Vec<Outside>,
    /// Wards with neighbourhoods whose parts outside them all exceed the tolerance.
    pub uncovered: Vec<Uncovered>,
    /// Where the file was written.
    pub written: PathBuf,
}

/// Reads `file`, checks it against the wards of `dir` and writes `out` (WGS84 GeoJSON; `code`,
/// `name`, `ward_code`, `population`, `households`, the file's own attributes under
/// `source_attributes`): the data directory's `neighbourhoods.geojson`, or a file beside it
/// that the caller checks further before putting it in place.
///
/// # Errors
/// [`IngestError`] naming the file, feature, field and value; nothing is written then.
pub fn import_neighbourhoods(
    dir: &Path,
    file: &Path,
    out: &Path,
    options: &ImportOptions,
) -> Result<ImportReport, IngestError> {
    let wards_file = dir.join("wards_2025.geojson");
    let wards = read_boundaries(&wards_file, &BoundaryFields::default())?;
    let mut layer = open(file, &options.open)?;
    let mut used: Vec<(&'static str, String, bool)> = Vec::new();
    let mut pick =
        |role: &'static str, given: &Option<String>| -> Result<Option<String>, IngestError> {
            if let Some(g) = given {
                if !layer.fields.iter().any(|f| &f.name == g) {
                    return Err(IngestError::format(
                        file,
                        format!(
                            "--{role}-field {g:?}: no such field; fields: {}",
                            names(&layer.fields)
                        ),
                    ));
                }
                used.push((role, g.clone(), false));
                return Ok(Some(g.clone()));
            }
            let g = guess(&layer.fields, role);
            if let Some(g) = &g {
                used.push((role, g.clone(), true));
            }
            Ok(g)
        };
    let code_f = pick("code", &options.fields.code)?.ok_or_else(|| {
        IngestError::format(file, format!("no field looks like the neighbourhood code; choose one with --code-field (fields: {})", names(&layer.fields)))
    })?;
    let name_f = pick("name", &options.fields.name)?;
    let ward_f = pick("ward", &options.fields.ward)?;
    let pop_f = pick("population", &options.fields.population)?;
    let hh_f = pick("households", &options.fields.households)?;

    // Population and households from a sheet, keyed by neighbourhood code.
    let sheet = match &options.population {
        Some(p) => Some(population_sheet(p, None)?),
        None => None,
    };

    let values = layer.to_feature_values();
    let fields = BoundaryFields {
        code: code_f.clone(),
        name: name_f.iter().cloned().collect(),
        parent: None,
    };
    let features = parse_features(file, &values, &fields)?;

    let ward_by_code: HashMap<&str, usize> = wards
        .iter()
        .enumerate()
        .map(|(i, w)| (w.code.0.as_str(), i))
        .collect();
    let mut ward_by_name: HashMap<String, Vec<usize>> = HashMap::new();
    for (i, w) in wards.iter().enumerate() {
        let mut keys: HashSet<String> = HashSet::from([fold(&w.name)]);
        for k in ["name", "full_name"] {
            if let Some(Value::String(s)) = w.properties.get(k) {
                keys.insert(fold(s));
            }
        }
        for k in keys {
            ward_by_name.entry(k).or_default().push(i);
        }
    }
    let mut problems = Problems::default();
    let mut wards_by = [0usize; 3];
    let mut out_features = Vec::with_capacity(features.len());
    let mut ward_of: Vec<usize> = Vec::with_capacity(features.len());
    for (i, f) in features.iter().enumerate() {
        let at = format!("feature {i} (code {:?})", f.code.0);
        let ward = match ward_f.as_ref().map(|k| (k, text(f.properties.get(k)))) {
            Some((k, Some(v))) => {
                if let Some(&w) = ward_by_code.get(v.as_str()) {
                    wards_by[0] += 1;
                    Some(w)
                } else {
                    match ward_by_name.get(&fold(&v)).map(Vec::as_slice) {
                        Some([w]) => {
                            wards_by[1] += 1;
                            Some(*w)
                        }
                        Some(many) => {
                            problems.push(format!(
                                "{at}: field `{k}`: {v:?} names {} wards ({}); give ward codes",
                                many.len(),
                                many.iter()
                                    .map(|&w| wards[w].code.0.as_str())
                                    .collect::<Vec<_>>()
                                    .join(", ")
                            ));
                            None
                        }
                        None => {
                            problems.push(format!("{at}: field `{k}`: {v:?} is neither a code nor a name of a ward of {}", wards_file.display()));
                            None
                        }
                    }
                }
            }
            Some((k, None)) => {
                problems.push(format!(
                    "{at}: field `{k}`: empty; expected the ward's code or name"
                ));
                None
            }
            None => {
                let w = locate(&f.geometry, &wards);
                if w.is_none() {
                    problems.push(format!("{at}: lies in no ward of {} (its interior point is outside them all); is the CRS right? ({})", wards_file.display(), layer.crs));
                }
                wards_by[2] += usize::from(w.is_some());
                w
            }
        };
        let number = |field: &Option<String>,
                      role: &str,
                      from_sheet: Option<f64>|
         -> Result<Option<f64>, String> {
            let own = match field {
                Some(k) => match f.properties.get(k) {
                    None | Some(Value::Null) => None,
                    Some(v) => Some(non_negative(v).ok_or_else(|| {
                        format!("{at}: field `{k}`: {v}; expected a number ≥ 0 of {role}")
                    })?),
                },
                None => None,
            };
            match (own, from_sheet) {
                (Some(a), Some(b)) if (a - b).abs() > 1e-9 => Err(format!(
                    "{at}: {role}: {a} in the file but {b} in the spreadsheet; give one source"
                )),
                (a, b) => Ok(a.or(b)),
            }
        };
        let from_sheet = sheet.as_ref().and_then(|s| s.get(&f.code.0));
        let pop = number(&pop_f, "residents", from_sheet.map(|s| s.0));
        let hh = number(&hh_f, "households", from_sheet.map(|s| s.1));
        let (pop, hh) = match (pop, hh) {
            (Ok(Some(p)), Ok(Some(h))) => (p, h),
            (p, h) => {
                for r in [p, h] {
                    if let Err(e) = r {
                        problems.push(e);
                    }
                }
                if !matches!(
                    (
                        pop_f.is_some() || sheet.is_some(),
                        hh_f.is_some() || sheet.is_some()
                    ),
                    (true, true)
                ) {
                    problems.push(format!("{at}: no population or households: the file has no such field; give --population-field/--households-field, or a spreadsheet with --population FILE"));
                } else if sheet.is_some() && from_sheet.is_none() {
                    problems.push(format!(
                        "{at}: not in the population spreadsheet and no value in the file"
                    ));
                }
                continue;
            }
        };
        let Some(ward) = ward else { continue };
        let mut props = Map::new();
        props.insert("code".into(), Value::String(f.code.0.clone()));
        props.insert("name".into(), Value::String(f.name.clone()));
        props.insert(
            "ward_code".into(),
            Value::String(wards[ward].code.0.clone()),
        );
        props.insert("population".into(), number_value(pop));
        props.insert("households".into(), number_value(hh));
        let mut source = f.properties.clone();
        source.remove("_geometry_problem");
        props.insert("source_attributes".into(), Value::Object(source));
        out_features.push(serde_json::json!({
            "type": "Feature",
            "properties": props,
            "geometry": serde_json::to_value(geojson::Geometry::from(&f.geometry)).unwrap_or(Value::Null),
        }));
        ward_of.push(ward);
    }
    if !problems.is_empty() {
        return Err(IngestError::Features {
            file: file.to_owned(),
            problems: problems.into_lines(),
        });
    }
    let (outside, uncovered) = containment(&features, &ward_of, &wards, options.tolerance);
    let written = out.to_owned();
    let doc = serde_json::json!({"type": "FeatureCollection", "features": out_features});
    let tmp = written.with_extension("tmp");
    std::fs::write(
        &tmp,
        serde_json::to_vec(&doc).map_err(|e| IngestError::format(&written, e.to_string()))?,
    )
    .map_err(|e| IngestError::io(&tmp, e))?;
    std::fs::rename(&tmp, &written).map_err(|e| IngestError::io(&written, e))?;
    let wards_covered = ward_of.iter().collect::<HashSet<_>>().len();
    layer.features.clear();
    Ok(ImportReport {
        layer,
        fields: used,
        neighbourhoods: out_features.len(),
        wards_by,
        wards_covered,
        wards: wards.len(),
        outside,
        uncovered,
        written,
    })
}

fn names(fields: &[Field]) -> String {
    fields
        .iter()
        .map(|f| f.name.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

fn text(v: Option<&Value>) -> Option<String> {
    match v? {
        Value::String(s) if !s.trim().is_empty() => Some(s.trim().to_owned()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

fn non_negative(v: &Value) -> Option<f64> {
    let n = match v {
        Value::Number(n) => n.as_f64(),
        // Text must be a plain whole number: "1.234" is a thousands separator in Vietnamese use,
        // a decimal point elsewhere; refused rather than guessed.
        Value::String(s) => s.trim().parse::<u64>().ok().map(|n| n as f64),
        _ => None,
    }?;
    (n.is_finite() && n >= 0.0).then_some(n)
}

fn number_value(n: f64) -> Value {
    if n.fract() == 0.0 && n < 9e15 {
        Value::from(n as u64)
    } else {
        serde_json::Number::from_f64(n).map_or(Value::Null, Value::Number)
    }
}

/// The ward holding a polygon's interior point.
fn locate(g: &MultiPolygon<f64>, wards: &[AreaFeature]) -> Option<usize> {
    let p = g.interior_point()?;
    wards.iter().position(|w| w.geometry.contains(&p))
}

/// Geodesic area of an overlay's result, m². The overlay leaves slivers of almost no area wound
/// either way, and a part wound the wrong way measures as the rest of the Earth: each part is
/// taken as the smaller of its two sides (every part here is far smaller than a hemisphere).
fn m2(m: &MultiPolygon<f64>) -> f64 {
    const EARTH_M2: f64 = 510_065_621_724_088.4;
    m.0.iter()
        .map(|p| {
            let a = p.geodesic_area_unsigned();
            a.min((EARTH_M2 - a).abs())
        })
        .sum()
}

/// Neighbourhoods sticking out of their ward, and wards with uncovered parts, beyond `tolerance`.
fn containment(
    nbs: &[AreaFeature],
    ward_of: &[usize],
    wards: &[AreaFeature],
    tolerance: f64,
) -> (Vec<Outside>, Vec<Uncovered>) {
    use rayon::prelude::*;
    let outside: Vec<Outside> = nbs
        .par_iter()
        .zip(ward_of.par_iter())
        .filter_map(|(n, &w)| {
            let area = n.geometry.geodesic_area_unsigned();
            let out = m2(&n.geometry.difference(&wards[w].geometry));
            (area > 0.0 && out / area > tolerance).then(|| Outside {
                code: n.code.0.clone(),
                ward: wards[w].code.0.clone(),
                m2: out,
                share: out / area,
            })
        })
        .collect();
    let mut by_ward: HashMap<usize, Vec<&MultiPolygon<f64>>> = HashMap::new();
    for (n, &w) in nbs.iter().zip(ward_of) {
        by_ward.entry(w).or_default().push(&n.geometry);
    }
    let mut uncovered: Vec<Uncovered> = by_ward
        .into_par_iter()
        .filter_map(|(w, parts)| {
            let union = geo::unary_union(parts);
            let ward = &wards[w];
            let area = ward.geometry.geodesic_area_unsigned();
            let left = m2(&ward.geometry.difference(&union));
            (area > 0.0 && left / area > tolerance).then(|| Uncovered {
                ward: ward.code.0.clone(),
                name: ward.name.clone(),
                km2: left / 1e6,
                share: left / area,
            })
        })
        .collect();
    uncovered.sort_by(|a, b| a.ward.cmp(&b.ward));
    (outside, uncovered)
}

/// The columns of a population spreadsheet.
pub const POPULATION_COLUMNS: [Column; 3] = [
    Column {
        name: "code",
        aliases: &[
            "code",
            "area_code",
            "Mã khu phố",
            "Mã KP",
            "Mã ấp",
            "Mã thôn",
            "Mã tổ dân phố",
            "Mã TDP",
            "Mã",
            "Mã khu vực",
        ],
        required: true,
    },
    Column {
        name: "population",
        aliases: &[
            "population",
            "Dân số",
            "Số dân",
            "Nhân khẩu",
            "Số nhân khẩu",
            "Tổng dân số",
        ],
        required: true,
    },
    Column {
        name: "households",
        aliases: &[
            "households",
            "Số hộ",
            "Hộ gia đình",
            "Số hộ gia đình",
            "Tổng số hộ",
        ],
        required: true,
    },
];

/// Population and households per code from a spreadsheet; every bad row listed.
///
/// # Errors
/// As [`read_sheet`], and [`IngestError::Rows`] naming sheet, row, column letter and value.
pub fn population_sheet(
    path: &Path,
    sheet: Option<&str>,
) -> Result<HashMap<String, (f64, f64)>, IngestError> {
    let s = read_sheet(path, sheet, &POPULATION_COLUMNS)?;
    let mut out = HashMap::new();
    let mut problems = Problems::default();
    let (codes, pops, hhs) = (
        s.values("code"),
        s.values("population"),
        s.values("households"),
    );
    for r in 0..s.rows.len() {
        let Some(code) = codes[r].clone() else {
            problems.push(format!(
                "{}: empty; expected the area code",
                s.at(r, "code")
            ));
            continue;
        };
        let mut num = |v: &Option<String>, col: &str| -> Option<f64> {
            let n = v
                .as_deref()
                .and_then(|t| non_negative(&Value::String(t.to_owned())));
            if n.is_none() {
                problems.push(format!(
                    "{}: value {}; expected a whole number ≥ 0 (no thousands separators)",
                    s.at(r, col),
                    shown(v.as_deref())
                ));
            }
            n
        };
        let (p, h) = (num(&pops[r], "population"), num(&hhs[r], "households"));
        if let (Some(p), Some(h)) = (p, h)
            && out.insert(code.clone(), (p, h)).is_some()
        {
            problems.push(format!(
                "{}: code {code:?} twice; one row per area",
                s.at(r, "code")
            ));
        }
    }
    if problems.is_empty() {
        Ok(out)
    } else {
        Err(IngestError::Rows {
            file: path.to_owned(),
            problems: problems.into_lines(),
        })
    }
}

/// What [`import_groups`] did.
#[derive(Debug, Clone)]
pub struct GroupsReport {
    /// The layer as read, without its features.
    pub layer: Layer,
    /// Residential groups placed in a neighbourhood.
    pub placed: usize,
    /// Groups in no neighbourhood: their feature numbers.
    pub unplaced: Vec<usize>,
    /// Neighbourhoods given a count, of all.
    pub neighbourhoods: (usize, usize),
}

/// Counts the residential-group (tổ dân phố) polygons of `file` in each neighbourhood of
/// `dir/neighbourhoods.geojson` (the one holding each group's interior point) and writes the
/// neighbourhoods with that count as `residential_groups` to `out` (the norm of a pair of
/// members per group is then checked against it instead of an estimate from households).
/// Neighbourhoods holding no group keep what they had.
///
/// # Errors
/// When the directory has no neighbourhoods of its own, or the file cannot be read or checked.
pub fn import_groups(
    dir: &Path,
    file: &Path,
    out: &Path,
    options: &OpenOptions,
) -> Result<GroupsReport, IngestError> {
    use geo::BoundingRect;
    let nb_file = dir.join("neighbourhoods.geojson");
    if !nb_file.exists() {
        return Err(IngestError::format(
            &nb_file,
            "no neighbourhoods of this directory's own: import them first (`phuso import neighbourhoods FILE --data DIR`)",
        ));
    }
    let bytes = std::fs::read(&nb_file).map_err(|e| IngestError::io(&nb_file, e))?;
    let nbs =
        super::boundaries::parse_boundaries(&nb_file, &bytes, &BoundaryFields::neighbourhoods())?;
    // The file as written, to add the counts to (the checks above read the same bytes).
    let doc: Value = serde_json::from_slice(&bytes)
        .map_err(|e| IngestError::format(&nb_file, format!("not valid JSON: {e}")))?;
    let mut layer = open(file, options)?;
    // Groups need no code: each is checked as a boundary under its feature number.
    let mut values = layer.to_feature_values();
    for (i, v) in values.iter_mut().enumerate() {
        if let Some(p) = v.get_mut("properties").and_then(Value::as_object_mut) {
            p.insert("_feature".into(), Value::from(i));
        }
    }
    let groups = parse_features(file, &values, &BoundaryFields::with_code("_feature"))?;
    let rects: Vec<Option<geo::Rect<f64>>> =
        nbs.iter().map(|n| n.geometry.bounding_rect()).collect();
    let mut counts: HashMap<usize, u64> = HashMap::new();
    let mut unplaced = Vec::new();
    for (i, g) in groups.iter().enumerate() {
        let Some(p) = g.geometry.interior_point() else {
            unplaced.push(i);
            continue;
        };
        let hit = (0..nbs.len()).find(|&k| {
            rects[k].is_some_and(|r| geo::Intersects::intersects(&r, &p))
                && nbs[k].geometry.contains(&p)
        });
        match hit {
            Some(k) => *counts.entry(k).or_default() += 1,
            None => unplaced.push(i),
        }
    }
    let features = doc
        .get("features")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let updated: Vec<Value> = features
        .into_iter()
        .enumerate()
        .map(|(k, mut f)| {
            if let Some(&n) = counts.get(&k)
                && let Some(p) = f.get_mut("properties").and_then(Value::as_object_mut)
            {
                p.insert("residential_groups".into(), Value::from(n));
            }
            f
        })
        .collect();
    let doc = serde_json::json!({"type": "FeatureCollection", "features": updated});
    let tmp = out.with_extension("tmp");
    std::fs::write(
        &tmp,
        serde_json::to_vec(&doc).map_err(|e| IngestError::format(out, e.to_string()))?,
    )
    .map_err(|e| IngestError::io(&tmp, e))?;
    std::fs::rename(&tmp, out).map_err(|e| IngestError::io(out, e))?;
    layer.features.clear();
    Ok(GroupsReport {
        layer,
        placed: groups.len() - unplaced.len(),
        unplaced,
        neighbourhoods: (counts.len(), nbs.len()),
    })
}
