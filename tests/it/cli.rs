//! The `phuso` binary: outputs, field names and exit codes.

use crate::{fixture, phuso, scratch};

#[test]
fn report_csv_has_the_documented_fields() {
    let tiny = fixture("tiny");
    let (code, out, err) = phuso(&[
        "report",
        "--data",
        tiny.to_str().unwrap(),
        "--format",
        "csv",
        "--level",
        "neighbourhood",
    ]);
    assert_eq!(code, 0, "{err}");
    let header = out.lines().next().unwrap();
    for field in [
        "rank",
        "code",
        "name",
        "level",
        "parent_code",
        "population",
        "households",
        "area_km2",
        "density_per_km2",
        "teams",
        "members",
        "residents_per_member",
        "visits",
        "households_reached",
        "coverage_ratio",
        "days_to_target",
        "on_track",
        "members_needed",
        "reason",
        "reason_vi",
    ] {
        assert!(
            header.split(',').any(|h| h == field),
            "missing {field} in {header}"
        );
    }
    // Ranked by members needed: N2 (12), N1 (10), N3 (0).
    let codes: Vec<&str> = out
        .lines()
        .skip(1)
        .map(|l| l.split(',').nth(1).unwrap())
        .collect();
    assert_eq!(codes, ["90001-02", "90001-01", "90002-01"]);
}

#[test]
fn report_table_and_json() {
    let tiny = fixture("tiny");
    let (code, out, _) = phuso(&["report", "--data", tiny.to_str().unwrap()]);
    assert_eq!(code, 0);
    assert!(
        out.contains("visits: 14 read, 8 accepted, 6 rejected, 1 outside every area"),
        "{out}"
    );
    assert!(
        out.contains("needs 22 more members to reach 50% by 2025-10-11"),
        "{out}"
    );
    let (code, out, _) = phuso(&[
        "report",
        "--data",
        tiny.to_str().unwrap(),
        "--format",
        "json",
        "--limit",
        "1",
    ]);
    assert_eq!(code, 0);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v[0]["code"], "90001");
    assert_eq!(v[0]["members_needed"], 22);
    assert_eq!(v[0]["on_track"], false);
}

#[test]
fn join_counts_and_assignments() {
    let dir = scratch("cli_join");
    let points = dir.join("points.csv");
    std::fs::write(
        &points,
        "lon,lat\n0.5,0.5\n1.0,0.5\n1.5,0.5\n5.5,5.5\n999,0\n1.25,0.25\n",
    )
    .unwrap();
    let counts = dir.join("counts.csv");
    let assignments = dir.join("assignments.csv");
    let (code, _, err) = phuso(&[
        "join",
        "--areas",
        fixture("join_cases.geojson").to_str().unwrap(),
        "--points",
        points.to_str().unwrap(),
        "--counts-out",
        counts.to_str().unwrap(),
        "--assignments-out",
        assignments.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        std::fs::read_to_string(&counts).unwrap(),
        "code,name,count\nA,A,2\nB,B,1\nC,C,1\n_outside,in no area,1\n_swapped,in no area; inside one with lon and lat swapped,0\n_invalid,not a number or out of range,1\n"
    );
    assert_eq!(
        std::fs::read_to_string(&assignments).unwrap(),
        "row,code\n1,A\n2,A\n3,\n4,C\n5,\n6,B\n"
    );
    assert!(err.contains("row 5") && err.contains("999"), "{err}");
}

#[test]
fn malformed_inputs_exit_with_2_and_name_the_problem() {
    let dir = scratch("cli_bad");
    let areas = dir.join("areas.geojson");
    std::fs::write(&areas, r#"{"type":"FeatureCollection","features":[{"type":"Feature","properties":{"code":"X"},"geometry":{"type":"Polygon","coordinates":[[[0,0],[1,0],[1,1],[0,1]]]}}]}"#).unwrap();
    let points = dir.join("points.csv");
    std::fs::write(&points, "x,y\n1,2\n").unwrap();
    let counts = dir.join("counts.csv");
    let (code, _, err) = phuso(&[
        "join",
        "--areas",
        areas.to_str().unwrap(),
        "--points",
        points.to_str().unwrap(),
        "--counts-out",
        counts.to_str().unwrap(),
    ]);
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("areas.geojson")
            && err.contains("feature 0 (code \"X\")")
            && err.contains("not closed"),
        "{err}"
    );
    let (code, _, err) = phuso(&[
        "join",
        "--areas",
        fixture("join_cases.geojson").to_str().unwrap(),
        "--points",
        points.to_str().unwrap(),
        "--counts-out",
        counts.to_str().unwrap(),
    ]);
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("points.csv: missing column `lon`") && err.contains("x, y"),
        "{err}"
    );
    let (code, _, err) = phuso(&["report", "--data", dir.to_str().unwrap()]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("norms.toml"), "{err}");
}

