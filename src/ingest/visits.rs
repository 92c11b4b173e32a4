//! Visit records: `visit_id`, `team_id`, `lon`, `lat`, `ts`, `household_id`, `service`.
//!
//! Visit records are personal data (homes' GPS, household ids): they are read into columns that
//! stay inside the engine; nothing here is ever served as raw rows.
//!
//! Row-level problems (bad or swapped coordinates, unknown team, bad timestamp, unknown service,
//! missing household, duplicate visit id) are counted per kind with the first examples, and the
//! row is left out; every good row is kept. Structural problems (missing column, unreadable or
//! empty file) are errors.
//!
//! Timestamps: text in RFC 3339 with an offset (`2025-10-01T08:15:00+07:00`) or naive
//! (`2025-10-01 08:15:00`, read as Asia/Ho_Chi_Minh wall time); Parquet `Datetime` without a time
//! zone is wall time in Asia/Ho_Chi_Minh, with a time zone it is an instant. Everything is
//! converted to Asia/Ho_Chi_Minh wall time (UTC+7, no daylight saving).

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use polars::prelude::{DataType, TimeUnit};
use rayon::prelude::*;
use rustc_hash::FxHashMap;
use serde::Serialize;

use crate::error::{IngestError, MAX_LISTED_PROBLEMS};
use phuso_kernel::visit_row::{self, Rejection, Row, id_key};

use crate::ingest::table::Table;
use crate::model::Service;

/// Offset of Asia/Ho_Chi_Minh from UTC, in milliseconds (UTC+7 all year).
pub use phuso_kernel::visit_row::VN_OFFSET_MS;

/// Accepted visits, as columns (one entry per visit in each).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Visits {
    /// Longitude, WGS84 degrees.
    pub lon: Vec<f64>,
    /// Latitude, WGS84 degrees.
    pub lat: Vec<f64>,
    /// Index of the visiting team in the roster.
    pub team: Vec<u32>,
    /// Pseudonymous household key (the id itself when numeric, its FNV-1a hash when text).
    pub household: Vec<u64>,
    /// Wall-clock time in Asia/Ho_Chi_Minh, milliseconds since 1970-01-01T00:00 local.
    pub ts_local_ms: Vec<i64>,
    /// [`Service::index`] of the service.
    pub service: Vec<u8>,
    /// Visit id (the id itself when numeric, its FNV-1a hash when text).
    pub visit_id: Vec<u64>,
}

impl Visits {
    /// Number of visits.
    #[must_use]
    pub fn len(&self) -> usize {
        self.lon.len()
    }

    /// True when there are none.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.lon.is_empty()
    }

    /// Appends the rows of `other`.
    pub fn extend(&mut self, other: &Self) {
        self.lon.extend_from_slice(&other.lon);
        self.lat.extend_from_slice(&other.lat);
        self.team.extend_from_slice(&other.team);
        self.household.extend_from_slice(&other.household);
        self.ts_local_ms.extend_from_slice(&other.ts_local_ms);
        self.service.extend_from_slice(&other.service);
        self.visit_id.extend_from_slice(&other.visit_id);
    }

    /// Keeps the rows where `keep` is true, in order.
    ///
    /// # Panics
    /// When `keep` is shorter than the columns.
    pub fn retain(&mut self, keep: &[bool]) {
        fn filter<T: Copy>(v: &mut Vec<T>, keep: &[bool]) {
            let mut i = 0;
            v.retain(|_| {
                i += 1;
                keep[i - 1]
            });
        }
        filter(&mut self.lon, keep);
        filter(&mut self.lat, keep);
        filter(&mut self.team, keep);
        filter(&mut self.household, keep);
        filter(&mut self.ts_local_ms, keep);
        filter(&mut self.service, keep);
        filter(&mut self.visit_id, keep);
    }
}

