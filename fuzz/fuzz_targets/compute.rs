//! What-if bodies and plan sizes against the tiny campaign.
#![no_main]

use std::sync::OnceLock;

fn engine() -> &'static phuso::Engine {
    static ENGINE: OnceLock<phuso::Engine> = OnceLock::new();
    ENGINE.get_or_init(|| {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures/tiny");
        phuso::Engine::load(&phuso::EngineConfig::for_dir(&dir)).expect("the tiny fixture loads")
    })
}

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    phuso::fuzzing::compute(engine(), data);
});
