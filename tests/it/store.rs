//! The store: a data directory into SQLite and back gives the same figures; re-sent visits count
//! once; conflicts, foreign files and newer schemas are refused clearly; the CLI creates the store
//! on the first `serve` and reuses it on the second.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};

use phuso::engine::Inputs;
use phuso::hex::DEFAULT_RESOLUTION;
use phuso::store::{Store, StoreError};
use phuso::{Engine, EngineConfig, PopulationSource};

use crate::{bundled, bundled_engine, fixture, phuso, scratch};

fn no_progress(_: phuso::store::import::Stage) {}

fn from_store(store: &Store) -> Engine {
    Engine::load_from(store, PopulationSource::default(), DEFAULT_RESOLUTION).unwrap()
}

/// Every figure of two engines, area by area.
fn assert_same_figures(a: &Engine, b: &Engine, what: &str) {
    assert_eq!(a.figures().len(), b.figures().len(), "{what}");
    for (x, y) in a.figures().iter().zip(b.figures()) {
        assert_eq!(x, y, "{what}: {}", x.code);
    }
    assert_eq!(a.hexes().len(), b.hexes().len(), "{what}: H3 cells");
    assert_eq!(a.as_of(), b.as_of(), "{what}");
}

#[test]
fn the_bundled_data_through_the_store_and_back_gives_the_same_figures() {
    let dir = scratch("store_bundled");
    let db = dir.join("s.db");
    let mut store = Store::open(&db, true).unwrap();
    let receipts = store.import_dir(&bundled(), &no_progress).unwrap();
    assert_eq!(receipts.len(), 6);
    let visits = receipts.last().unwrap();
    assert_eq!(
        (visits.rows_read, visits.rows_accepted, visits.duplicates),
        (1_600_000, 1_600_000, 0)
    );
    assert_eq!(store.counts().unwrap(), (586, 1_600_000, 6));
    let files = bundled_engine();
    let stored = from_store(&store);
    assert_same_figures(&files, &stored, "files vs store");
    // The export is a data directory with the same figures.
    let out = dir.join("export");
    store.export(&out, false).unwrap();
    let exported = Engine::load(&EngineConfig::for_dir(&out)).unwrap();
    assert_same_figures(&stored, &exported, "store vs export");
    // An export never replaces files silently.
    let e = store.export(&out, false).unwrap_err().to_string();
    assert!(
        e.contains("would overwrite") && e.contains("--force"),
        "{e}"
    );
    // Re-sending the visits changes nothing.
    let again = store
        .import_visits(&bundled().join("synthetic/visits.parquet"), &no_progress)
        .unwrap();
    assert_eq!((again.rows_accepted, again.duplicates), (0, 1_600_000));
    assert_eq!(store.counts().unwrap(), (586, 1_600_000, 7));
    assert_same_figures(&files, &from_store(&store), "after a re-send");
}

fn tiny_store(name: &str) -> (PathBuf, Store) {
    let dir = scratch(name);
    let db = dir.join("s.db");
    let mut store = Store::open(&db, true).unwrap();
    store.import_dir(&fixture("tiny"), &no_progress).unwrap();
    (dir, store)
}

#[test]
fn visits_count_once_and_conflicts_are_refused_row_by_row() {
    let (dir, mut store) = tiny_store("store_conflicts");
    let before = from_store(&store).figures().to_vec();
    // The same ids: one with the same content, one moved (a conflict), one new.
    let f = dir.join("more.csv");
    std::fs::write(
        &f,
        "visit_id,team_id,lon,lat,ts,household_id,service\n\
         1,T1,106.002,11.002,2025-10-01T08:00:00+07:00,h1,vneid_install\n\
         2,T1,106.003,11.004,2025-10-01T09:00:00+07:00,h2,vneid_install\n\
         100,T1,106.004,11.004,2025-10-03T12:00:00+07:00,h20,vneid_install\n",
    )
    .unwrap();
    let r = store.import_visits(&f, &no_progress).unwrap();
    assert_eq!((r.rows_read, r.rows_accepted, r.duplicates), (3, 1, 1));
    assert_eq!(r.rejected["conflict with a stored visit"], 1);
    assert!(
        r.examples[0].starts_with("visit 2: already stored with other content"),
        "{:?}",
        r.examples
    );
    assert_eq!(
        r.message,
        format!(
            "3 rows read from {}: 1 visits added, 1 already received, 1 rejected",
            f.display()
        )
    );
    let after = from_store(&store);
    let n1 = after
        .figures()
        .iter()
        .find(|x| x.code == "90001-01")
        .unwrap();
    let n1_before = before.iter().find(|x| x.code == "90001-01").unwrap();
    assert_eq!(
        (n1.visits, n1.households_reached),
        (n1_before.visits + 1, n1_before.households_reached + 1)
    );
    // Every write is in the log, with its batch.
    let log = store.log().unwrap();
    assert_eq!(log.len(), 7);
    assert_eq!(log[6].action, "import visits");
    assert_eq!(log[6].batch, Some(r.batch));
}

