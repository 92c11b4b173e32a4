//! A data directory for any of the 34 provinces, from the bundled national files
//! (`data/national/`): its 2025 wards (simplified geometry), the 2019 census of the pre-2025
//! units it was formed from, and the crosswalk between them derived from the published
//! `formed_from` text ([`super::crosswalk`]). No neighbourhood polygons, no roster, no visits:
//! the figures are at ward level until the province adds its own.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use serde::Serialize;
use serde_json::Value;

use super::crosswalk::{self, Crosswalk, NewWard, OldUnit, Unmatched};
use super::provinces::Province;
use crate::error::IngestError;

/// The national wards file under the national directory.
pub const WARDS_FILE: &str = "vietnam_wards_2025.geojson";
/// The national 2019 census file under the national directory.
pub const CENSUS_FILE: &str = "vietnam_wards_2019_census.csv";

/// What `init` wrote and how well the crosswalk matched.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct InitReport {
    /// The province's GSO code.
    pub province: String,
    /// Its name.
    pub name: String,
    /// 2025 wards written.
    pub wards: usize,
    /// 2019 units of its former provinces.
    pub units_2019: usize,
    /// Of them, reaching no 2025 ward.
    pub units_unmatched: usize,
    /// 2019 households of the former provinces.
    pub households_2019: f64,
    /// Of them, in units reaching no ward (not counted in any ward).
    pub households_unmatched: f64,
    /// `households_unmatched / households_2019`.
    pub unmatched_share: f64,
    /// 2025 wards whose text matched no unit at all (no census households).
    pub wards_without_census: Vec<String>,
    /// Items of the wards' texts that matched nothing, or ambiguously.
    pub items_unmatched: Vec<Unmatched>,
    /// Summed published 2025 population of the wards.
    pub population_published: f64,
    /// The files written.
    pub files: Vec<PathBuf>,
}

fn io(file: &Path) -> impl FnOnce(std::io::Error) -> IngestError + '_ {
    move |source| IngestError::Io {
        file: file.to_owned(),
        source,
    }
}

fn format_error(file: &Path, message: impl Into<String>) -> IngestError {
    IngestError::Format {
        file: file.to_owned(),
        message: message.into(),
    }
}

/// The national census rows of `province`'s former provinces: the header and the records.
fn census_rows(
    path: &Path,
    province: &Province,
) -> Result<(csv::StringRecord, Vec<csv::StringRecord>), IngestError> {
    let mut r = csv::Reader::from_path(path).map_err(|e| format_error(path, e.to_string()))?;
    let header = r
        .headers()
        .map_err(|e| format_error(path, e.to_string()))?
        .clone();
    let col = header
        .iter()
        .position(|h| h == "province_code")
        .ok_or_else(|| IngestError::MissingColumn {
            file: path.to_owned(),
            column: "province_code".into(),
            expected: "GSO province code (pre-2025)".into(),
            found: header.iter().collect::<Vec<_>>().join(", "),
        })?;
    let name_col = header.iter().position(|h| h == "province_name");
    let mut all = Vec::new();
    for (i, rec) in r.records().enumerate() {
        all.push(rec.map_err(|e| format_error(path, format!("row {}: {e}", i + 1)))?);
    }
    // The few rows without codes (island districts, units changed in early 2019) have their
    // province's name: its code is that of the other rows of that name.
    let mut code_of_name: HashMap<String, String> = HashMap::new();
    if let Some(n) = name_col {
        for rec in &all {
            let (code, name) = (
                rec.get(col).unwrap_or_default(),
                rec.get(n).unwrap_or_default(),
            );
            if !code.is_empty() {
                code_of_name.insert(name.to_owned(), code.to_owned());
            }
        }
    }
    let rows = all
        .into_iter()
        .filter_map(|mut rec| {
            let mut code = rec.get(col).unwrap_or_default().to_owned();
            if code.is_empty() {
                code = name_col
                    .and_then(|n| code_of_name.get(rec.get(n).unwrap_or_default()))
                    .cloned()
                    .unwrap_or_default();
                let mut fields: Vec<String> = rec.iter().map(str::to_owned).collect();
                fields[col].clone_from(&code);
                let at = rec.position().cloned();
                rec = csv::StringRecord::from(fields);
                rec.set_position(at);
            }
            province.formed_from.contains(&code.as_str()).then_some(rec)
        })
        .collect();
    Ok((header, rows))
}

