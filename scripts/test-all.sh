#!/usr/bin/env bash
# All tests: the Rust unit and integration tests (the benches compile and run once), the Spark
# extension on a loopback cluster, schemathesis
# against the live server, then the web
# page in a real headless browser (Debian's chromium, installed here when missing; needs root or
# an existing /usr/bin/chromium).
set -euo pipefail
cd "$(dirname "$0")/.."
# Independent references the tests run: PROJ's cs2cs (VN-2000) and GDAL's ogr2ogr (GeoPackage),
# from Debian; installed here when missing (needs root).
if ! command -v cs2cs >/dev/null 2>&1 || ! command -v ogr2ogr >/dev/null 2>&1; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq proj-bin gdal-bin >/dev/null
fi
cargo test --locked --all-targets
# Scale-out: phuso-spark (the kernel built by maturin into a venv with PySpark) on a Spark cluster
# of a master and two workers on loopback, against phuso join (Java 17 from Debian when missing).
bash scripts/spark-setup.sh
target/spark-venv/bin/pip install -q --disable-pip-version-check "pytest>=8,<10"
PHUSO_BIN="$PWD/target/debug/phuso" target/spark-venv/bin/python -m pytest -q -p no:cacheprovider python/tests
# The API against its generated OpenAPI document (schemathesis from PyPI, every check).
bash scripts/schemathesis.sh
# The browser, and for the printed report poppler's pdftotext/pdfinfo/pdftoppm and the DejaVu
# fonts (every Vietnamese diacritic).
if ! command -v chromium >/dev/null 2>&1 || ! command -v pdftotext >/dev/null 2>&1 || ! fc-list 2>/dev/null | grep -q "DejaVu Sans"; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium poppler-utils fonts-dejavu-core >/dev/null
fi
cd tests/browser
npm ci --no-audit --no-fund --loglevel=error
PHUSO_BIN="$(cd ../.. && pwd)/target/debug/phuso" node --test