/// What happened to the rows of a visits file.
#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct VisitReport {
    /// Rows in the file.
    pub rows_read: usize,
    /// Rows kept.
    pub rows_accepted: usize,
    /// Rows left out, per kind of problem.
    pub rejected: BTreeMap<String, usize>,
    /// The first problems, each naming the row, column and value.
    pub examples: Vec<String>,
}

impl VisitReport {
    /// Records a rejected row.
    pub fn reject(&mut self, kind: &str, example: impl FnOnce() -> String) {
        *self.rejected.entry(kind.to_owned()).or_default() += 1;
        if self.examples.len() < MAX_LISTED_PROBLEMS {
            self.examples.push(example());
        }
    }

    /// Total rows left out.
    #[must_use]
    pub fn rows_rejected(&self) -> usize {
        self.rejected.values().sum()
    }
}

/// Parses a text timestamp to Asia/Ho_Chi_Minh wall-clock milliseconds.
pub use phuso_kernel::visit_row::parse_local_ts;

/// A lon/lat box used to tell swapped coordinates from points that are merely outside.
pub use phuso_kernel::visit_row::Extent;

enum Ids {
    Numeric(Vec<Option<u64>>),
    Text(Vec<Option<String>>),
}

fn ids(table: &Table, name: &str, expected: &str) -> Result<Ids, IngestError> {
    let col = table.column(name, expected)?;
    if col.dtype().is_integer() {
        let cast = col
            .cast(&DataType::UInt64)
            .map_err(|e| IngestError::format(&table.path, e.to_string()))?;
        let ca = cast
            .u64()
            .map_err(|e| IngestError::format(&table.path, e.to_string()))?;
        return Ok(Ids::Numeric(ca.iter().collect()));
    }
    Ok(Ids::Text(table.text(name, expected)?))
}

impl Ids {
    fn key(&self, row: usize) -> Option<u64> {
        match self {
            Self::Numeric(v) => v[row],
            Self::Text(v) => v[row].as_deref().map(id_key),
        }
    }
}

fn timestamps(table: &Table) -> Result<Vec<Result<i64, String>>, IngestError> {
    let expected = "a timestamp: RFC 3339 text or a Parquet Datetime";
    let col = table.column("ts", expected)?;
    match col.dtype() {
        DataType::Datetime(unit, tz) => {
            let per_ms = match unit {
                TimeUnit::Milliseconds => 1,
                TimeUnit::Microseconds => 1_000,
                TimeUnit::Nanoseconds => 1_000_000,
            };
            let shift = if tz.is_some() { VN_OFFSET_MS } else { 0 };
            let cast = col
                .cast(&DataType::Int64)
                .map_err(|e| IngestError::format(&table.path, e.to_string()))?;
            let ca = cast
                .i64()
                .map_err(|e| IngestError::format(&table.path, e.to_string()))?;
            Ok(ca
                .iter()
                .map(|v| {
                    v.map(|v| v.div_euclid(per_ms) + shift)
                        .ok_or_else(|| "null".to_owned())
                })
                .collect())
        }
        DataType::String => Ok(table
            .text("ts", expected)?
            .into_iter()
            .map(|v| match v {
                Some(s) => parse_local_ts(&s).ok_or_else(|| format!("{s:?}")),
                None => Err("null".to_owned()),
            })
            .collect()),
        other => Err(IngestError::format(
            &table.path,
            format!("column `ts` has type {other}; expected {expected}"),
        )),
    }
}

/// Reads visits, keeping every good row and reporting the others.
///
/// `teams` maps team ids to roster indices; `extent` is the box of all areas (for the swapped
/// lat/lon check).
///
/// # Errors
/// Structural problems only: unreadable or empty file, missing column, column of a wrong type.
pub fn read_visits(
    path: &Path,
    teams: &HashMap<String, u32>,
    extent: Extent,
) -> Result<(Visits, VisitReport), IngestError> {
    read_visits_in_slices(path, teams, extent, SLICE_ROWS)
}