/// Writes a data directory for `province` into `out` from the national files in `national`
/// and the norms file `norms` (copied).
///
/// # Errors
/// When a national file cannot be read or is not what it should be, or `out` cannot be
/// written.
pub fn init_province(
    national: &Path,
    norms: &Path,
    province: &Province,
    out: &Path,
) -> Result<InitReport, IngestError> {
    let wards_path = national.join(WARDS_FILE);
    let national_doc = read_national_wards(&wards_path)?;
    init_from(&national_doc, national, norms, province, out)
}

/// The national document's other members (type, name, crs …) with `features`.
fn with_features(national_doc: &Value, features: Vec<Value>) -> Value {
    let mut members: serde_json::Map<String, Value> = national_doc
        .as_object()
        .into_iter()
        .flatten()
        .filter(|(k, _)| k.as_str() != "features")
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    members.insert("features".into(), Value::Array(features));
    Value::Object(members)
}

/// The national wards file, parsed.
fn read_national_wards(wards_path: &Path) -> Result<Value, IngestError> {
    let text = std::fs::read_to_string(wards_path).map_err(io(wards_path))?;
    serde_json::from_str(&text).map_err(|e| format_error(wards_path, e.to_string()))
}

/// [`init_province`] with the national wards file already read.
fn init_from(
    national_doc: &Value,
    national: &Path,
    norms: &Path,
    province: &Province,
    out: &Path,
) -> Result<InitReport, IngestError> {
    let wards_path = national.join(WARDS_FILE);
    let census_path = national.join(CENSUS_FILE);
    // The province's 2025 wards.
    let all = national_doc
        .get("features")
        .and_then(Value::as_array)
        .ok_or_else(|| format_error(&wards_path, "not a FeatureCollection"))?;
    let doc = with_features(
        national_doc,
        all.iter()
            .filter(|f| f["properties"]["province_code"].as_str() == Some(province.code))
            .cloned()
            .collect(),
    );
    let features = doc["features"].as_array().map_or(&[][..], Vec::as_slice);
    if features.is_empty() {
        return Err(format_error(
            &wards_path,
            format!("no ward with province_code {}", province.code),
        ));
    }
    let prop = |f: &Value, k: &str| f["properties"][k].as_str().unwrap_or_default().to_owned();
    let new: Vec<NewWard> = features
        .iter()
        .map(|f| NewWard {
            code: prop(f, "code"),
            name: prop(f, "full_name"),
            formed_from: prop(f, "formed_from"),
        })
        .collect();
    let population_published: f64 = features
        .iter()
        .filter_map(|f| f["properties"]["population_published"].as_f64())
        .sum();
    let ward_names: HashMap<String, String> = new
        .iter()
        .map(|w| (w.code.clone(), w.name.clone()))
        .collect();

    // The census of its former provinces, and the crosswalk.
    let (header, rows) = census_rows(&census_path, province)?;
    let at = |name: &str| header.iter().position(|h| h == name);
    let field = |rec: &csv::StringRecord, name: &str| -> String {
        at(name)
            .and_then(|i| rec.get(i))
            .unwrap_or_default()
            .to_owned()
    };
    let households = |r: &csv::StringRecord| -> Result<f64, IngestError> {
        let v = field(r, "households_2019");
        v.parse::<f64>()
            .ok()
            .filter(|h| h.is_finite() && *h >= 0.0)
            .ok_or_else(|| {
                format_error(
                    &census_path,
                    format!(
                        "line {}: column `households_2019`: value {v:?}; expected a number of households ≥ 0",
                        r.position().map_or(0, csv::Position::line)
                    ),
                )
            })
    };
    let old: Vec<OldUnit> = rows
        .iter()
        .map(|r| {
            Ok(OldUnit {
                code_2019: field(r, "gso_code_2019"),
                name_2019: field(r, "full_name_2019"),
                code_2024: field(r, "gso_code_2024"),
                name_2024: newer(field(r, "full_name_2024"), field(r, "full_name_2019")),
                district_2024: newer(
                    field(r, "district_name_2024"),
                    field(r, "district_name_2019"),
                ),
                households: households(r)?,
            })
        })
        .collect::<Result<_, IngestError>>()?;
    let cw: Crosswalk = crosswalk::derive(&new, &old);
    let (lost, total) = cw.unmatched_households(&old);
    let per_ward = crosswalk::households_per_ward(&old, &cw);
    let wards_without_census: Vec<String> = new
        .iter()
        .filter(|w| !per_ward.contains_key(&w.code))
        .map(|w| w.code.clone())
        .collect();

    std::fs::create_dir_all(out).map_err(io(out))?;
    let mut files = Vec::new();
    // Wards.
    let wards_out = out.join("wards_2025.geojson");
    std::fs::write(&wards_out, doc.to_string()).map_err(io(&wards_out))?;
    files.push(wards_out);
    // Census with the crosswalk; the root province is the 2025 one.
    let census_out = out.join("census_2019.csv");
    let mut w = csv::Writer::from_path(&census_out)
        .map_err(|e| format_error(&census_out, e.to_string()))?;
    let mut head: Vec<String> = header.iter().map(str::to_owned).collect();
    head.extend(
        [
            "province_code_2019",
            "province_name_2019",
            "district_code_2019",
            "new_ward_code_2025",
            "new_ward_name_2025",
            "split_across_new_wards",
        ]
        .map(str::to_owned),
    );
    let write_err = |e: csv::Error| format_error(&census_out, e.to_string());
    w.write_record(&head).map_err(write_err)?;
    let (pc, pn, dc) = (
        at("province_code"),
        at("province_name"),
        at("district_code"),
    );
    for (rec, wards) in rows.iter().zip(&cw.wards_of) {
        if wards.is_empty() {
            continue;
        }
        let mut fields: Vec<String> = rec.iter().map(str::to_owned).collect();
        let (old_code, old_name) = (field(rec, "province_code"), field(rec, "province_name"));
        if let Some(i) = pc {
            fields[i] = province.code.to_owned();
        }
        if let Some(i) = pn {
            fields[i] = province.name.to_owned();
        }
        // The district of late 2024, whose name the census reader shows (some units moved
        // between districts after 2019).
        let old_district = field(rec, "district_code");
        let district_2024 = field(rec, "district_code_2024");
        if let Some(i) = dc
            && !district_2024.is_empty()
        {
            fields[i] = district_2024;
        }
        let names: Vec<&str> = wards
            .iter()
            .map(|c| ward_names.get(c).map_or("", String::as_str))
            .collect();
        fields.extend([
            old_code,
            old_name,
            old_district,
            wards.join(";"),
            names.join(";"),
            if wards.len() > 1 { "True" } else { "False" }.to_owned(),
        ]);
        w.write_record(&fields).map_err(write_err)?;
    }
    w.flush().map_err(io(&census_out))?;
    files.push(census_out);
    // What did not match.
    let unmatched_out = out.join("crosswalk_unmatched.csv");
    let mut u = csv::Writer::from_path(&unmatched_out)
        .map_err(|e| format_error(&unmatched_out, e.to_string()))?;
    let uerr = |e: csv::Error| format_error(&unmatched_out, e.to_string());
    u.write_record(["kind", "code", "name", "item", "why", "households_2019"])
        .map_err(uerr)?;
    for m in &cw.unmatched {
        u.write_record([
            "2025 ward item",
            &m.ward,
            ward_names.get(&m.ward).map_or("", String::as_str),
            &m.item,
            &m.why,
            "",
        ])
        .map_err(uerr)?;
    }
    for (o, wards) in old.iter().zip(&cw.wards_of) {
        if wards.is_empty() {
            u.write_record([
                "2019 unit in no ward",
                &o.code_2019,
                &o.name_2019,
                "",
                "named by no 2025 ward's formed_from text",
                &o.households.to_string(),
            ])
            .map_err(uerr)?;
        }
    }
    u.flush().map_err(io(&unmatched_out))?;
    files.push(unmatched_out);
    // Norms.
    let norms_out = out.join("norms.toml");
    std::fs::copy(norms, &norms_out).map_err(io(norms))?;
    files.push(norms_out);
    // Where it all came from.
    let readme = out.join("README.md");
    std::fs::write(&readme, readme_text(province)).map_err(io(&readme))?;
    files.push(readme);

    let units_unmatched = cw.wards_of.iter().filter(|w| w.is_empty()).count();
    Ok(InitReport {
        province: province.code.to_owned(),
        name: province.name.to_owned(),
        wards: new.len(),
        units_2019: old.len(),
        units_unmatched,
        households_2019: total,
        households_unmatched: lost,
        unmatched_share: if total > 0.0 { lost / total } else { 0.0 },
        wards_without_census,
        items_unmatched: cw.unmatched,
        population_published,
        files,
    })
}

