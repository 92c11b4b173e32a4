//! A team roster from the spreadsheet an office keeps (`.xlsx`, `.xls`, `.ods` or `.csv`) into
//! a data directory's `teams.csv`: Vietnamese headers through [`TEAM_COLUMNS`], kinds written
//! out ("Tổ công nghệ số cộng đồng", "Đội TNTN"), home areas by code or by name (within the
//! row's ward when the sheet has a ward column), then the roster checks of
//! [`super::teams::parse_teams`], every message naming the sheet, row, column letter and header.

use std::collections::{HashMap, HashSet};
use std::path::Path;

use super::boundaries::{AreaFeature, BoundaryFields, read_boundaries};
use super::crosswalk::fold;
use super::sheet::{Column, Sheet, read_sheet};
use super::table::Table;
use super::teams::parse_teams;
use crate::error::{IngestError, Problems};
use crate::model::{AreaCode, Team, TeamKind};

/// The roster's columns and the headers accepted for them (case and diacritics ignored).
pub const TEAM_COLUMNS: [Column; 5] = [
    Column {
        name: "team_id",
        aliases: &["Mã tổ", "Mã đội", "Mã nhóm", "Mã số tổ", "Số hiệu tổ", "Mã"],
        required: true,
    },
    Column {
        name: "area_code",
        aliases: &[
            "Khu phố",
            "Ấp",
            "Khu phố/Ấp",
            "Khu phố, ấp",
            "Mã khu phố",
            "Mã KP",
            "Thôn",
            "Tổ dân phố",
            "Địa bàn",
            "Địa bàn phụ trách",
        ],
        required: true,
    },
    Column {
        name: "ward_code",
        aliases: &[
            "Phường",
            "Xã",
            "Phường/Xã",
            "Phường, xã",
            "Mã phường",
            "Mã xã",
            "Đơn vị",
        ],
        required: false,
    },
    Column {
        name: "kind",
        aliases: &["Loại", "Loại tổ", "Phân loại", "Loại hình"],
        required: true,
    },
    Column {
        name: "members",
        aliases: &[
            "Số thành viên",
            "Số TV",
            "Thành viên",
            "Số người",
            "Số lượng",
            "Số lượng thành viên",
        ],
        required: true,
    },
];

/// A kind as offices write it: the codes, or the words.
#[must_use]
pub fn kind_of(text: &str) -> Option<TeamKind> {
    if let Some(k) = TeamKind::parse(text) {
        return Some(k);
    }
    let f = fold(text);
    if f.contains("tntn") || f.contains("thanh nien") {
        Some(TeamKind::Tntn)
    } else if f.contains("cnscd") || f.contains("cong nghe so") {
        Some(TeamKind::Cnscd)
    } else {
        None
    }
}

/// The areas teams may belong to in a data directory: its neighbourhoods (`neighbourhoods.geojson`,
/// else `synthetic/neighbourhoods.geojson`) or, without any, its wards; and the wards.
///
/// # Errors
/// When the boundary files cannot be read.
pub fn homes(dir: &Path) -> Result<(Vec<AreaFeature>, Vec<AreaFeature>), IngestError> {
    let wards = read_boundaries(&dir.join("wards_2025.geojson"), &BoundaryFields::default())?;
    let nb = [
        dir.join("neighbourhoods.geojson"),
        dir.join("synthetic/neighbourhoods.geojson"),
    ]
    .into_iter()
    .find(|p| p.exists());
    let leaves = match nb {
        Some(p) => read_boundaries(&p, &BoundaryFields::neighbourhoods())?,
        None => wards.clone(),
    };
    Ok((leaves, wards))
}

