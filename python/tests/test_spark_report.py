"""``phuso-spark report`` on a loopback cluster (a master and two one-core workers) against
``phuso report`` and ``phuso aggregate`` on one machine: the aggregates field by field and the
report byte for byte, on the bundled campaign (1.6M visits, files of different sizes, one
empty, repartitioned) and on the hand-counted tiny campaign (every kind of bad row, a repeated
visit id, a visit after the window, text ids and timestamps)."""

from __future__ import annotations

import csv
import json

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from conftest import ROOT, phuso_bin, phuso_spark, run

BUNDLED = ROOT / "data"
TINY = ROOT / "tests" / "fixtures" / "tiny"
VISITS = BUNDLED / "synthetic" / "visits.parquet"


def single(data, level, tmp_path) -> tuple[str, dict]:
    """``phuso report --format json`` and ``phuso aggregate`` of a data directory."""
    p = run([phuso_bin(), "report", "--data", data, "--level", level, "--format", "json"])
    assert p.returncode == 0, p.stderr[-3000:]
    agg = tmp_path / f"single-{level}.json"
    q = run([phuso_bin(), "aggregate", "--data", data, "--out", agg])
    assert q.returncode == 0, q.stderr[-3000:]
    return p.stdout, json.loads(agg.read_text())


def spark_report(url, data, visits, tmp_path, level, *extra) -> tuple[str, dict, dict]:
    out, agg, summary = tmp_path / "r.json", tmp_path / "a.json", tmp_path / "s.json"
    p = run([phuso_spark(), "report", "--master", url, "--data", data, "--visits", *visits, "--out", out,
             "--level", level, "--aggregates-out", agg, "--summary-out", summary, "--phuso", phuso_bin(), *extra])
    assert p.returncode == 0, p.stderr[-4000:]
    return out.read_text(), json.loads(agg.read_text()), json.loads(summary.read_text())


def same_aggregates(got: dict, want: dict) -> None:
    """Every field equal; the lists as sets of entries (their order is not part of the format)
    but with no entry twice. The examples name rows in each tool's words, so only their number is
    compared."""
    assert set(got) == set(want)
    for k in want:
        if k == "examples":
            assert len(got[k]) == len(want[k]), (got[k], want[k])
        elif isinstance(want[k], list):
            g = sorted(map(tuple, got[k]))
            assert len(set(g)) == len(g), k
            assert g == sorted(map(tuple, want[k])), k
        else:
            assert got[k] == want[k], k


def test_bundled_campaign_equals_phuso_report(cluster, tmp_path):
    """The 1.6M bundled visits in files of 0, 1, 100,000 rows and the rest (uint64 ids, which
    Spark reads as decimals; millisecond timestamps without a zone), repartitioned into 13."""
    url, _ = cluster
    want_report, want = single(BUNDLED, "ward", tmp_path)
    assert want["rows_accepted"] > 1_500_000 and want["outside"] > 0 and len(want["cells"]) > 1000
    table = pq.read_table(VISITS)
    parts = tmp_path / "parts"
    parts.mkdir()
    a = 0
    for j, size in enumerate([0, 1, 100_000, table.num_rows]):
        b = min(a + size, table.num_rows)
        pq.write_table(table.slice(a, b - a), parts / f"part-{j}.parquet", row_group_size=200_000)
        a = b
    got_report, got, s = spark_report(url, BUNDLED, [str(parts / "*.parquet")], tmp_path, "ward", "--partitions", "13",
                                        "--conf", "spark.sql.shuffle.partitions=16")
    same_aggregates(got, want)
    assert got_report == want_report
    rows = s["rows_per_executor"]
    assert set(rows) == {"0", "1"} and all(v > 0 for v in rows.values()), s
    assert sum(rows.values()) == table.num_rows
    # The other levels from the cluster's aggregates, through phuso report --aggregates.
    for level in ("province", "district", "neighbourhood"):
        direct = run([phuso_bin(), "report", "--data", BUNDLED, "--level", level, "--format", "json"])
        via = run([phuso_bin(), "report", "--data", BUNDLED, "--level", level, "--format", "json",
                   "--aggregates", tmp_path / "a.json"])
        assert direct.returncode == via.returncode == 0, direct.stderr + via.stderr
        assert via.stdout == direct.stdout, level


def test_tiny_campaign_with_every_bad_row_equals_phuso_report(cluster, tmp_path):
    """tests/fixtures/tiny's 14 rows as text columns in Parquet over 4 partitions: the same rows
    left out for the same reasons (swapped, unknown team, bad timestamp, unknown service, the
    repeated visit id 4, a visit after the window), the same figures."""
    url, _ = cluster
    with open(TINY / "synthetic" / "visits.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    text = tmp_path / "tiny.parquet"
    pq.write_table(pa.table({k: pa.array([r[k] for r in rows], pa.string()) for k in rows[0]}), text)
    # The data directory with the visits as CSV, as phuso reads them.
    want_report, want = single(TINY, "neighbourhood", tmp_path)
    got_report, got, _ = spark_report(url, TINY, [str(text)], tmp_path, "neighbourhood", "--partitions", "4",
                                      "--conf", "spark.sql.shuffle.partitions=4")
    same_aggregates(got, want)
    assert got_report == want_report
    for level in ("province", "ward"):
        direct = run([phuso_bin(), "report", "--data", TINY, "--level", level, "--format", "json"])
        via = run([phuso_bin(), "report", "--data", TINY, "--level", level, "--format", "json",
                   "--aggregates", tmp_path / "a.json"])
        assert direct.returncode == via.returncode == 0, direct.stderr + via.stderr
        assert via.stdout == direct.stdout, level
    assert got["rows_read"] == 14 and got["rows_accepted"] == 8 and got["outside"] == 1
    assert got["rejected"] == {
        "bad timestamp": 1, "duplicate visit id": 1, "lat/lon swapped": 1,
        "outside campaign window": 1, "unknown service": 1, "unknown team": 1,
    }
    said = "\n".join(got["examples"])
    for part in ("row 9: column `team_id`: value 'T9'", "row 11: column `ts`: value 'yesterday'",
                 "row 12: column `service`: value 'selfie'", "row 13: column `visit_id`: the same id",
                 "row 14: column `ts`: date 2025-12-03"):
        assert part in said, said


@pytest.mark.parametrize(
    "change,message",
    [
        ("drop service", "no column `service`"),
        ("no phuso", "no phuso binary"),
        ("bad data", "no such folder"),
    ],
)
def test_bad_input_exits_2_naming_it(cluster, tmp_path, change, message):
    url, _ = cluster
    visits = tmp_path / "v.parquet"
    table = pa.table({"visit_id": ["1"], "team_id": ["T1"], "lon": [106.002], "lat": [11.002],
                      "ts": ["2025-10-01T08:00:00+07:00"], "household_id": ["h1"], "service": ["vneid_install"]})
    if change == "drop service":
        table = table.drop(["service"])
    pq.write_table(table, visits)
    args = {"--master": url, "--data": str(TINY), "--visits": str(visits), "--out": str(tmp_path / "r.json"),
            "--phuso": str(phuso_bin())}
    if change == "no phuso":
        args["--phuso"] = str(tmp_path / "nowhere")
    if change == "bad data":
        args["--data"] = str(tmp_path / "nodata")
    p = run([phuso_spark(), "report", *[x for kv in args.items() for x in kv]])
    assert p.returncode == 2, p.stderr[-3000:]
    assert message in p.stderr, p.stderr[-3000:]
    assert not (tmp_path / "r.json").exists()
