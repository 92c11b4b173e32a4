//! Crash test (short form; `scripts/crash-test.sh` runs the long one): a loop posts batches while
//! the server is killed with SIGKILL at random moments and restarted. Afterwards every batch
//! that got a 2xx receipt is wholly present, no batch is partly present, nothing is counted
//! twice, re-sending the unanswered batches completes the data, and the figures equal a fresh
//! report over the export.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use phuso::engine::{Engine, EngineConfig};
use phuso::hex::DEFAULT_RESOLUTION;
use phuso::store::Store;
use phuso::store::tokens::Role;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::{fixture, scratch};

/// One request on a fresh connection; the status, or none when the server went away.
fn post(addr: &str, token: &str, key: &str, body: &str) -> Option<(u16, String)> {
    let mut s = TcpStream::connect(addr).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(30))).ok()?;
    write!(
        s,
        "POST /api/visits HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {token}\r\nIdempotency-Key: {key}\r\nContent-Type: text/csv\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .ok()?;
    let mut out = String::new();
    s.read_to_string(&mut out).ok()?;
    let status = out.split_whitespace().nth(1)?.parse().ok()?;
    Some((status, out))
}

fn batch(n: u64) -> String {
    let mut body = String::from("visit_id,team_id,lon,lat,ts,household_id,service\n");
    for i in 0..40 {
        let id = 1_000_000 + n * 100 + i;
        let x = 106.0015 + 0.00005 * (i % 40) as f64;
        body.push_str(&format!(
            "{id},T1,{x:.5},11.0035,2025-10-02T09:{:02}:00+07:00,hh{id},vneid_install\n",
            i % 60
        ));
    }
    body
}

pub(crate) fn start(db: &std::path::Path, data: &std::path::Path) -> (std::process::Child, String) {
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_phuso"))
        .args(["serve", "--addr", "127.0.0.1:0", "--db"])
        .arg(db)
        .arg("--data")
        .arg(data)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let mut addr = String::new();
    for line in BufReader::new(child.stdout.take().unwrap()).lines() {
        let line = line.unwrap();
        if let Some(rest) = line.split("open http://").nth(1) {
            addr = rest.split('/').next().unwrap().to_owned();
            break;
        }
    }
    assert!(!addr.is_empty(), "server did not start");
    (child, addr)
}

#[test]
fn batches_survive_sigkill_whole_or_not_at_all() {
    let kills: u64 = std::env::var("PHUSO_CRASH_KILLS")
        .ok()
        .and_then(|k| k.parse().ok())
        .unwrap_or(20);
    let dir = scratch("crash");
    let db = dir.join("s.db");
    let token = {
        let mut s = Store::open(&db, true).unwrap();
        s.import_dir(&fixture("tiny"), &|_| {}).unwrap();
        s.create_token(Role::Uploader, &[], "crash test").unwrap().1
    };
    let initial = Store::open(&db, false).unwrap().counts().unwrap().1;
    let mut rng = ChaCha8Rng::seed_from_u64(13);
    let mut next = 0_u64;
    let mut acknowledged: Vec<(u64, i64)> = Vec::new(); // (batch number, store batch id)
    let mut unanswered: Vec<u64> = Vec::new();
    for _ in 0..kills {
        let (mut child, addr) = start(&db, &fixture("tiny"));
        let wait_ms = rng.random_range(0..400_u64);
        let first = next;
        let poster = {
            let (addr, token) = (addr.clone(), token.clone());
            std::thread::spawn(move || {
                let mut results = Vec::new();
                for n in first..first + 1_000 {
                    match post(&addr, &token, &format!("b{n}"), &batch(n)) {
                        Some((200, body)) => {
                            let json = &body[body.find('{').unwrap()..];
                            let v: serde_json::Value = serde_json::from_str(json).unwrap();
                            results.push((n, Some(v["batch"].as_i64().unwrap())));
                        }
                        Some((status, body)) => panic!("batch {n}: status {status}: {body}"),
                        None => {
                            results.push((n, None));
                            break;
                        }
                    }
                }
                results
            })
        };
        std::thread::sleep(Duration::from_millis(wait_ms));
        child.kill().unwrap(); // SIGKILL
        child.wait().unwrap();
        for (n, id) in poster.join().unwrap() {
            match id {
                Some(id) => acknowledged.push((n, id)),
                None => unanswered.push(n),
            }
            next = next.max(n + 1);
        }
    }
    eprintln!(
        "crash test: {kills} kills, {} batches acknowledged, {} without an answer",
        acknowledged.len(),
        unanswered.len()
    );
    assert!(
        acknowledged.len() >= kills as usize,
        "too few batches got through: {}",
        acknowledged.len()
    );
    // Every acknowledged batch is whole; no batch is partly present; nothing twice.
    let check = |db: &std::path::Path| {
        let c = rusqlite::Connection::open(db).unwrap();
        let partial: i64 = c
            .query_row(
                "SELECT count(*) FROM batches b WHERE kind = 'visits' AND rows_accepted != (SELECT count(*) FROM visits v WHERE v.batch = b.id)",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(partial, 0, "a batch is partly present");
        for (n, id) in &acknowledged {
            let got: i64 = c
                .query_row("SELECT count(*) FROM visits WHERE batch = ?1", [id], |r| {
                    r.get(0)
                })
                .unwrap();
            assert_eq!(got, 40, "acknowledged batch b{n} (id {id}) is not whole");
        }
    };
    check(&db);
    // Re-send what got no answer: each either was committed (already received) or is added now.
    let (mut child, addr) = start(&db, &fixture("tiny"));
    for n in &unanswered {
        let (status, _) = post(&addr, &token, &format!("b{n}"), &batch(*n)).unwrap();
        assert_eq!(status, 200, "re-send of b{n}");
    }
    child.kill().unwrap();
    child.wait().unwrap();
    check(&db);
    let store = Store::open(&db, false).unwrap();
    assert_eq!(
        store.counts().unwrap().1,
        initial + 40 * next,
        "every batch exactly once"
    );
    // The figures equal a fresh report over the export.
    let out = dir.join("export");
    store.export(&out, true).unwrap();
    let live = Engine::load_from(
        &store,
        phuso::PopulationSource::default(),
        DEFAULT_RESOLUTION,
    )
    .unwrap();
    let fresh = Engine::load(&EngineConfig::for_dir(&out)).unwrap();
    assert_eq!(live.figures(), fresh.figures());
}