/// Reads a roster spreadsheet against the areas of `dir`.
///
/// # Errors
/// As [`read_sheet`]; [`IngestError::Rows`] listing every bad row, located in the sheet.
pub fn read_roster_sheet(
    dir: &Path,
    path: &Path,
    sheet: Option<&str>,
) -> Result<(Vec<Team>, Sheet), IngestError> {
    let s = read_sheet(path, sheet, &TEAM_COLUMNS)?;
    let (leaves, wards) = homes(dir)?;
    let leaf_codes: HashSet<AreaCode> = leaves.iter().map(|l| l.code.clone()).collect();
    let parents: HashSet<AreaCode> = if leaves.len() == wards.len()
        && leaves.iter().zip(&wards).all(|(a, b)| a.code == b.code)
    {
        HashSet::new()
    } else {
        wards.iter().map(|w| w.code.clone()).collect()
    };
    let ward_key = |w: &AreaFeature| -> Vec<String> {
        let mut k = vec![fold(&w.name), w.code.0.clone()];
        if let Some(serde_json::Value::String(n)) = w.properties.get("name") {
            k.push(fold(n));
        }
        k
    };
    let mut ward_lookup: HashMap<String, &AreaCode> = HashMap::new();
    for w in &wards {
        for k in ward_key(w) {
            ward_lookup.insert(k, &w.code);
        }
    }
    // Leaves by folded name, with their ward.
    let mut by_name: HashMap<String, Vec<(&AreaCode, Option<&AreaCode>)>> = HashMap::new();
    for l in &leaves {
        by_name
            .entry(fold(&l.name))
            .or_default()
            .push((&l.code, l.parent_code.as_ref()));
    }
    let (areas, row_wards, kinds) = (
        s.values("area_code"),
        s.values("ward_code"),
        s.values("kind"),
    );
    let mut problems = Problems::default();
    let mut resolved: Vec<Option<String>> = Vec::with_capacity(areas.len());
    for (r, a) in areas.iter().enumerate() {
        let Some(a) = a else {
            resolved.push(None);
            continue;
        };
        if leaf_codes.contains(&AreaCode(a.clone())) || parents.contains(&AreaCode(a.clone())) {
            resolved.push(Some(a.clone()));
            continue;
        }
        let ward = row_wards[r].as_deref().map(|w| {
            (
                w,
                ward_lookup
                    .get(&fold(w))
                    .copied()
                    .or_else(|| ward_lookup.get(w).copied()),
            )
        });
        if let Some((w, None)) = ward {
            problems.push(format!(
                "{}: {w:?} is neither a code nor a name of a ward",
                s.at(r, "ward_code")
            ));
            resolved.push(None);
            continue;
        }
        let candidates: Vec<&AreaCode> = by_name
            .get(&fold(a))
            .map(|v| {
                v.iter()
                    .filter(|(_, p)| match ward {
                        Some((_, Some(w))) => *p == Some(w),
                        _ => true,
                    })
                    .map(|(c, _)| *c)
                    .collect()
            })
            .unwrap_or_default();
        match candidates.as_slice() {
            [one] => resolved.push(Some(one.0.clone())),
            [] => {
                problems.push(format!(
                    "{}: {a:?} is neither a code nor a name of a neighbourhood{}",
                    s.at(r, "area_code"),
                    if ward.is_some() { " of that ward" } else { "" }
                ));
                resolved.push(None);
            }
            many => {
                problems.push(format!(
                    "{}: {a:?} names {} areas ({}); add a ward column (\"Phường/Xã\") or give codes",
                    s.at(r, "area_code"),
                    many.len(),
                    many.iter().map(|c| c.0.as_str()).collect::<Vec<_>>().join(", ")
                ));
                resolved.push(None);
            }
        }
    }
    let kinds: Vec<Option<String>> = kinds
        .iter()
        .map(|k| {
            k.as_deref()
                .map(|t| kind_of(t).map_or_else(|| t.to_owned(), |k| k.as_str().to_owned()))
        })
        .collect();
    let headers: Vec<String> = ["team_id", "area_code", "kind", "members"]
        .map(str::to_owned)
        .to_vec();
    // Rows whose area did not resolve are left to the messages above.
    let keep: Vec<usize> = (0..s.rows.len())
        .filter(|&r| resolved[r].is_some() || areas[r].is_none())
        .collect();
    let pick = |v: &[Option<String>]| keep.iter().map(|&r| v[r].clone()).collect::<Vec<_>>();
    let table = Table::from_text_columns(
        path,
        &headers,
        vec![
            pick(&s.values("team_id")),
            pick(&resolved),
            pick(&kinds),
            pick(&s.values("members")),
        ],
    )?;
    let teams = match parse_teams(&table, path, &leaf_codes, &parents) {
        Ok(t) => t,
        Err(IngestError::Rows { problems: p, .. }) => {
            // Row numbers of the kept rows back to the sheet's.
            let sub = Sheet {
                rows: keep.iter().map(|&r| s.rows[r].clone()).collect(),
                ..s.clone()
            };
            for line in p {
                problems.push(sub.locate(&line));
            }
            Vec::new()
        }
        Err(e) => return Err(e),
    };
    if !problems.is_empty() {
        return Err(IngestError::Rows {
            file: path.to_owned(),
            problems: problems.into_lines(),
        });
    }
    Ok((teams, s))
}

/// Writes `teams` as `dir/teams.csv` (`team_id`, `area_code`, `kind`, `members`).
///
/// # Errors
/// When the file cannot be written.
pub fn write_teams(dir: &Path, teams: &[Team]) -> Result<std::path::PathBuf, IngestError> {
    let path = dir.join("teams.csv");
    let tmp = dir.join("teams.csv.tmp");
    let mut w =
        csv::Writer::from_path(&tmp).map_err(|e| IngestError::format(&tmp, e.to_string()))?;
    let err = |e: csv::Error| IngestError::format(&tmp, e.to_string());
    w.write_record(["team_id", "area_code", "kind", "members"])
        .map_err(err)?;
    for t in teams {
        w.write_record([
            t.team_id.as_str(),
            t.area_code.0.as_str(),
            t.kind.as_str(),
            &t.members.to_string(),
        ])
        .map_err(err)?;
    }
    w.flush().map_err(|e| IngestError::io(&tmp, e))?;
    drop(w);
    std::fs::rename(&tmp, &path).map_err(|e| IngestError::io(&path, e))?;
    Ok(path)
}
