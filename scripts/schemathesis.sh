#!/usr/bin/env bash
# The API against its own OpenAPI document: schemathesis (PyPI, pinned) generates requests from
# the document, valid and invalid, and runs every check on every answer (status codes, content
# types, headers, response schemas, valid data accepted, invalid data refused, no 5xx).
# Usage: scripts/schemathesis.sh [EXAMPLES]   (default 50 per operation; CI uses the default)
# PHUSO_BIN picks the server binary (default target/debug/phuso).
set -euo pipefail
cd "$(dirname "$0")/.."
examples="${1:-50}"
bin="${PHUSO_BIN:-target/debug/phuso}"
venv="${SCHEMATHESIS_VENV:-target/schemathesis-venv}"
if [ ! -x "$venv/bin/schemathesis" ]; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q "schemathesis==4.32.5"
fi
log="$(mktemp)"
db="$(mktemp -d)"
# A store from the bundled data and no token: reads in full, writes answer 401 (documented).
# The per-client rate is raised: schemathesis is one client asking for expensive work in a loop.
"$bin" serve --db "$db/phuso.db" --addr 127.0.0.1:0 --client-burst 100000 --client-rate 100000 >"$log" 2>&1 &
server=$!
trap 'kill $server 2>/dev/null || true; rm -rf "$log" "$db"' EXIT
addr=""
for _ in $(seq 1 600); do
  addr="$(grep -oE 'http://127\.0\.0\.1:[0-9]+' "$log" | head -1 || true)"
  [ -n "$addr" ] && curl -sf "$addr/api/health" >/dev/null 2>&1 && break
  addr=""
  sleep 0.5
done
if [ -z "$addr" ]; then
  echo "the server did not start:" >&2
  cat "$log" >&2
  exit 1
fi
# The H3 layers are computed on the first request (seconds in a debug build): once, before.
curl -sf -o /dev/null --max-time 600 "$addr/api/hexes?res=8"
"$venv/bin/schemathesis" --config-file scripts/schemathesis.toml run "$addr/api/openapi.json" \
  --checks all --max-examples "$examples" --seed 1 --request-timeout 60 --no-color
