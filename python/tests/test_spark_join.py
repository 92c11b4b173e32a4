"""``phuso-spark join`` on a loopback cluster (a master and two one-core workers) against
``phuso join`` on one machine: equal counts files, byte for byte, whatever the partitions.

PHUSO_SPARK_POINTS sets the number of generated points (default 1,000,000; the long form in
scripts/spark-long.sh runs more)."""

from __future__ import annotations

import json
import os

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from conftest import ROOT, phuso_bin, phuso_spark, run

NATIONAL = ROOT / "data" / "national" / "vietnam_wards_2025.geojson"
CASES = ROOT / "tests" / "fixtures" / "join_cases.geojson"
NEIGHBOURHOODS = ROOT / "data" / "synthetic" / "neighbourhoods.geojson"
VISITS = ROOT / "data" / "synthetic" / "visits.parquet"


def vertices(path) -> np.ndarray:
    """Every vertex of every ring of a GeoJSON file, as (lon, lat) rows."""
    out = []
    for f in json.loads(path.read_text())["features"]:
        g = f["geometry"]
        polys = [g["coordinates"]] if g["type"] == "Polygon" else g["coordinates"]
        for poly in polys:
            for ring in poly:
                out.extend(ring)
    return np.asarray(out, dtype=np.float64)


def generated_points(n: int, seed: int = 14) -> tuple[np.ndarray, np.ndarray]:
    """n points over Vietnam with every kind the counts file has: clustered in wards, uniform over
    the box (sea and neighbours included: outside), exactly on ward vertices (shared borders: the
    border rule), on edge midpoints, swapped, missing (null in the file), NaN and out of range."""
    rng = np.random.default_rng(seed)
    v = vertices(NATIONAL)
    k = {"uniform": n * 30 // 100, "vertex": n * 15 // 100, "mid": n * 10 // 100, "swap": n * 5 // 100,
         "nan": n // 100, "range": n // 100, "null": n // 100}
    k["cluster"] = n - sum(k.values())
    parts = []
    centres = v[rng.integers(0, len(v), 2000)]
    c = centres[rng.integers(0, len(centres), k["cluster"])]
    parts.append(c + rng.normal(0, 0.02, c.shape))
    parts.append(np.column_stack([rng.uniform(102.0, 110.0, k["uniform"]), rng.uniform(8.0, 23.5, k["uniform"])]))
    parts.append(v[rng.integers(0, len(v), k["vertex"])])
    i = rng.integers(0, len(v) - 1, k["mid"])
    parts.append((v[i] + v[i + 1]) / 2)
    s = v[rng.integers(0, len(v), k["swap"])] + rng.normal(0, 0.001, (k["swap"], 2))
    parts.append(s[:, ::-1])
    parts.append(np.column_stack([np.full(k["nan"], np.nan), rng.uniform(8, 23, k["nan"])]))
    parts.append(np.column_stack([rng.uniform(181, 400, k["range"]), rng.uniform(-100, 100, k["range"])]))
    parts.append(np.full((k["null"], 2), -1.0))  # made null below
    pts = np.concatenate(parts)
    null = np.zeros(len(pts), dtype=bool)
    null[-k["null"]:] = True
    order = rng.permutation(len(pts))
    return pts[order], null[order]


def write_points(pts: np.ndarray, null: np.ndarray, single, parts_dir, sizes) -> None:
    """The points as one Parquet file (for phuso join) and as files of the given sizes (the
    last takes the rest; a size of 0 writes an empty file) for Spark."""
    def table(a, b):
        m = null[a:b]
        lon = pa.array(pts[a:b, 0], mask=m)
        lat = pa.array(pts[a:b, 1], mask=m)
        return pa.table({"id": pa.array(np.arange(a, b, dtype=np.int64)), "lon": lon, "lat": lat})

    pq.write_table(table(0, len(pts)), single)
    parts_dir.mkdir()
    a = 0
    for j, size in enumerate(sizes + [len(pts)]):
        b = min(a + size, len(pts)) if j < len(sizes) else len(pts)
        pq.write_table(table(a, b), parts_dir / f"part-{j:02}.parquet", row_group_size=50_000)
        a = b


def spark_join(url, areas, points, counts, *extra) -> tuple[str, dict]:
    summary = counts.with_suffix(".json")
    p = run([phuso_spark(), "join", "--master", url, "--areas", areas, "--points", *points,
             "--counts-out", counts, "--summary-out", summary, *extra])
    assert p.returncode == 0, p.stderr[-4000:]
    return counts.read_text(), json.loads(summary.read_text())


def single_join(areas, points, counts) -> str:
    p = run([phuso_bin(), "join", "--areas", areas, "--points", points, "--counts-out", counts])
    assert p.returncode == 0, p.stderr[-4000:]
    return counts.read_text()


def test_hand_cases_with_empty_partitions(cluster, tmp_path):
    """The six points of tests/it/cli.rs spread over 8 partitions (so some are empty): the
    counts by hand."""
    url, _ = cluster
    pts = tmp_path / "p.parquet"
    pq.write_table(pa.table({"lon": [0.5, 1.0, 1.5, 5.5, 999.0, 1.25], "lat": [0.5, 0.5, 0.5, 5.5, 0.0, 0.25]}), pts)
    got, s = spark_join(url, CASES, [pts], tmp_path / "c.csv", "--partitions", "8")
    assert got == (
        "code,name,count\nA,A,2\nB,B,1\nC,C,1\n_outside,in no area,1\n"
        "_swapped,in no area; inside one with lon and lat swapped,0\n"
        "_invalid,not a number or out of range,1\n"
    )
    assert sum(s["tasks_per_executor"].values()) >= 8
    assert s["points"] == 6


def test_national_wards_equal_phuso_join(cluster, tmp_path):
    """Generated points over the 3,321 national wards, read from files of different sizes (one
    empty, one of one row), split into many partitions, then repartitioned: each run's counts
    file equals phuso join's; both workers ran tasks."""
    url, _ = cluster
    n = int(os.environ.get("PHUSO_SPARK_POINTS", "1000000"))
    pts, null = generated_points(n)
    single, parts = tmp_path / "all.parquet", tmp_path / "parts"
    write_points(pts, null, single, parts, [0, 1, n // 7, n // 3])
    want = single_join(NATIONAL, single, tmp_path / "single.csv")
    rows = want.splitlines()
    assert len(rows) == 1 + 3321 + 3
    extra = dict(r.split(",")[0::2] for r in rows[-3:])
    # Every kind of point is there, so the comparison covers every rule.
    assert all(int(extra[k]) > n // 200 for k in ("_outside", "_swapped", "_invalid")), extra
    inside = sum(int(r.rsplit(",", 1)[1]) for r in rows[1:-3])
    assert inside > n // 2

    got, s = spark_join(url, NATIONAL, [str(parts / "*.parquet")], tmp_path / "spark.csv",
                        "--conf", "spark.sql.files.maxPartitionBytes=1m",
                        "--conf", "spark.sql.execution.arrow.maxRecordsPerBatch=20000")
    assert got == want
    assert s["points"] == n
    assert set(s["tasks_per_executor"]) == {"0", "1"}, s
    assert all(v > 0 for v in s["points_per_executor"].values()), s

    got, s = spark_join(url, NATIONAL, [str(parts)], tmp_path / "spark2.csv", "--partitions", "13")
    assert got == want
    assert sum(s["tasks_per_executor"].values()) >= 13


def test_bundled_visits_equal_phuso_join(cluster, tmp_path):
    """The bundled campaign's 1.6M visits over its 586 neighbourhoods."""
    url, _ = cluster
    want = single_join(NEIGHBOURHOODS, VISITS, tmp_path / "single.csv")
    got, s = spark_join(url, NEIGHBOURHOODS, [VISITS], tmp_path / "spark.csv",
                        "--conf", "spark.sql.files.maxPartitionBytes=4m")
    assert got == want
    assert s["points"] == 1_600_000
    assert len(s["tasks_per_executor"]) == 2, s


@pytest.mark.parametrize(
    "args,message",
    [
        (["--lon", "x"], "no column `x` (longitude in degrees, WGS84); the columns are lon, lat"),
        (["--areas", "/nonexistent.geojson"], "/nonexistent.geojson: cannot read the file"),
        (["--partitions", "0"], "--partitions 0: expected 1 or more"),
    ],
)
def test_bad_input_exits_2_naming_it(cluster, tmp_path, args, message):
    url, _ = cluster
    pts = tmp_path / "p.parquet"
    pq.write_table(pa.table({"lon": [0.5], "lat": [0.5]}), pts)
    base = {"--master": url, "--areas": str(CASES), "--points": str(pts), "--counts-out": str(tmp_path / "c.csv")}
    for k, v in zip(args[::2], args[1::2]):
        base[k] = v
    p = run([phuso_spark(), "join", *[x for kv in base.items() for x in kv]])
    assert p.returncode == 2, p.stderr[-3000:]
    assert message in p.stderr, p.stderr[-3000:]
    assert not (tmp_path / "c.csv").exists()


def test_a_master_nobody_answers_is_named_at_once(tmp_path):
    """No cluster needed: a closed port on loopback answers at once, and the command says so
    instead of retrying for a minute."""
    import socket
    import time

    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    pts = tmp_path / "p.parquet"
    pq.write_table(pa.table({"lon": [0.5], "lat": [0.5]}), pts)
    t = time.monotonic()
    p = run([phuso_spark(), "join", "--master", f"spark://127.0.0.1:{port}", "--areas", CASES,
             "--points", pts, "--counts-out", tmp_path / "c.csv"])
    assert p.returncode == 2, p.stderr[-3000:]
    assert f"--master spark://127.0.0.1:{port}: no Spark master answers (127.0.0.1:{port}: Connection refused)" in p.stderr
    assert time.monotonic() - t < 30
    p = run([phuso_spark(), "join", "--master", "spark://nowhere", "--areas", CASES,
             "--points", pts, "--counts-out", tmp_path / "c.csv"])
    assert p.returncode == 2 and "expected spark://HOST:PORT, found 'nowhere'" in p.stderr, p.stderr[-3000:]