#[test]
fn bad_documents_and_rosters_store_nothing() {
    let (dir, mut store) = tiny_store("store_bad_docs");
    let counts = store.counts().unwrap();
    let nb = std::fs::read_to_string(fixture("tiny/synthetic/neighbourhoods.geojson"))
        .unwrap()
        .replace("\"ward_code\":\"90002\"", "\"ward_code\":\"77777\"");
    let f = dir.join("nb.geojson");
    std::fs::write(&f, nb).unwrap();
    let e = store
        .import_document("neighbourhoods", &f)
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("nb.geojson") && e.contains("unknown code \"77777\""),
        "{e}"
    );
    assert_eq!(
        store.document("neighbourhoods").unwrap().unwrap().0,
        1,
        "still version 1"
    );
    // The same checks as at load: a population that is not a number is refused too.
    let nb = std::fs::read_to_string(fixture("tiny/synthetic/neighbourhoods.geojson"))
        .unwrap()
        .replace("\"population\":3,", "\"population\":\"many\",");
    std::fs::write(&f, nb).unwrap();
    let e = store
        .import_document("neighbourhoods", &f)
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("field `population`: \"many\"; expected a number ≥ 0"),
        "{e}"
    );
    assert_eq!(store.document("neighbourhoods").unwrap().unwrap().0, 1);
    let t = dir.join("teams.csv");
    std::fs::write(
        &t,
        "team_id,area_code,kind,members\nT1,90001-01,TNTN,4\nT4,nowhere,TNTN,3\n",
    )
    .unwrap();
    let e = store.import_teams(&t).unwrap_err().to_string();
    assert!(
        e.contains("row 2: column `area_code`: unknown code \"nowhere\""),
        "{e}"
    );
    assert_eq!(store.counts().unwrap(), counts);
    // A good roster change is stored.
    std::fs::write(&t, "team_id,area_code,kind,members\nT1,90001-01,TNTN,6\n").unwrap();
    let r = store.import_teams(&t).unwrap();
    assert_eq!((r.rows_accepted, r.duplicates), (1, 0));
    let e = from_store(&store);
    assert_eq!(e.figures()[e.position("90001-01").unwrap()].members, 6);
}

#[test]
fn a_wards_version_that_would_make_the_store_unloadable_is_refused() {
    let (dir, mut store) = tiny_store("store_bad_wards");
    // Valid on its own, but ward 90002 holds neighbourhoods (and their teams and visits).
    let mut wards: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(fixture("tiny/wards_2025.geojson")).unwrap())
            .unwrap();
    wards["features"]
        .as_array_mut()
        .unwrap()
        .retain(|f| f["properties"]["code"] != "90002");
    let f = dir.join("wards.geojson");
    std::fs::write(&f, wards.to_string()).unwrap();
    let e = store.import_document("wards", &f).unwrap_err().to_string();
    assert!(
        e.contains("wards not stored: with this version the store would not load")
            && e.contains("unknown code \"90002\""),
        "{e}"
    );
    assert_eq!(
        store.document("wards").unwrap().unwrap().0,
        1,
        "still version 1"
    );
    assert_eq!(store.log().unwrap().len(), 6, "nothing logged");
    // The store still loads, with the figures it had.
    let e = from_store(&store);
    assert!(e.position("90002").is_some());
    // The same file with ward 90002 kept is a new version.
    let r = store
        .import_document("wards", &fixture("tiny/wards_2025.geojson"))
        .unwrap();
    assert_eq!(
        r.message,
        format!(
            "wards version 2 stored from {}",
            fixture("tiny/wards_2025.geojson").display()
        )
    );
}

