//! Entry points for the coverage-guided fuzzers (`fuzz/`, cargo-fuzz) and for the regression
//! test that replays what they found (`tests/it/fuzz_regressions.rs`): each takes arbitrary bytes
//! and runs one reader or parser the way the product does. Errors are the expected answer to
//! bad bytes; a panic, a hang or an abort is a bug.

use std::collections::{HashMap, HashSet};
use std::path::Path;

use crate::api::params;
use crate::engine::{Change, Engine, extent_of, neighbourhood_fields, parse_norms};
use crate::ingest::boundaries::{BoundaryFields, parse_boundaries};
use crate::ingest::census::parse_census;
use crate::ingest::table::Table;
use crate::ingest::teams::{parse_roster_changes, parse_teams};
use crate::ingest::visits::read_visits_table;
use crate::model::{AreaCode, Level};

/// What a fuzz input is fed to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Input {
    /// A wards GeoJSON file.
    Wards,
    /// A neighbourhoods GeoJSON file.
    Neighbourhoods,
    /// Visits as CSV, then as JSON records, then as an XLSX workbook.
    Visits,
    /// A roster CSV and a roster-changes CSV.
    Rosters,
    /// The census CSV.
    Census,
    /// The norms TOML.
    Norms,
    /// A query string for the API's parameter parsers.
    Query,
}