#[test]
fn bench_prints_checked_measurements_as_json_lines() {
    let (code, out, err) = phuso(&["bench", "--points", "20000", "--h3", "9"]);
    assert_eq!(code, 0, "{err}");
    let lines: Vec<serde_json::Value> = out
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines[0]["points"], 20_000);
    assert_eq!(lines[0]["area_count"], 36);
    let tasks: Vec<&str> = lines[1..]
        .iter()
        .map(|l| l["task"].as_str().unwrap())
        .collect();
    assert_eq!(
        tasks,
        ["index", "join", "join_rtree_only", "h3_res9", "h3o_res9"]
    );
    for l in &lines[2..] {
        assert_eq!(l["equal_to_reference"], true, "{l}");
        assert!(l["points_per_s"].as_f64().unwrap() > 0.0);
        assert!(l["peak_rss_mib"].as_f64().unwrap() > 1.0);
    }
    // `--h3` alone: no H3 measurements.
    let (code, out, _) = phuso(&["bench", "--points", "1000", "--h3"]);
    assert_eq!(code, 0);
    assert_eq!(out.lines().count(), 4);
}

#[test]
fn machine_formats_return_every_row() {
    let data = crate::bundled();
    let data = data.to_str().unwrap();
    for format in ["json", "csv"] {
        let (code, out, err) = phuso(&["report", "--data", data, "--format", format]);
        assert_eq!(code, 0, "{err}");
        let rows = if format == "json" {
            serde_json::from_str::<Vec<serde_json::Value>>(&out)
                .unwrap()
                .len()
        } else {
            out.lines().count() - 1
        };
        assert_eq!(rows, 36, "{format}");
    }
    let (_, out, _) = phuso(&["report", "--data", data, "--format", "json", "--limit", "3"]);
    assert_eq!(
        serde_json::from_str::<Vec<serde_json::Value>>(&out)
            .unwrap()
            .len(),
        3
    );
    let (_, out, _) = phuso(&["report", "--data", data]);
    assert!(
        out.starts_with("Phủ Số — 36 areas at level ward (the first 15 shown; --limit 0 for all)"),
        "{out}"
    );
}

#[test]
fn generate_never_overwrites_without_being_asked() {
    let (code, _, err) = phuso(&["generate", "--visits", "10"]);
    assert_eq!(code, 2, "--out is required");
    assert!(err.contains("--out"), "{err}");
    let out = scratch("generate_force");
    std::fs::write(out.join("teams.csv"), "keep me").unwrap();
    let o = out.to_str().unwrap();
    let (code, _, err) = phuso(&["generate", "--out", o, "--visits", "100"]);
    assert_eq!(code, 1, "{err}");
    assert!(
        err.contains("would overwrite") && err.contains("teams.csv") && err.contains("--force"),
        "{err}"
    );
    assert_eq!(
        std::fs::read_to_string(out.join("teams.csv")).unwrap(),
        "keep me"
    );
    let (code, _, err) = phuso(&["generate", "--out", o, "--visits", "100", "--force"]);
    assert_eq!(code, 0, "{err}");
    assert!(
        std::fs::read_to_string(out.join("teams.csv"))
            .unwrap()
            .starts_with("team_id,")
    );
}

#[test]
fn a_missing_data_folder_is_said_once_and_plainly() {
    let (code, _, err) = phuso(&["report", "--data", "/no/such/folder"]);
    assert_eq!(code, 1);
    assert!(
        err.contains("--data /no/such/folder: no such folder"),
        "{err}"
    );
    // A missing file inside a folder: the OS reason once, no Rust debug text.
    let dir = scratch("no_wards");
    let (code, _, err) = phuso(&["report", "--data", dir.to_str().unwrap()]);
    assert_eq!(code, 2, "{err}");
    assert_eq!(err.matches("os error 2").count(), 1, "{err}");
    assert!(!err.contains("Some("), "{err}");
}

#[test]
fn help_lists_the_allowed_levels() {
    for command in ["report", "audit", "plan"] {
        let (code, out, _) = phuso(&[command, "-h"]);
        assert_eq!(code, 0);
        assert!(
            out.contains("[possible values: country, province, district, ward, neighbourhood]"),
            "{command}: {out}"
        );
        let (_, out, _) = phuso(&[command, "--help"]);
        assert!(
            out.contains("- province:") && out.contains("- neighbourhood:"),
            "{command}: {out}"
        );
    }
    let (_, out, _) = phuso(&["report", "-h"]);
    assert!(
        out.contains("[possible values: table, json, csv, xlsx]"),
        "{out}"
    );
}