#[test]
fn foreign_files_and_newer_schemas_are_refused() {
    let dir = scratch("store_foreign");
    let junk = dir.join("junk.db");
    std::fs::write(&junk, vec![0x42_u8; 10_000]).unwrap();
    let e = Store::open(&junk, false).err().unwrap();
    assert!(matches!(e, StoreError::Foreign { .. }), "{e}");
    assert!(e.to_string().contains("not a Phủ Số store"), "{e}");
    // Another program's SQLite database.
    let other = dir.join("other.db");
    {
        let c = rusqlite::Connection::open(&other).unwrap();
        c.execute_batch("CREATE TABLE t (x); INSERT INTO t VALUES (1);")
            .unwrap();
    }
    let e = Store::open(&other, false).err().unwrap();
    assert!(matches!(e, StoreError::Foreign { .. }), "{e}");
    // A store from a newer Phủ Số.
    let (dir, store) = tiny_store("store_newer");
    let db = store.path().to_owned();
    assert_eq!(
        store.schema_version().unwrap(),
        phuso::store::schema::MIGRATIONS.len() as i64
    );
    drop(store);
    rusqlite::Connection::open(&db)
        .unwrap()
        .pragma_update(None, "user_version", 99)
        .unwrap();
    let e = Store::open(&db, false).err().unwrap();
    assert!(matches!(e, StoreError::Newer { found: 99, .. }), "{e}");
    assert!(e.to_string().contains("nothing was changed"), "{e}");
    // A missing store is not created unless asked.
    let e = Store::open(&dir.join("none.db"), false).err().unwrap();
    assert!(e.to_string().contains("no such store"), "{e}");
    assert!(!dir.join("none.db").exists());
}

#[test]
fn a_store_without_documents_names_what_is_missing() {
    let dir = scratch("store_empty");
    let store = Store::open(&dir.join("s.db"), true).unwrap();
    assert!(store.is_empty().unwrap());
    let e = store.wards().unwrap_err().to_string();
    assert!(
        e.contains("s.db#wards") && e.contains("phuso import wards"),
        "{e}"
    );
}

#[test]
fn backup_is_a_working_copy() {
    let (dir, store) = tiny_store("store_backup");
    let copy = dir.join("copy.db");
    store.backup(&copy).unwrap();
    let b = Store::open(&copy, false).unwrap();
    assert_eq!(b.counts().unwrap(), store.counts().unwrap());
    assert_same_figures(&from_store(&store), &from_store(&b), "backup");
    assert!(
        store
            .backup(&copy)
            .unwrap_err()
            .to_string()
            .contains("already exists")
    );
}

/// Starts `phuso serve` and returns the lines it printed up to "open http://…", then stops it.
fn serve_lines(args: &[&str]) -> Vec<String> {
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_phuso"))
        .args(["serve", "--addr", "127.0.0.1:0"])
        .args(args)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = Vec::new();
    for line in BufReader::new(child.stdout.take().unwrap()).lines() {
        let line = line.unwrap();
        let done = line.contains("open http://");
        lines.push(line);
        if done {
            break;
        }
    }
    child.kill().unwrap();
    child.wait().unwrap();
    lines
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to.join("synthetic")).unwrap();
    for f in [
        "wards_2025.geojson",
        "census_2019.csv",
        "norms.toml",
        "synthetic/neighbourhoods.geojson",
        "synthetic/teams.csv",
        "synthetic/visits.csv",
    ] {
        std::fs::copy(from.join(f), to.join(f)).unwrap();
    }
}

