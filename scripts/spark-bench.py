"""Throughput of phuso-spark join on the loopback cluster with 1 and 2 workers, beside the same
kernel in one process with 1 thread (the per-core rate of the single-node engine's join).

  bash scripts/spark-setup.sh
  target/release/phuso generate --visits 10000000 --out /tmp/gen10m   # or the debug binary
  target/spark-venv/bin/python scripts/spark-bench.py /tmp/gen10m/visits.parquet [AREAS.geojson ...]

Prints one JSON line per run: workers, points, seconds of the Spark job (from its submission to
the counts on the driver; the session's start excluded), points per second and per core, the
seconds the tasks spent building the index, in the kernel, in Python and waiting for Spark's
batches, and the Spark shuffle volume of the job (bytes written by the tasks' partial sums)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_AREAS = [ROOT / "data" / "wards_2025.geojson", ROOT / "data" / "national" / "vietnam_wards_2025.geojson"]


def cluster(cmd: str, workers: int, d: Path) -> str:
    env = dict(os.environ, PHUSO_SPARK_WORKERS=str(workers), PHUSO_SPARK_CLUSTER_DIR=str(d),
               PHUSO_SPARK_VENV=str(Path(sys.executable).parents[1]))
    p = subprocess.run(["bash", ROOT / "scripts" / "spark-cluster.sh", cmd], env=env,
                       capture_output=True, text=True, check=True)
    return p.stdout.strip()


def in_process(areas_path: Path, points: Path) -> dict:
    """The kernel in this process, one thread (RAYON_NUM_THREADS=1 is set before the import)."""
    from phuso_spark import Areas

    t = pq.read_table(points, columns=["lon", "lat"])
    xs = t.column("lon").to_numpy()
    ys = t.column("lat").to_numpy()
    a = Areas.from_geojson(areas_path.read_bytes(), str(areas_path), "code")
    best = float("inf")
    for _ in range(3):
        t0 = time.perf_counter()
        a.count(xs, ys)
        best = min(best, time.perf_counter() - t0)
    return {"run": "in-process kernel, 1 thread", "areas": areas_path.name, "points": len(xs),
            "seconds": round(best, 3), "points_per_s_per_core": round(len(xs) / best)}


def main() -> None:
    points = Path(sys.argv[1])
    areas = [Path(a) for a in sys.argv[2:]] or DEFAULT_AREAS
    n = pq.ParquetFile(points).metadata.num_rows
    for a in areas:
        print(json.dumps(in_process(a, points)), flush=True)
    for workers in (1, 2):
        with tempfile.TemporaryDirectory() as tmp:
            d = Path(tmp)
            url = cluster("start", workers, d / "cluster")
            try:
                for a in areas:
                    for repeat in range(2):
                        summary = d / "s.json"
                        p = subprocess.run(
                            [Path(sys.executable).parent / "phuso-spark", "join", "--master", url,
                             "--areas", a, "--points", points, "--counts-out", d / "c.csv",
                             "--summary-out", summary, "--conf", "spark.sql.files.maxPartitionBytes=16m"],
                            capture_output=True, text=True)
                        if p.returncode != 0:
                            sys.exit(p.stderr[-3000:])
                        s = json.loads(summary.read_text())
                        print(json.dumps({
                            "run": f"spark, {workers} worker(s) of 1 core", "repeat": repeat,
                            "areas": a.name, "points": n, "seconds": s["seconds"],
                            "points_per_s": round(n / s["seconds"]),
                            "points_per_s_per_core": round(n / s["seconds"] / workers),
                            "task_seconds": s["task_seconds"],
                            # The steady rate of one core: points over the seconds the tasks spent
                            # on batches (kernel, Python, waiting for Spark), the index build and
                            # the job's start excluded.
                            "steady_points_per_s_per_core": round(n / (s["task_seconds"]["kernel"] + s["task_seconds"]["python"] + s["task_seconds"]["waiting_for_batches"])),
                            "tasks_per_executor": s["tasks_per_executor"],
                            "shuffle_bytes": s.get("shuffle_bytes"),
                        }), flush=True)
            finally:
                cluster("stop", workers, d / "cluster")


if __name__ == "__main__":
    os.environ["RAYON_NUM_THREADS"] = "1"
    main()
