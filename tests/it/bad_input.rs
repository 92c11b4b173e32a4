//! Malformed inputs: each gets an error naming the file, the feature or row, the field and the
//! value; row-level problems in visits keep every good row.

use std::collections::{HashMap, HashSet};
use std::path::Path;

use phuso::engine::{EngineError, read_norms};
use phuso::ingest::boundaries::{BoundaryFields, parse_boundaries};
use phuso::ingest::census::read_census;
use phuso::ingest::teams::read_teams;
use phuso::ingest::visits::{Extent, read_visits};
use phuso::{AreaCode, Engine, EngineConfig, IngestError};

use crate::{fixture, scratch};

fn boundary_error(json: &str) -> String {
    match parse_boundaries(
        Path::new("areas.geojson"),
        json.as_bytes(),
        &BoundaryFields::default(),
    ) {
        Ok(v) => panic!("accepted {} features of {json}", v.len()),
        Err(e) => e.to_string(),
    }
}

fn feature(code: &str, coords: &str) -> String {
    format!(
        r#"{{"type":"Feature","properties":{{"code":"{code}"}},"geometry":{{"type":"Polygon","coordinates":[{coords}]}}}}"#
    )
}

fn collection(features: &[String]) -> String {
    format!(
        r#"{{"type":"FeatureCollection","features":[{}]}}"#,
        features.join(",")
    )
}

const SQUARE: &str = "[[0,0],[1,0],[1,1],[0,1],[0,0]]";

#[test]
fn unclosed_ring() {
    let e = boundary_error(&collection(&[feature("A", "[[0,0],[1,0],[1,1],[0,1]]")]));
    assert!(
        e.contains("areas.geojson")
            && e.contains("feature 0")
            && e.contains("\"A\"")
            && e.contains("not closed")
            && e.contains("[0, 1]"),
        "{e}"
    );
}

#[test]
fn self_intersecting_ring() {
    let e = boundary_error(&collection(&[
        feature("ok", SQUARE),
        feature("bow", "[[0,0],[1,1],[1,0],[0,1],[0,0]]"),
    ]));
    assert!(
        e.contains("feature 1 (code \"bow\")") && e.contains("self-intersects"),
        "{e}"
    );
    assert!(
        !e.contains("feature 0"),
        "the good feature must not be reported: {e}"
    );
}

#[test]
fn out_of_range_coordinates() {
    let e = boundary_error(&collection(&[feature("A", "[[0,0],[200,0],[1,1],[0,0]]")]));
    assert!(
        e.contains("position 1") && e.contains("[200, 0]") && e.contains("-180..=180"),
        "{e}"
    );
}

#[test]
fn duplicate_and_missing_codes_are_all_listed() {
    let no_code = r#"{"type":"Feature","properties":{"name":"x"},"geometry":{"type":"Polygon","coordinates":[[[0,0],[1,0],[1,1],[0,0]]]}}"#.to_owned();
    let e = boundary_error(&collection(&[
        feature("A", SQUARE),
        feature("A", SQUARE),
        no_code,
    ]));
    assert!(e.contains("3 invalid") || e.contains("2 invalid"), "{e}");
    assert!(
        e.contains("feature 1") && e.contains("duplicate code \"A\"") && e.contains("feature 0"),
        "{e}"
    );
    assert!(
        e.contains("feature 2") && e.contains("field `code`: missing"),
        "{e}"
    );
}

#[test]
fn wrong_geometry_type_and_null_geometry() {
    let point = r#"{"type":"Feature","properties":{"code":"P"},"geometry":{"type":"Point","coordinates":[1,2]}}"#.to_owned();
    let null = r#"{"type":"Feature","properties":{"code":"N"},"geometry":null}"#.to_owned();
    let e = boundary_error(&collection(&[point, null]));
    assert!(
        e.contains("\"Point\"; expected Polygon or MultiPolygon"),
        "{e}"
    );
    assert!(e.contains("(code \"N\"): field `geometry`: null"), "{e}");
}

