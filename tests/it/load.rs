//! Load test, short form (`scripts/load-test.py` is the load generator; run it longer by hand,
//! see README): 20 concurrent uploaders and 100 concurrent readers on loopback for a few
//! seconds against the real binary. No request may fail, something must be accepted, and once
//! the uploads stop the live figures catch up with the store exactly.

use std::time::{Duration, Instant};

use phuso::store::Store;
use phuso::store::tokens::Role;

use crate::crash::start;
use crate::{fixture, scratch};

#[test]
fn concurrent_uploaders_and_readers_without_errors() {
    let dir = scratch("load");
    let db = dir.join("s.db");
    let token = {
        let mut s = Store::open(&db, true).unwrap();
        s.import_dir(&fixture("tiny"), &|_| {}).unwrap();
        s.create_token(Role::Uploader, &[], "load test").unwrap().1
    };
    let (mut child, addr) = start(&db, &fixture("tiny"));
    let out = std::process::Command::new("python3")
        .arg(concat!(env!("CARGO_MANIFEST_DIR"), "/scripts/load-test.py"))
        .args(["--url", &format!("http://{addr}"), "--token", &token])
        .args([
            "--teams",
            fixture("tiny/synthetic/teams.csv").to_str().unwrap(),
        ])
        .args(["--uploaders", "20", "--readers", "100", "--seconds", "4"])
        .args(["--batch", "50", "--area", "90001", "--date", "2025-10-05"])
        .args(["--bbox", "106.0001,11.0001,106.0199,11.0099"])
        .output()
        .expect("python3 runs the load generator");
    let report = String::from_utf8_lossy(&out.stdout);
    eprintln!("{report}{}", String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "{report}");
    assert!(report.contains("errors: 0"), "{report}");
    // The figures catch up with the store: every stored visit is counted, once.
    let stored = Store::open(&db, false).unwrap().counts().unwrap().1;
    let until = Instant::now() + Duration::from_secs(60);
    let visits = loop {
        let body = ureq_get(&addr, "/api/summary");
        let v: serde_json::Value = serde_json::from_str(&body).unwrap();
        let visits = v["visits"]["rows_read"].as_u64().unwrap();
        if visits == stored || Instant::now() > until {
            break visits;
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    child.kill().unwrap();
    child.wait().unwrap();
    assert_eq!(visits, stored, "live figures after the load");
}

/// A GET on a fresh connection; the body.
fn ureq_get(addr: &str, path: &str) -> String {
    use std::io::{Read, Write};
    let mut s = std::net::TcpStream::connect(addr).unwrap();
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).unwrap();
    out.split_once("\r\n\r\n")
        .map(|(_, b)| b.to_owned())
        .unwrap_or_default()
}
