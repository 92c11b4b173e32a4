//! Replays every input the fuzzers kept (`fuzz/regressions/{readers,compute}/`: crashes found
//! and fixed, and seeds that reach deep): none may panic. The fuzzing itself is
//! `bash scripts/fuzz.sh` (cargo-fuzz, nightly).

use std::path::PathBuf;

fn inputs(target: &str) -> Vec<(PathBuf, Vec<u8>)> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("fuzz/regressions")
        .join(target);
    let mut out: Vec<(PathBuf, Vec<u8>)> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_file() && p.file_name().is_some_and(|n| n != "README.md"))
        .map(|p| {
            let b = std::fs::read(&p).unwrap();
            (p, b)
        })
        .collect();
    out.sort();
    out
}

#[test]
fn kept_fuzz_inputs_for_the_readers_do_not_panic() {
    let all = inputs("readers");
    assert!(!all.is_empty(), "no regression inputs kept");
    for (path, bytes) in all {
        let r = std::panic::catch_unwind(|| phuso::fuzzing::read_selected(&bytes));
        assert!(r.is_ok(), "{} panicked", path.display());
    }
}

#[test]
fn kept_fuzz_inputs_for_what_if_and_plans_do_not_panic() {
    let engine =
        phuso::Engine::load(&phuso::EngineConfig::for_dir(&crate::fixture("tiny"))).unwrap();
    let all = inputs("compute");
    assert!(!all.is_empty(), "no regression inputs kept");
    for (path, bytes) in all {
        let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            phuso::fuzzing::compute(&engine, &bytes);
        }));
        assert!(r.is_ok(), "{} panicked", path.display());
    }
}