#[test]
fn serve_creates_the_store_once_then_reuses_it() {
    let dir = scratch("store_serve");
    let data = dir.join("data");
    copy_dir(&fixture("tiny"), &data);
    let d = data.to_str().unwrap();
    let first = serve_lines(&["--data", d]);
    assert!(
        first[0].starts_with(&format!(
            "No store at {}: creating it from {d}",
            data.join("phuso.db").display()
        )),
        "{first:?}"
    );
    assert!(
        first.iter().any(|l| l.contains("6 batches, 8 visits")),
        "{first:?}"
    );
    assert!(data.join("phuso.db").exists());
    let second = serve_lines(&["--data", d]);
    assert!(!second.iter().any(|l| l.contains("No store")), "{second:?}");
    assert!(second[0].starts_with("Serving the store"), "{second:?}");
    // --no-store serves the folder as it is, and writes nothing.
    let snap = dir.join("snap");
    copy_dir(&fixture("tiny"), &snap);
    let lines = serve_lines(&["--data", snap.to_str().unwrap(), "--no-store"]);
    assert!(lines.last().unwrap().contains("open http://"));
    assert!(!snap.join("phuso.db").exists());
}

#[test]
fn import_export_backup_and_log_on_the_command_line() {
    let dir = scratch("store_cli");
    let db = dir.join("s.db");
    let d = db.to_str().unwrap();
    let tiny = fixture("tiny");
    for (kind, file) in [
        ("wards", "wards_2025.geojson"),
        ("census", "census_2019.csv"),
        ("norms", "norms.toml"),
        ("neighbourhoods", "synthetic/neighbourhoods.geojson"),
        ("teams", "synthetic/teams.csv"),
        ("visits", "synthetic/visits.csv"),
    ] {
        let (code, out, err) =
            phuso(&["import", kind, tiny.join(file).to_str().unwrap(), "--db", d]);
        assert_eq!(code, 0, "{kind}: {err}");
        let receipt: serde_json::Value = serde_json::from_str(&out).unwrap();
        assert!(receipt["batch"].as_i64().unwrap() >= 1, "{out}");
    }
    let (code, out, _) = phuso(&[
        "import",
        "visits",
        tiny.join("synthetic/visits.csv").to_str().unwrap(),
        "--db",
        d,
    ]);
    assert_eq!(code, 0);
    let r: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(
        (r["rows_accepted"].as_u64(), r["duplicates"].as_u64()),
        (Some(0), Some(8))
    );
    let out_dir = dir.join("exp");
    let (code, _, err) = phuso(&["export", "--db", d, "--out", out_dir.to_str().unwrap()]);
    assert_eq!(code, 0, "{err}");
    let (code, report, err) = phuso(&[
        "report",
        "--data",
        out_dir.to_str().unwrap(),
        "--format",
        "json",
    ]);
    assert_eq!(code, 0, "{err}");
    let (_, direct, _) = phuso(&[
        "report",
        "--data",
        tiny.to_str().unwrap(),
        "--format",
        "json",
    ]);
    assert_eq!(report, direct, "report on the export = report on the files");
    let (code, out, _) = phuso(&[
        "backup",
        "--db",
        d,
        "--out",
        dir.join("b.db").to_str().unwrap(),
    ]);
    assert_eq!(code, 0);
    assert!(out.contains("online backup"));
    let (code, log, _) = phuso(&["log", "--db", d]);
    assert_eq!(code, 0);
    assert_eq!(log.lines().count(), 7);
    assert!(
        log.lines().last().unwrap().contains("import visits"),
        "{log}"
    );
    // A bad file: exit 2, the file and row named, nothing stored.
    let bad = dir.join("bad.csv");
    std::fs::write(&bad, "team_id,area_code,kind,members\nT7,nowhere,TNTN,3\n").unwrap();
    let (code, _, err) = phuso(&["import", "teams", bad.to_str().unwrap(), "--db", d]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("bad.csv") && err.contains("row 1"), "{err}");
    let (_, log, _) = phuso(&["log", "--db", d]);
    assert_eq!(log.lines().count(), 7);
}

