#!/usr/bin/env bash
# The crash test's long form: KILLS (default 200) SIGKILLs of `phuso serve` while batches are
# posted; CI runs 20 (tests/it/crash.rs). Usage: bash scripts/crash-test.sh [KILLS]
set -euo pipefail
cd "$(dirname "$0")/.."
PHUSO_CRASH_KILLS="${1:-200}" cargo test --locked --test it crash:: -- --nocapture