/// The 2024 value, or the 2019 one when the change list has none.
fn newer(v2024: String, v2019: String) -> String {
    if v2024.is_empty() { v2019 } else { v2024 }
}

fn readme_text(p: &Province) -> String {
    format!(
        "# {name} ({code}): a Phủ Số data directory made by `phuso init`\n\n\
         - `wards_2025.geojson`: the province's 2025 wards from the bundled national file \
         (**simplified** geometry, about 1 m precision: fine for maps and figures, not for exact \
         point-in-polygon work on borders). Ranh giới hành chính: Bản đồ tham khảo đơn vị hành \
         chính Việt Nam (sapnhap.bando.com.vn), NXB Tài nguyên, Môi trường và Bản đồ Việt Nam; via \
         thanglequoc/vietnamese-provinces-database (MIT). `population_published` (2025) and its \
         `population_source` quality flag are as published.\n\
         - `census_2019.csv`: the 2019 census units of the pre-2025 provinces {old} (Tổng cục Thống \
         kê, Tổng điều tra dân số và nhà ở 01/4/2019), with `new_ward_code_2025` derived by \
         `phuso init` from each ward's published `formed_from` text (a unit named by several \
         wards is split among them in equal shares). Units no ward names are left out: see \
         `crosswalk_unmatched.csv`.\n\
         - `norms.toml`: the campaign settings, copied from the bundled data: set your campaign's \
         start, days and target before serving.\n\n\
         No neighbourhood polygons, roster or visits yet: add them (`synthetic/` layout of the \
         bundled data, or uploads to the store) and the figures go below ward level.\n",
        name = p.name,
        code = p.code,
        old = p.formed_from.join(", "),
    )
}