#[test]
fn roster_changes_count_from_their_day_and_survive_export() {
    let (dir, mut store) = tiny_store("store_roster_changes");
    let before = from_store(&store);
    let n1 = before.position("90001-01").unwrap();
    let n2 = before.position("90001-02").unwrap();
    assert_eq!(before.own_totals()[n1].daily_members, vec![4; 10]);
    // Bad rows are listed together and nothing is stored.
    let f = dir.join("changes.csv");
    std::fs::write(
        &f,
        "team_id,effective_from,members\nT9,2025-10-02,8\nT1,02/10/2025,8\nT1,2025-12-01,8\nT1,2025-10-02,-1\n",
    )
    .unwrap();
    let e = store.import_roster_changes(&f).unwrap_err().to_string();
    for part in [
        "row 1: column `team_id`: unknown team \"T9\"",
        "row 2: column `effective_from`: value \"02/10/2025\"; expected a date YYYY-MM-DD",
        "row 3: column `effective_from`: 2025-12-01 for team \"T1\" is after the campaign's last day 2025-10-10",
        "row 4: column `members`: value \"-1\"; expected a whole number ≥ 0",
    ] {
        assert!(e.contains(part), "{part}\n{e}");
    }
    assert!(store.roster_changes().unwrap().is_empty());
    // T1 grows from 4 to 8 on 2 October; T2 stands down on 3 October.
    std::fs::write(
        &f,
        "team_id,effective_from,members\nT1,2025-10-02,8\nT2,2025-10-03,0\n",
    )
    .unwrap();
    let r = store.import_roster_changes(&f).unwrap();
    assert_eq!((r.rows_read, r.rows_accepted, r.duplicates), (2, 2, 0));
    // The same file again changes nothing.
    let again = store.import_roster_changes(&f).unwrap();
    assert_eq!((again.rows_accepted, again.duplicates), (0, 2));
    let after = from_store(&store);
    assert_eq!(after.as_of().to_string(), "2025-10-03");
    let t1 = &after.own_totals()[n1];
    assert_eq!(t1.daily_members, vec![4, 8, 8, 8, 8, 8, 8, 8, 8, 8]);
    assert_eq!((t1.members, t1.teams), (8, 1));
    let t2 = &after.own_totals()[n2];
    assert_eq!(t2.daily_members, vec![2, 2, 0, 0, 0, 0, 0, 0, 0, 0]);
    assert_eq!((t2.members, t2.teams), (0, 0));
    // The pace counts member-days: the 2-day window (2–3 October) holds 8 + 8 for T1's area.
    let f1 = &after.figures()[n1];
    let visits_in_window: u64 = t1.daily_visits[1..3].iter().sum();
    assert!(visits_in_window > 0);
    assert_eq!(
        f1.visits_per_member_day,
        Some(visits_in_window as f64 / 16.0)
    );
    let b1 = &before.figures()[n1];
    assert_eq!(
        b1.visits_per_member_day,
        Some(visits_in_window as f64 / 8.0)
    );
    assert_eq!(
        after.figures()[n2].days_to_target,
        None,
        "no members, no projection"
    );
    // The export holds the history, and a report over it gives the same figures.
    let out = dir.join("export");
    store.export(&out, false).unwrap();
    let csv = std::fs::read_to_string(out.join("synthetic/roster_changes.csv")).unwrap();
    assert_eq!(
        csv,
        "team_id,effective_from,members\nT1,2025-10-02,8\nT2,2025-10-03,0\n"
    );
    let files = Engine::load(&EngineConfig::for_dir(&out)).unwrap();
    assert_same_figures(&files, &after, "export with roster changes");
    // Every change is in the log.
    assert_eq!(
        store.log().unwrap().last().unwrap().action,
        "roster changes"
    );
}

