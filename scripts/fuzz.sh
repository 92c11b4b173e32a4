#!/usr/bin/env bash
# Coverage-guided fuzzing of the readers and of what-if / plans (cargo-fuzz on nightly, libFuzzer
# with AddressSanitizer), SECONDS per target (default 120). Inputs that crash are written to
# fuzz/artifacts/; once fixed, copy them into fuzz/regressions/<target>/, which the test suite
# replays on stable (tests/it/fuzz_regressions.rs).
#   cargo install cargo-fuzz; rustup toolchain install nightly
#   bash scripts/fuzz.sh [SECONDS]
set -euo pipefail
cd "$(dirname "$0")/.."
secs="${1:-120}"
for target in readers compute; do
  mkdir -p "fuzz/corpus/$target"
  cargo +nightly fuzz run -O "$target" "fuzz/corpus/$target" "fuzz/regressions/$target" -- \
    -max_total_time="$secs" -timeout=10 -rss_limit_mb=4096 -max_len=65536
done
