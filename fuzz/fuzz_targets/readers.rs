//! Every reader of files and queries: the first byte picks one (`phuso::fuzzing::Input`).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    phuso::fuzzing::read_selected(data);
});