#[test]
fn a_damaged_store_is_named_with_what_to_do_and_exit_code_2() {
    let (dir, store) = tiny_store("store_damaged");
    let db = store.path().to_owned();
    drop(store); // closes and checkpoints: everything is in the main file
    let mut bytes = std::fs::read(&db).unwrap();
    assert!(bytes.len() > 8192, "{}", bytes.len());
    // Keep the header page (the file still says it is SQLite and a Phủ Số store); damage the rest.
    for (i, b) in bytes.iter_mut().enumerate().skip(4096) {
        *b = (i % 251) as u8;
    }
    std::fs::write(&db, &bytes).unwrap();
    let out = dir.join("out");
    let (code, _, err) = phuso(&[
        "export",
        "--db",
        db.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("s.db") && err.contains("the store file is damaged: restore the last backup"),
        "{err}"
    );
    let (code, _, err) = phuso(&[
        "serve",
        "--db",
        db.to_str().unwrap(),
        "--addr",
        "127.0.0.1:0",
    ]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("damaged"), "{err}");
}

/// A store on a 1 MiB tmpfs: a bulk import that does not fit fails with "the disk is full",
/// exit code 1, and the store keeps exactly what it had. Needs permission to mount (root, as in
/// CI); elsewhere it says so and checks nothing.
#[test]
fn a_full_disk_refuses_the_batch_and_keeps_the_store() {
    let dir = scratch("store_full_disk");
    let mnt = dir.join("tmpfs");
    std::fs::create_dir_all(&mnt).unwrap();
    let mounted = std::process::Command::new("mount")
        .args(["-t", "tmpfs", "-o", "size=1m", "tmpfs"])
        .arg(&mnt)
        .status()
        .is_ok_and(|s| s.success());
    if !mounted {
        eprintln!(
            "SKIPPED a_full_disk_refuses_the_batch_and_keeps_the_store: cannot mount a tmpfs here (needs root)"
        );
        return;
    }
    struct Unmount<'a>(&'a Path);
    impl Drop for Unmount<'_> {
        fn drop(&mut self) {
            let _ = std::process::Command::new("umount").arg(self.0).status();
        }
    }
    let _guard = Unmount(&mnt);
    let db = mnt.join("s.db");
    let mut store = Store::open(&db, true).unwrap();
    store.import_dir(&fixture("tiny"), &no_progress).unwrap();
    let counts = store.counts().unwrap();
    drop(store);
    // 40,000 visits (several MiB in the store) do not fit in what is left.
    let big = dir.join("big.csv");
    let mut csv = String::from("visit_id,team_id,lon,lat,ts,household_id,service\n");
    for i in 0..40_000 {
        csv.push_str(&format!(
            "{},T1,106.00{},11.00{},2025-10-0{}T09:00:00+07:00,big{i},vneid_install\n",
            500_000 + i,
            1 + i % 8,
            1 + i % 9,
            1 + i % 9
        ));
    }
    std::fs::write(&big, csv).unwrap();
    let (code, _, err) = phuso(&[
        "import",
        "visits",
        big.to_str().unwrap(),
        "--db",
        db.to_str().unwrap(),
    ]);
    assert_eq!(code, 1, "{err}");
    assert!(
        err.contains("the disk is full: nothing of this write was stored"),
        "{err}"
    );
    // Nothing of the batch is in the store; it opens and loads as before.
    let store = Store::open(&db, false).unwrap();
    assert_eq!(store.counts().unwrap(), counts);
    from_store(&store);
}

#[test]
fn a_new_norms_version_moves_the_window_uploads_are_checked_against() {
    let (dir, mut store) = tiny_store("store_norms_window");
    let f = dir.join("late.csv");
    std::fs::write(
        &f,
        "visit_id,team_id,lon,lat,ts,household_id,service\n\
         300,T1,106.002,11.003,2025-10-05T10:00:00+07:00,h300,vneid_install\n",
    )
    .unwrap();
    // Checked once against the 10-day window (the box and window are then kept)…
    let ok = store.import_visits(&f, &no_progress).unwrap();
    assert_eq!(ok.rows_accepted, 1);
    // …and again after the norms change: a 3-day window leaves 5 October out.
    let norms = std::fs::read_to_string(fixture("tiny/norms.toml"))
        .unwrap()
        .replace("days = 10", "days = 3");
    let n = dir.join("norms.toml");
    std::fs::write(&n, norms).unwrap();
    store.import_document("norms", &n).unwrap();
    std::fs::write(
        &f,
        "visit_id,team_id,lon,lat,ts,household_id,service\n\
         301,T1,106.002,11.003,2025-10-05T11:00:00+07:00,h301,vneid_install\n",
    )
    .unwrap();
    let late = store.import_visits(&f, &no_progress).unwrap();
    assert_eq!(late.rows_accepted, 0, "{late:?}");
    assert_eq!(late.rejected["outside campaign window"], 1);
}