/// [`read_visits`] decoding Parquet files `slice_rows` rows at a time (the answer does not
/// depend on it; tests use small slices).
///
/// # Errors
/// As [`read_visits`].
pub fn read_visits_in_slices(
    path: &Path,
    teams: &HashMap<String, u32>,
    extent: Extent,
    slice_rows: usize,
) -> Result<(Visits, VisitReport), IngestError> {
    let mut report = VisitReport::default();
    let mut out = Visits::default();
    // Input row of each accepted visit (for messages about duplicates).
    let mut rows: Vec<u32> = Vec::new();
    Table::for_each_slice(
        path,
        "one row per visit",
        slice_rows.max(1),
        |table, offset| {
            report.rows_read += table.height();
            accept_rows(
                table,
                offset,
                teams,
                extent,
                &mut out,
                &mut rows,
                &mut report,
            )
        },
    )?;
    drop_repeated_ids(&mut out, &rows, &mut report);
    Ok((out, report))
}

/// [`read_visits`] on a table already in memory (an upload).
///
/// # Errors
/// Structural problems only: missing column, column of a wrong type.
pub fn read_visits_table(
    table: &Table,
    teams: &HashMap<String, u32>,
    extent: Extent,
) -> Result<(Visits, VisitReport), IngestError> {
    let mut report = VisitReport {
        rows_read: table.height(),
        ..VisitReport::default()
    };
    let mut out = Visits::default();
    let mut rows: Vec<u32> = Vec::new();
    accept_rows(table, 0, teams, extent, &mut out, &mut rows, &mut report)?;
    drop_repeated_ids(&mut out, &rows, &mut report);
    Ok((out, report))
}

/// Keeps the first row of each visit id and reports the later ones.
fn drop_repeated_ids(out: &mut Visits, rows: &[u32], report: &mut VisitReport) {
    // Duplicate visit ids: a parallel sort of the ids finds the repeated values (no set of
    // every id); only those are tracked to keep the first accepted row and report later ones.
    let mut sorted = out.visit_id.clone();
    sorted.par_sort_unstable();
    let repeated: FxHashMap<u64, bool> = sorted
        .windows(2)
        .filter(|w| w[0] == w[1])
        .map(|w| (w[0], false))
        .collect();
    drop(sorted);
    if !repeated.is_empty() {
        let mut seen = repeated;
        let mut keep = vec![true; out.len()];
        for (i, id) in out.visit_id.iter().enumerate() {
            if let Some(s) = seen.get_mut(id) {
                if *s {
                    keep[i] = false;
                    let row = rows[i];
                    report.reject(Rejection::DuplicateVisitId.kind(), || format!("row {}: column `visit_id`: the same id (key {id}) as an earlier row; the later row is left out", row + 1));
                }
                *s = true;
            }
        }
        out.retain(&keep);
    }
    report.rows_accepted = out.len();
}

/// Rows read per slice of a Parquet file: the decoded slice is dropped before the next, so
/// memory holds the compact accepted columns, not the file's.
const SLICE_ROWS: usize = 4 << 20;

