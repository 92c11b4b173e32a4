#!/usr/bin/env bash
# Scale-out, step 1: a Python venv with PySpark (its jars bundled) and phuso-spark, the Python
# package whose extension is Phủ Số's kernel built by maturin (release, abi3). Java 17 from
# Debian when missing (needs root). Idempotent: a second run only rebuilds the extension.
#   bash scripts/spark-setup.sh            # venv in target/spark-venv (PHUSO_SPARK_VENV to move it)
set -euo pipefail
cd "$(dirname "$0")/.."
VENV="${PHUSO_SPARK_VENV:-$PWD/target/spark-venv}"
if ! command -v java >/dev/null 2>&1; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq openjdk-17-jre-headless >/dev/null
fi
if [ ! -x "$VENV/bin/python" ]; then
  python3 -m venv "$VENV"
fi
# Spark 4.1 below 4.2 (the range Apache Sedona accepts); pyarrow and pandas, which mapInArrow
# requires; maturin builds the extension.
"$VENV/bin/pip" install -q --disable-pip-version-check "pyspark>=4.1,<4.2" "pyarrow>=15" "pandas>=2.2" "numpy>=1.26" "maturin>=1.9,<2"
rm -f target/wheels/phuso_spark-*.whl
"$VENV/bin/maturin" build --release --quiet -m python/Cargo.toml --out target/wheels -i "$VENV/bin/python"
"$VENV/bin/pip" install -q --disable-pip-version-check --force-reinstall --no-deps target/wheels/phuso_spark-*.whl
echo "phuso-spark: $VENV/bin/phuso-spark"