#[test]
fn a_closed_pipe_ends_quietly() {
    use std::io::Read;
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_phuso"))
        .args(["report", "--level", "neighbourhood", "--format", "csv"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut first = [0_u8; 100];
    child.stdout.take().unwrap().read_exact(&mut first).unwrap(); // then `head` goes away
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(String::from_utf8_lossy(&out.stderr), "");
}

#[test]
fn a_busy_port_is_found_before_loading() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap().to_string();
    // The data folder does not exist: the port is checked first.
    let (code, _, err) = phuso(&["serve", "--addr", &addr, "--data", "/no/such/folder"]);
    assert_eq!(code, 1);
    assert!(err.contains(&format!("cannot listen on {addr}")), "{err}");
    assert!(!err.contains("no such folder"), "{err}");
}

#[test]
fn plan_meet_deadline_on_the_command_line() {
    let data = crate::bundled();
    let (code, out, err) = phuso(&[
        "plan",
        "--data",
        data.to_str().unwrap(),
        "--meet-deadline",
        "--level",
        "ward",
        "--format",
        "json",
    ]);
    assert_eq!(code, 0, "{err}");
    let p: serde_json::Value = serde_json::from_str(&out).unwrap();
    let (_, report, _) = phuso(&[
        "report",
        "--data",
        data.to_str().unwrap(),
        "--level",
        "province",
        "--format",
        "json",
    ]);
    let province: serde_json::Value = serde_json::from_str(&report).unwrap();
    assert_eq!(p["volunteers"], province[0]["members_needed"]);
    assert_eq!(p["on_time_after"], true);
    assert_eq!(p["level"], "ward");
    assert_eq!(p["placed_at"], "neighbourhood");
    let (code, _, err) = phuso(&["plan", "--meet-deadline", "--volunteers", "4"]);
    assert_eq!(code, 2);
    assert!(err.contains("cannot be used with"), "{err}");
    let (code, _, err) = phuso(&["plan"]);
    assert_eq!(code, 2);
    assert!(err.contains("--volunteers"), "{err}");
}

#[test]
fn join_reads_points_the_way_users_write_them() {
    let dir = scratch("cli_join_rough");
    let points = dir.join("points.csv");
    // A blank line, too many and too few fields, a text, a decimal comma, a swapped point.
    std::fs::write(
        &points,
        "lon,lat\n0.5,0.5\n\n0.5,0.6,7\n0.5\nabc,0.5\n\"0,5\",0.5\n0.5,3.5\n",
    )
    .unwrap();
    let counts = dir.join("counts.csv");
    let (code, _, err) = phuso(&[
        "join",
        "--areas",
        crate::fixture("join_cases.geojson").to_str().unwrap(),
        "--points",
        points.to_str().unwrap(),
        "--counts-out",
        counts.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{err}");
    // (0.5, 3.5) is in no area; (3.5, 0.5) is not in C either, so it stays outside. Rows 2–5 are invalid.
    assert_eq!(
        std::fs::read_to_string(&counts).unwrap(),
        "code,name,count\nA,A,1\nB,B,0\nC,C,0\n_outside,in no area,1\n_swapped,in no area; inside one with lon and lat swapped,0\n_invalid,not a number or out of range,4\n"
    );
    for needle in [
        "row 2: line 4: 3 fields; expected 2 (lon, lat)",
        "row 3: line 5: 1 field; expected 2 (lon, lat)",
        "row 4: column `lon`: value \"abc\"",
        "row 5: column `lon`: value \"0,5\"; expected longitude in degrees (WGS84) (a decimal comma: write 0.5 with a point)",
    ] {
        assert!(err.contains(needle), "{needle} not in {err}");
    }
    assert!(!err.contains("NaN"), "{err}");
    // Swapped: the bundled wards, a point given as lat, lon.
    std::fs::write(&points, "lon,lat\n11.05,106.65\n106.65,11.05\n").unwrap();
    let (code, _, err) = phuso(&[
        "join",
        "--areas",
        crate::bundled()
            .join("wards_2025.geojson")
            .to_str()
            .unwrap(),
        "--points",
        points.to_str().unwrap(),
        "--counts-out",
        counts.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{err}");
    let text = std::fs::read_to_string(&counts).unwrap();
    assert!(text.contains("25849,Phường Hoà Lợi,1\n"), "{text}");
    assert!(
        text.contains("_swapped,in no area; inside one with lon and lat swapped,1\n"),
        "{text}"
    );
    assert!(
        text.contains("_invalid,not a number or out of range,0\n"),
        "{text}"
    );
    assert!(err.contains("row 1: columns `lon`,`lat`: values 11.05, 106.65; in no area, but inside one with lon and lat swapped"), "{err}");
}

#[test]
fn no_colour_codes_when_stderr_is_not_a_terminal() {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_phuso"))
        .args(["report", "--data", crate::fixture("tiny").to_str().unwrap()])
        .env("RUST_LOG", "info")
        .output()
        .unwrap();
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(err.contains("engine loaded"), "{err}");
    assert!(!err.contains('\u{1b}'), "colour codes in a pipe: {err:?}");
}

#[test]
fn join_keeps_the_index_and_never_trusts_a_damaged_one() {
    let dir = scratch("cli_join_cache");
    let cache = dir.join("cache");
    // 2,000 points along lines over the 36 bundled wards (some outside them).
    let text: String = std::iter::once("lon,lat\n".to_owned())
        .chain((0..2000).map(|i| {
            let f = f64::from(i) / 2000.0;
            format!(
                "{},{}\n",
                106.55 + 0.35 * f,
                10.85 + 0.35 * (f * 7.0).fract()
            )
        }))
        .collect();
    let points_csv = dir.join("points.csv");
    std::fs::write(&points_csv, text).unwrap();
    let areas = crate::bundled().join("wards_2025.geojson");
    let run = |extra: &[&str], out: &str| {
        let counts = dir.join(out);
        let mut args = vec![
            "join",
            "--areas",
            areas.to_str().unwrap(),
            "--points",
            points_csv.to_str().unwrap(),
            "--counts-out",
            counts.to_str().unwrap(),
        ];
        args.extend_from_slice(extra);
        let (code, _, err) = phuso(&args);
        assert_eq!(code, 0, "{err}");
        (std::fs::read_to_string(counts).unwrap(), err)
    };
    let cache_arg = ["--cache-dir", cache.to_str().unwrap()];
    let (fresh, err) = run(&["--no-cache"], "fresh.csv");
    assert!(!err.contains("from the cache"), "{err}");
    assert!(!cache.exists());
    // The first run builds and keeps the index; the second reads it; both count the same.
    let (first, err) = run(&cache_arg, "first.csv");
    assert!(!err.contains("from the cache"), "{err}");
    let kept: Vec<_> = std::fs::read_dir(&cache)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(kept.len(), 1, "{kept:?}");
    let (second, err) = run(&cache_arg, "second.csv");
    assert!(err.contains("(index from the cache)"), "{err}");
    assert_eq!(first, fresh);
    assert_eq!(second, fresh);
    assert!(fresh.lines().count() == 1 + 36 + 3);
    let inside: u64 = fresh
        .lines()
        .skip(1)
        .take(36)
        .map(|l| l.rsplit(',').next().unwrap().parse::<u64>().unwrap())
        .sum();
    assert!(inside > 500, "{fresh}");
    // A damaged cache file is said, not trusted, and replaced.
    let mut bytes = std::fs::read(&kept[0]).unwrap();
    let mid = bytes.len() / 2;
    bytes[mid] ^= 0x55;
    std::fs::write(&kept[0], &bytes).unwrap();
    let (third, err) = run(&cache_arg, "third.csv");
    assert_eq!(third, fresh);
    assert!(
        err.contains("checksum does not match")
            && err.contains("built again")
            && !err.contains("from the cache"),
        "{err}"
    );
    let (fourth, err) = run(&cache_arg, "fourth.csv");
    assert_eq!(fourth, fresh);
    assert!(err.contains("(index from the cache)"), "{err}");
    // Another id property is another index.
    let (_, err) = run(
        &[
            "--cache-dir",
            cache.to_str().unwrap(),
            "--id-property",
            "name",
        ],
        "by_name.csv",
    );
    assert!(!err.contains("from the cache"), "{err}");
    assert_eq!(std::fs::read_dir(&cache).unwrap().count(), 2);
    // A cache that cannot be written costs a warning, not the join.
    let blocked = dir.join("blocked");
    std::fs::write(&blocked, "a file, not a directory").unwrap();
    let (fifth, err) = run(&["--cache-dir", blocked.to_str().unwrap()], "fifth.csv");
    assert_eq!(fifth, fresh);
    assert!(err.contains("cannot keep the index there"), "{err}");
}