/// Checks one slice of rows (rows `offset..` of the file) and appends the good ones.
fn accept_rows(
    table: &Table,
    offset: usize,
    teams: &HashMap<String, u32>,
    extent: Extent,
    out: &mut Visits,
    rows: &mut Vec<u32>,
    report: &mut VisitReport,
) -> Result<(), IngestError> {
    let mut cells = Vec::new();
    let lon = table.f64s("lon", "longitude in degrees (WGS84)", &mut cells)?;
    let lat = table.f64s("lat", "latitude in degrees (WGS84)", &mut cells)?;
    let team_ids = table.codes("team_id", "the id of the visiting team", |t| {
        teams.get(t).copied()
    })?;
    let households = ids(table, "household_id", "a pseudonymous household id")?;
    let visit_ids = ids(table, "visit_id", "a unique visit id")?;
    let services = table.codes(
        "service",
        "one of vneid_install, vneid_activation, dvc_account, online_payment, qr_payment",
        |s| Service::parse(s).map(|s| s.index() as u32),
    )?;
    let ts = timestamps(table)?;
    // Coordinates that are not numbers, said as the text that was there.
    let mut bad_cells: FxHashMap<usize, Vec<String>> = FxHashMap::default();
    for c in &cells {
        bad_cells.entry(c.row - 1).or_default().push(format!(
            "column `{}`: value {}; expected {}{}",
            c.column,
            c.value,
            c.expected,
            c.hint
                .as_ref()
                .map_or_else(String::new, |h| format!(" ({h})"))
        ));
    }
    let n = table.height();
    for row in 0..n {
        let r = offset + row + 1;
        if let Some(what) = table.malformed_at(row) {
            report.reject("malformed row", || format!("row {r}: {what}"));
            continue;
        }
        if let Some(what) = bad_cells.get(&row) {
            report.reject("bad coordinates", || {
                format!("row {r}: {}", what.join("; "))
            });
            continue;
        }
        let (x, y) = (lon[row], lat[row]);
        let checked = Row {
            lon: x,
            lat: y,
            team_known: team_ids[row].is_some(),
            ts_local_ms: ts[row].as_ref().ok().copied(),
            service: services[row].and_then(|s| u8::try_from(s).ok()),
            household: households.key(row),
            visit_id: visit_ids.key(row),
        };
        if let Err(why) = visit_row::check(&checked, &extent) {
            report.reject(why.kind(), || match why {
                Rejection::Swapped => format!("row {r}: columns `lon`,`lat`: values {x}, {y}; this point is far outside every area but would be inside with lon and lat swapped"),
                Rejection::BadCoordinates => format!("row {r}: columns `lon`,`lat`: values {x}, {y}; expected finite lon in -180..=180 and lat in -90..=90"),
                Rejection::UnknownTeam => format!(
                    "row {r}: column `team_id`: value {}; expected a team of the roster",
                    table.show("team_id", row)
                ),
                Rejection::BadTimestamp => format!(
                    "row {r}: column `ts`: value {}; expected RFC 3339 such as 2025-10-01T08:15:00+07:00",
                    ts[row].as_ref().err().map_or("?", String::as_str)
                ),
                Rejection::UnknownService => format!("row {r}: column `service`: value {}; expected one of vneid_install, vneid_activation, dvc_account, online_payment, qr_payment", table.show("service", row)),
                Rejection::MissingHousehold => format!(
                    "row {r}: column `household_id`: null; expected a pseudonymous household id"
                ),
                Rejection::MissingVisitId | Rejection::DuplicateVisitId | Rejection::OutsideWindow => {
                    format!("row {r}: column `visit_id`: null; expected a unique visit id")
                }
            });
            continue;
        }
        // The check passed: every field is there.
        let (Some(team), Some(t), Some(service), Some(household), Some(visit_id)) = (
            team_ids[row],
            checked.ts_local_ms,
            checked.service,
            checked.household,
            checked.visit_id,
        ) else {
            unreachable!("checked above");
        };
        out.lon.push(x);
        out.lat.push(y);
        out.team.push(team);
        out.household.push(household);
        out.ts_local_ms.push(t);
        out.service.push(service);
        out.visit_id.push(visit_id);
        rows.push(u32::try_from(offset + row).expect("fewer than 2^32 rows"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_become_vietnam_wall_time() {
        let local = parse_local_ts("2025-10-01 08:15:00").unwrap();
        assert_eq!(parse_local_ts("2025-10-01T08:15:00+07:00"), Some(local));
        assert_eq!(parse_local_ts("2025-10-01T01:15:00Z"), Some(local));
        assert_eq!(parse_local_ts("2025-10-01T08:15:00"), Some(local));
        // 2025-10-01 is day 20362 since 1970-01-01; 08:15 is 29,700 s into it.
        assert_eq!(local, 20_362 * 86_400_000 + 29_700_000);
        assert_eq!(parse_local_ts("01/10/2025"), None);
    }
}