#[test]
fn not_geojson_empty_and_wrong_type() {
    assert!(boundary_error("").contains("empty"));
    assert!(boundary_error("{not json").contains("not valid JSON"));
    assert!(
        boundary_error(r#"{"type":"Feature"}"#).contains("expected a GeoJSON FeatureCollection")
    );
    assert!(boundary_error(r#"{"type":"FeatureCollection","features":[]}"#).contains("empty"));
    // A number too large for f64 is a JSON error, not a panic.
    assert!(
        boundary_error(&collection(&[feature(
            "A",
            "[[0,0],[1e999,0],[1,1],[0,0]]"
        )]))
        .contains("areas.geojson")
    );
}

#[test]
fn many_problems_are_capped_and_counted() {
    let features: Vec<String> = (0..50)
        .map(|i| feature(&format!("F{i}"), "[[0,0],[1,0],[1,1]]"))
        .collect();
    let e = boundary_error(&collection(&features));
    assert!(e.contains("and 30 more"), "{e}");
}

fn write(dir: &Path, name: &str, text: &str) -> std::path::PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p
}

#[test]
fn team_roster_problems() {
    let dir = scratch("bad_teams");
    let known: HashSet<AreaCode> = ["N1".into()].into_iter().collect();
    let parents: HashSet<AreaCode> = ["W1".into()].into_iter().collect();
    let p = write(
        &dir,
        "teams.csv",
        "team_id,area_code,kind,members\nT1,N1,TNTN,5\nT1,N1,TNTN,5\nT2,N9,CNSCD,3\nT3,N1,robots,3\nT4,N1,TNTN,0\nT5,N1,tntn,2\nT6,W1,TNTN,3\nT7,,TNTN,3\nT8,N1\n",
    );
    let e = read_teams(&p, &known, &parents).unwrap_err().to_string();
    assert!(
        e.contains("teams.csv") && e.contains("7 invalid row"),
        "{e}"
    );
    assert!(!e.contains("Some("), "no Rust debug text: {e}");
    assert!(
        e.contains("row 9: line 10: 2 fields; expected 4 (team_id, area_code, kind, members)"),
        "{e}"
    );
    assert!(
        e.contains(
            "row 7: column `area_code`: \"W1\" for team \"T6\" is an area with neighbourhoods"
        ),
        "{e}"
    );
    assert!(
        e.contains("row 8: column `area_code`: unknown code empty"),
        "{e}"
    );
    assert!(
        e.contains("row 2: column `team_id`: duplicate id \"T1\" (first in row 1)"),
        "{e}"
    );
    assert!(
        e.contains("row 3: column `area_code`: unknown code \"N9\""),
        "{e}"
    );
    assert!(e.contains("row 4: column `kind`: value \"robots\""), "{e}");
    assert!(e.contains("row 5: column `members`: value \"0\""), "{e}");
    let missing = write(&dir, "teams2.csv", "team_id,kind,members\nT1,TNTN,5\n");
    let e = read_teams(&missing, &known, &parents).unwrap_err();
    assert!(
        matches!(e, IngestError::MissingColumn { ref column, .. } if column == "area_code"),
        "{e}"
    );
    assert!(e.to_string().contains("team_id, kind, members"), "{e}");
    let empty = write(&dir, "teams3.csv", "");
    assert!(
        read_teams(&empty, &known, &parents)
            .unwrap_err()
            .to_string()
            .contains("empty")
    );
}

/// A roster of one team, T1, and the box 106–107°E, 10–12°N.
fn one_team_and_box() -> (HashMap<String, u32>, Extent) {
    (
        [("T1".to_owned(), 0)].into_iter().collect(),
        Extent {
            min_lon: 106.0,
            min_lat: 10.0,
            max_lon: 107.0,
            max_lat: 12.0,
        },
    )
}

#[test]
fn visits_keep_good_rows_and_count_bad_ones() {
    let dir = scratch("bad_visits");
    let (teams, extent) = one_team_and_box();
    let p = write(
        &dir,
        "visits.csv",
        "visit_id,team_id,lon,lat,ts,household_id,service\n\
         1,T1,106.5,11.0,2025-10-01T08:00:00+07:00,h1,vneid_install\n\
         2,T1,abc,11.0,2025-10-01T08:00:00+07:00,h1,vneid_install\n\
         3,T1,NaN,11.0,2025-10-01T08:00:00+07:00,h1,vneid_install\n\
         4,T1,,11.0,2025-10-01T08:00:00+07:00,h1,vneid_install\n\
         5,T1,106.5,11.0,2025-10-01T08:00:00+07:00,,vneid_install\n\
         6,T1,106.5,11.0,2025-10-01T08:00:00+07:00,h2,dvc_account\n\
         \n\
         7,T1,106.5,11.0,2025-10-01T08:00:00+07:00,h3,dvc_account,extra\n\
         8,T1,106.5\n\
         9,T1,\"106,5\",11.0,2025-10-01T08:00:00+07:00,h4,dvc_account\n\
         10,T1,11.0,106.5,2025-10-01T08:00:00+07:00,h5,dvc_account\n\
         11,T1,106.6,11.1,2025-10-01T08:00:00+07:00,h6,qr_payment\n",
    );
    let (v, r) = read_visits(&p, &teams, extent).unwrap();
    // The blank line is not a row; the good rows before and after the bad ones are all kept.
    assert_eq!((r.rows_read, r.rows_accepted, v.len()), (11, 3, 3));
    assert_eq!(r.rejected["bad coordinates"], 4);
    assert_eq!(r.rejected["malformed row"], 2);
    assert_eq!(r.rejected["lat/lon swapped"], 1);
    assert_eq!(r.rejected["missing household id"], 1);
    let ex = r.examples.join("\n");
    for needle in [
        "row 2: column `lon`: value \"abc\"; expected longitude in degrees (WGS84)",
        "row 4: column `lon`: value empty",
        "row 7: line 9: 8 fields; expected 7 (visit_id, team_id, lon, lat, ts, household_id, service)",
        "row 8: line 10: 3 fields; expected 7",
        "row 9: column `lon`: value \"106,5\"; expected longitude in degrees (WGS84) (a decimal comma: write 106.5 with a point)",
        "row 10: columns `lon`,`lat`: values 11, 106.5; this point is far outside every area but would be inside with lon and lat swapped",
    ] {
        assert!(ex.contains(needle), "{needle} not in\n{ex}");
    }
    assert!(
        !ex.contains("row 2: columns"),
        "a text is said as the text: {ex}"
    );
    // A missing column is structural: an error, not a row issue.
    let p = write(
        &dir,
        "visits2.csv",
        "visit_id,team_id,lon,ts,household_id,service\n1,T1,106.5,2025-10-01T08:00:00+07:00,h1,vneid_install\n",
    );
    let e = read_visits(&p, &teams, extent).unwrap_err().to_string();
    assert!(e.contains("visits2.csv: missing column `lat`"), "{e}");
    // An unsupported extension is named.
    let p = write(&dir, "visits.xlsx", "x");
    assert!(
        read_visits(&p, &teams, extent)
            .unwrap_err()
            .to_string()
            .contains("unsupported extension \"xlsx\"")
    );
}

#[test]
fn census_with_unknown_ward_code() {
    let dir = scratch("bad_census");
    let p = write(
        &dir,
        "census.csv",
        "gso_code_2019,province_code,province_name,district_code,district_name_2019,full_name_2019,pop_2019_total,households_2019,new_ward_code_2025\n1,99,P,9,D,Phường A,100,30,90001\n2,99,P,9,D,Phường B,x,30,99999\n",
    );
    let known: HashSet<AreaCode> = ["90001".into()].into_iter().collect();
    let e = read_census(&p, &known).unwrap_err().to_string();
    assert!(
        e.contains("row 2: column `pop_2019_total`: value \"x\""),
        "{e}"
    );
    assert!(
        e.contains("row 2: column `new_ward_code_2025`: unknown code \"99999\""),
        "{e}"
    );
}

#[test]
fn norms_file_problems() {
    let dir = scratch("bad_norms");
    let p = write(
        &dir,
        "norms.toml",
        "[campaign]\nstart = \"2025-10-01\"\ndays = 60\ntarget_coverage = 1.5\nrate_window_days = 7\nfallback_households_per_member_day = 8.0\ntntn_min_members = 20\n",
    );
    let e = read_norms(&p).unwrap_err();
    assert!(matches!(e, EngineError::Norms { .. }));
    assert!(e.to_string().contains("`target_coverage` = 1.5"), "{e}");
    let p = write(&dir, "norms2.toml", "[campaign]\nstart = \"yesterday\"\n");
    assert!(
        read_norms(&p)
            .unwrap_err()
            .to_string()
            .contains("norms2.toml")
    );
}

#[test]
fn neighbourhood_in_unknown_ward_is_named() {
    let dir = scratch("bad_nb");
    for f in ["wards_2025.geojson", "census_2019.csv", "norms.toml"] {
        std::fs::copy(fixture("tiny").join(f), dir.join(f)).unwrap();
    }
    std::fs::create_dir_all(dir.join("synthetic")).unwrap();
    let nb = std::fs::read_to_string(fixture("tiny/synthetic/neighbourhoods.geojson"))
        .unwrap()
        .replace("\"ward_code\":\"90002\"", "\"ward_code\":\"77777\"");
    write(&dir.join("synthetic"), "neighbourhoods.geojson", &nb);
    let e = Engine::load(&EngineConfig::for_dir(&dir))
        .err()
        .unwrap()
        .to_string();
    assert!(
        e.contains("neighbourhoods.geojson")
            && e.contains("feature 2")
            && e.contains("unknown code \"77777\""),
        "{e}"
    );
}

#[test]
fn parquet_read_in_slices_gives_the_same_visits_and_report() {
    use phuso::ingest::table::Table;
    use phuso::ingest::visits::read_visits_in_slices;
    use polars::prelude::ParquetWriter;
    let dir = scratch("sliced_visits");
    let (teams, extent) = one_team_and_box();
    // Duplicate ids across slices (7 repeats 1, 8 repeats 6), bad rows in several slices.
    let csv = write(
        &dir,
        "visits.csv",
        "visit_id,team_id,lon,lat,ts,household_id,service\n\
         1,T1,106.5,11.0,2025-10-01T08:00:00+07:00,h1,vneid_install\n\
         2,T9,106.5,11.0,2025-10-01T08:00:00+07:00,h1,vneid_install\n\
         3,T1,106.6,11.1,2025-10-02T08:00:00+07:00,h2,qr_payment\n\
         4,T1,106.5,11.0,2025-10-01T08:00:00+07:00,h3,teleport\n\
         5,T1,11.0,106.5,2025-10-01T08:00:00+07:00,h4,vneid_install\n\
         6,T1,106.7,11.2,2025-10-03T08:00:00+07:00,h5,dvc_account\n\
         1,T1,106.5,11.0,2025-10-04T08:00:00+07:00,h6,vneid_install\n\
         6,T1,106.5,11.0,2025-10-05T08:00:00+07:00,h7,vneid_install\n\
         9,T1,106.8,11.3,2025-10-06T08:00:00+07:00,h8,online_payment\n",
    );
    let mut df = Table::read(&csv, "visits").unwrap().df;
    let parquet = dir.join("visits.parquet");
    ParquetWriter::new(std::fs::File::create(&parquet).unwrap())
        .finish(&mut df)
        .unwrap();
    let whole = read_visits(&csv, &teams, extent).unwrap();
    assert_eq!((whole.1.rows_read, whole.1.rows_accepted), (9, 4));
    assert_eq!(whole.1.rejected["duplicate visit id"], 2);
    assert_eq!(whole.1.rejected["unknown team"], 1);
    assert_eq!(whole.1.rejected["unknown service"], 1);
    assert_eq!(whole.1.rejected["lat/lon swapped"], 1);
    assert_eq!(whole.0.visit_id, [1, 3, 6, 9]);
    assert!(
        whole
            .1
            .examples
            .iter()
            .any(|e| e.starts_with("row 7: column `visit_id`: the same id (key 1)")),
        "{:?}",
        whole.1.examples
    );
    for slice in [1, 2, 4, 1_000] {
        let sliced = read_visits_in_slices(&parquet, &teams, extent, slice).unwrap();
        assert_eq!(sliced.0, whole.0, "slice {slice}");
        assert_eq!(sliced.1, whole.1, "slice {slice}");
    }
}
