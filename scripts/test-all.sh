#!/usr/bin/env bash
# All tests: the Rust unit and integration tests (the benches compile and run once), schemathesis
# against the live server, then the web
# page in a real headless browser (Debian's chromium, installed here when missing; needs root or
# an existing /usr/bin/chromium).
set -euo pipefail
cd "$(dirname "$0")/.."
cargo test --locked --all-targets
# The API against its generated OpenAPI document (schemathesis from PyPI, every check).
bash scripts/schemathesis.sh
if ! command -v chromium >/dev/null 2>&1; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
fi
cd tests/browser
npm ci --no-audit --no-fund --loglevel=error
PHUSO_BIN="$(cd ../.. && pwd)/target/debug/phuso" node --test
