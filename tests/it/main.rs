//! Integration tests, in one binary (each test file would otherwise link its own large binary).

mod aggregates;
mod api;
mod apply;
mod bad_input;
mod cli;
mod consistency;
mod crash;
mod disclosure;
mod fuzz_regressions;
mod generated;
mod hardening;
mod init;
mod join_oracle;
mod load;
mod national;
mod ogc;
mod own_files;
mod past;
mod planning;
mod reports;
mod store;
mod tiles;
mod tiny;
mod uploads;

use std::path::PathBuf;

/// `tests/fixtures/NAME`.
pub fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

/// The bundled data directory.
pub fn bundled() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("data")
}

/// A fresh temporary directory under target/ (no tempfile crate needed; removed at start).
pub fn scratch(name: &str) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Runs the `phuso` binary: (exit code, standard output, standard error).
pub fn phuso(args: &[&str]) -> (i32, String, String) {
    // The join's index cache goes under target/, not the home of whoever runs the tests.
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_phuso"))
        .args(args)
        .env(
            "PHUSO_CACHE_DIR",
            std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("phuso-cache"),
        )
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    )
}

/// The bundled data loaded once for every test that needs it.
pub fn bundled_engine() -> std::sync::Arc<phuso::Engine> {
    static ENGINE: std::sync::OnceLock<std::sync::Arc<phuso::Engine>> = std::sync::OnceLock::new();
    ENGINE
        .get_or_init(|| {
            std::sync::Arc::new(
                phuso::Engine::load(&phuso::EngineConfig::for_dir(&bundled())).unwrap(),
            )
        })
        .clone()
}