/// Writes a data directory for the whole country into `out`: every province's wards, census
/// and crosswalk as [`init_province`] writes them (each province's own files kept under
/// `out/provinces/<code>/`), merged into one `wards_2025.geojson` and one `census_2019.csv`.
/// The engine then roots the area tree at the country, with the 34 provinces below it.
///
/// # Errors
/// As [`init_province`], for the first province that fails.
pub fn init_country(
    national: &Path,
    norms: &Path,
    out: &Path,
) -> Result<Vec<InitReport>, IngestError> {
    let wards_path = national.join(WARDS_FILE);
    let national_doc = read_national_wards(&wards_path)?;
    let mut reports = Vec::new();
    let mut features: Vec<Value> = Vec::new();
    let mut census: Option<csv::Writer<std::fs::File>> = None;
    let census_out = out.join("census_2019.csv");
    let write_err = |e: csv::Error| format_error(&census_out, e.to_string());
    let mut unmatched = String::new();
    for p in &super::provinces::PROVINCES {
        let dir = out.join("provinces").join(p.code);
        reports.push(init_from(&national_doc, national, norms, p, &dir)?);
        let wards = dir.join("wards_2025.geojson");
        let doc = read_national_wards(&wards)?;
        if let Some(Value::Array(f)) = doc.get("features") {
            features.extend(f.iter().cloned());
        }
        let part = dir.join("census_2019.csv");
        let mut r =
            csv::Reader::from_path(&part).map_err(|e| format_error(&part, e.to_string()))?;
        if census.is_none() {
            let mut w = csv::Writer::from_path(&census_out).map_err(write_err)?;
            w.write_record(
                r.headers()
                    .map_err(|e| format_error(&part, e.to_string()))?,
            )
            .map_err(write_err)?;
            census = Some(w);
        }
        let w = census.as_mut().expect("set above");
        for rec in r.records() {
            w.write_record(&rec.map_err(|e| format_error(&part, e.to_string()))?)
                .map_err(write_err)?;
        }
        let u = dir.join("crosswalk_unmatched.csv");
        let text = std::fs::read_to_string(&u).map_err(io(&u))?;
        let mut lines = text.lines();
        if unmatched.is_empty() {
            unmatched.push_str(lines.next().unwrap_or_default());
            unmatched.push('\n');
        } else {
            lines.next();
        }
        for l in lines {
            unmatched.push_str(l);
            unmatched.push('\n');
        }
    }
    if let Some(mut w) = census {
        w.flush().map_err(io(&census_out))?;
    }
    let wards_out = out.join("wards_2025.geojson");
    std::fs::write(
        &wards_out,
        with_features(&national_doc, features).to_string(),
    )
    .map_err(io(&wards_out))?;
    let u = out.join("crosswalk_unmatched.csv");
    std::fs::write(&u, unmatched).map_err(io(&u))?;
    let norms_out = out.join("norms.toml");
    std::fs::copy(norms, &norms_out).map_err(io(norms))?;
    let readme = out.join("README.md");
    std::fs::write(&readme, COUNTRY_README).map_err(io(&readme))?;
    Ok(reports)
}

const COUNTRY_README: &str = "# The whole country (phuso init --province all)\n\n\
Every 2025 ward and commune of the 34 provinces with the 2019 census of the units they were \
formed from, as `phuso init --province CODE` writes them for one province (each province's own \
files, with its crosswalk_unmatched.csv, are kept under provinces/CODE/). Sources and licences: \
the national files' README (data/README.md of Phủ Số). No neighbourhoods, roster or visits: \
the figures are at ward level until uploads add visits.\n";