impl Input {
    /// Every input, with the folder name its regressions are kept under.
    pub const ALL: [(Self, &'static str); 7] = [
        (Self::Wards, "wards"),
        (Self::Neighbourhoods, "neighbourhoods"),
        (Self::Visits, "visits"),
        (Self::Rosters, "rosters"),
        (Self::Census, "census"),
        (Self::Norms, "norms"),
        (Self::Query, "query"),
    ];
}

/// Feeds `bytes` to the readers of `input`; the results are dropped.
pub fn read(input: Input, bytes: &[u8]) {
    let path = Path::new("fuzz-input");
    let codes =
        |c: &[&str]| -> HashSet<AreaCode> { c.iter().map(|c| AreaCode((*c).into())).collect() };
    match input {
        Input::Wards => {
            if let Ok(features) = parse_boundaries(path, bytes, &BoundaryFields::default()) {
                let _ = extent_of(features.iter().map(|f| &f.geometry));
            }
        }
        Input::Neighbourhoods => {
            if let Ok(features) = parse_boundaries(path, bytes, &neighbourhood_fields()) {
                let _ =
                    crate::engine::check_neighbourhoods(path, &features, &codes(&["1", "2"]), path);
            }
        }
        Input::Visits => {
            let teams: HashMap<String, u32> = [("T1".to_owned(), 0), ("T2".to_owned(), 1)].into();
            let extent = crate::ingest::visits::Extent {
                min_lon: 100.0,
                min_lat: 8.0,
                max_lon: 110.0,
                max_lat: 24.0,
            };
            for table in [
                Table::from_csv(path, bytes, "visits"),
                Table::from_json_records(path, bytes, "visits"),
                Table::from_xlsx(path, bytes, "visits"),
            ]
            .into_iter()
            .flatten()
            {
                let _ = read_visits_table(&table, &teams, extent);
            }
        }
        Input::Rosters => {
            if let Ok(table) = Table::from_csv(path, bytes, "rosters") {
                let _ = parse_teams(&table, path, &codes(&["1-01", "1-02"]), &codes(&["1"]));
                let ids: HashSet<String> = ["T1".to_owned(), "T2".to_owned()].into();
                let last = chrono::NaiveDate::from_ymd_opt(2025, 11, 30).expect("a date");
                let _ = parse_roster_changes(&table, path, &ids, last);
            }
        }
        Input::Census => {
            let _ = parse_census(path, bytes, &codes(&["25975", "25966"]));
        }
        Input::Norms => {
            let _ = parse_norms(path, &String::from_utf8_lossy(bytes));
        }
        Input::Query => {
            let q = query_map(&String::from_utf8_lossy(bytes));
            let _ = params::only(&q, &["level", "res", "bbox", "limit", "zoom"]);
            let _ = params::level(&q, Level::Ward);
            let _ = params::resolution(&q);
            let _ = params::bbox(&q);
            let _ = params::number(&q, "limit", 20, 1..=5_000);
            let _ = params::number(&q, "zoom", 12, 0..=24);
        }
    }
}

/// Feeds `bytes` as a what-if body (`{"changes": […]}`) and, read as two numbers, as a plan's
/// volunteers and moves, to `engine`.
pub fn compute(engine: &Engine, bytes: &[u8]) {
    #[derive(serde::Deserialize)]
    struct WhatIf {
        changes: Vec<Change>,
    }
    if let Ok(w) = serde_json::from_slice::<WhatIf>(bytes) {
        let _ = engine.whatif(&w.changes);
    }
    if bytes.len() >= 4 {
        let volunteers = u64::from(u16::from_le_bytes([bytes[0], bytes[1]]));
        let moves = u64::from(bytes[2] % 64);
        let level = Level::ALL[usize::from(bytes[3]) % Level::ALL.len()];
        let asked = if bytes[3] & 0x80 == 0 {
            crate::plan::Volunteers::Count(volunteers)
        } else {
            crate::plan::Volunteers::MeetDeadline
        };
        let _ = crate::plan::plan(engine, level, asked, moves);
    }
}

/// `a=1&b=2` as a map, as axum's `Query` reads it (later keys win; `+` is a space, `%XX` bytes).
#[must_use]
pub fn query_map(q: &str) -> HashMap<String, String> {
    fn decode(s: &str) -> String {
        let s = s.replace('+', " ");
        let bytes = s.as_bytes();
        let mut out = Vec::with_capacity(bytes.len());
        let mut i = 0;
        while i < bytes.len() {
            if bytes[i] == b'%'
                && i + 2 < bytes.len()
                && let Some(v) = std::str::from_utf8(&bytes[i + 1..i + 3])
                    .ok()
                    .and_then(|h| u8::from_str_radix(h, 16).ok())
            {
                out.push(v);
                i += 3;
            } else {
                out.push(bytes[i]);
                i += 1;
            }
        }
        String::from_utf8_lossy(&out).into_owned()
    }
    q.split('&')
        .filter(|kv| !kv.is_empty())
        .map(|kv| {
            let (k, v) = kv.split_once('=').unwrap_or((kv, ""));
            (decode(k), decode(v))
        })
        .collect()
}

/// The first byte picks the input ([`Input::ALL`], modulo), the rest is fed to it: one fuzz
/// target covers every reader. The rest also goes to [`own_file_parsers`] (whatever the pick, so
/// the regressions kept so far keep their meaning).
pub fn read_selected(bytes: &[u8]) {
    if let Some((&pick, rest)) = bytes.split_first() {
        read(Input::ALL[usize::from(pick) % Input::ALL.len()].0, rest);
        own_file_parsers(rest);
    }
}

/// The parsers of a province's own files that take text or bytes: a `.prj` (WKT), `--crs`, and
/// `.dbf` text in every encoding with the encoding detector.
pub fn own_file_parsers(bytes: &[u8]) {
    use crate::ingest::legacy_text::{TextEncoding, detect};
    let text = String::from_utf8_lossy(bytes);
    if let Ok(crs) = crate::spatial::crs::from_wkt(&text)
        && let Ok(t) = crs.to_wgs84()
    {
        let _ = t.convert(500_000.0, 1_200_000.0);
    }
    let _ = crate::spatial::crs::towgs84_of(&text);
    let _ = crate::spatial::crs::Crs::parse_user(&text);
    for e in TextEncoding::ALL {
        let _ = e.decode(bytes);
    }
    let _ = detect(bytes.split(|&b| b == b'|'), &TextEncoding::ALL);
}
