#!/usr/bin/env bash
# The long form of the Spark tests (CI runs 1M generated points): 10M points by default, or
# PHUSO_SPARK_POINTS=N, over the national wards on the loopback cluster, against phuso join.
#   bash scripts/spark-long.sh [N]
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --locked
bash scripts/spark-setup.sh
target/spark-venv/bin/pip install -q --disable-pip-version-check "pytest>=8,<10"
PHUSO_SPARK_POINTS="${1:-${PHUSO_SPARK_POINTS:-10000000}}" PHUSO_BIN="$PWD/target/debug/phuso" \
  target/spark-venv/bin/python -m pytest -q -p no:cacheprovider python/tests
