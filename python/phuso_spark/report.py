"""``phuso-spark report``: the campaign's visits aggregated on Spark with integer arithmetic only,
then every figure computed on the driver by ``phuso report --aggregates`` (the same Rust code
as a single-node report).

1. ``phuso campaign-index`` writes the campaign's join (the areas that receive visits, the
   wards for the parts no neighbourhood covers) and what a row is checked with; the driver
   broadcasts it.
2. Each task checks and locates its rows with the kernel (``_kernel.Campaign.check``: the
   engine's row checks in its order, its join, its H3 cells).
3. Spark leaves out repeated visit ids (the first row in file path, then row order stays, as
   ``phuso`` keeps the first row of its file) and visits outside the campaign window, then sums:
   visits per area, day and service; each household's first visit (earliest time, then smallest
   id) and its area; per household and service the first day; visits and distinct households
   per H3 cell; the last day; the visits in no area; the rows left out per kind.
4. The driver writes the aggregates file (``phuso aggregate`` writes the same on one machine)
   and runs ``phuso report --aggregates`` on it.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

from . import workers
from .join import InputError
from .session import stages

FORMAT = "phuso-aggregates/1"
COLUMNS = ("visit_id", "team_id", "lon", "lat", "ts", "household_id", "service")
# Problems listed in the aggregates (as many as phuso lists).
EXAMPLES = 10
VN_OFFSET_MS = 7 * 3_600_000
# The per-row answer of a task: the row's place in its file, its verdict (0 kept, else the
# kernel's rejection code), where it goes and what it is counted by; an example message for a
# row left out; the executor that checked it.
ROW_SCHEMA = (
    "file string, row long, verdict byte, area int, day long, service byte, household long, "
    "visit_order long, ts long, cell long, example string, executor int"
)
DUPLICATE, OUTSIDE_WINDOW = 8, 9


def find_phuso(given: str | None) -> str:
    """The phuso binary: --phuso, else PHUSO_BIN, else `phuso` on PATH."""
    p = given or os.environ.get("PHUSO_BIN") or shutil.which("phuso")
    if not p or not os.path.exists(p):
        raise InputError(
            f"{given or os.environ.get('PHUSO_BIN') or 'phuso'}: no phuso binary; the driver needs it "
            "for the campaign's join and the figures (--phuso PATH, PHUSO_BIN, or phuso on PATH)"
        )
    return p


def phuso(binary: str, *args: str) -> None:
    """Runs phuso; its own message when it refuses (it names the file, field and value)."""
    p = subprocess.run([binary, *args], capture_output=True, text=True)
    if p.returncode != 0:
        raise InputError(p.stderr.strip() or f"phuso {args[0]} failed with exit code {p.returncode}")


def _signed(a):
    """uint64 values as int64 with the same bits (Spark has no unsigned type)."""
    return a.view("int64")


def _ids(col, what: str):
    """The keys of an id column (integers as themselves, text by the kernel's key) and where
    they are valid, as numpy uint64 / uint8."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    from ._kernel import id_keys

    t = col.type
    if pa.types.is_integer(t):
        # Negative ids are no ids (phuso casts to unsigned and finds none).
        ok = pc.fill_null(pc.greater_equal(col, 0), False)
        vals = pc.cast(pc.if_else(ok, col, pa.scalar(0, t)), pa.uint64())
        return vals.to_numpy(zero_copy_only=False), ok.to_numpy(zero_copy_only=False).astype(np.uint8)
    if pa.types.is_decimal(t) or pa.types.is_string(t) or pa.types.is_large_string(t):
        # Spark reads Parquet's unsigned 64-bit integers as decimal(20,0): their digits are the
        # number, which the kernel's key keeps.
        text = pc.cast(col, pa.string())
        if pa.types.is_decimal(t):
            text = pc.if_else(pc.starts_with(text, "-"), pa.scalar(None, pa.string()), text)
        keys, valid = id_keys(text.to_pylist())
        return np.frombuffer(keys, "<u8"), np.frombuffer(valid, "u1")
    raise ValueError(f"column `{what}` has type {t}; expected integers or text")


def _timestamps(col):
    """Asia/Ho_Chi_Minh wall-clock milliseconds and validity: a timestamp without a time zone is
    wall time there, with one an instant (as phuso reads Parquet); text is parsed by the kernel."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    from ._kernel import timestamps

    t = col.type
    if pa.types.is_timestamp(t):
        per_ms = {"s": None, "ms": 1, "us": 1_000, "ns": 1_000_000}[t.unit]
        raw = pc.fill_null(col.cast(pa.int64()), 0).to_numpy(zero_copy_only=False)
        ms = raw * 1000 if per_ms is None else np.floor_divide(raw, per_ms)
        if t.tz is not None:
            ms = ms + VN_OFFSET_MS
        return ms.astype(np.int64), pc.is_valid(col).to_numpy(zero_copy_only=False).astype(np.uint8)
    if pa.types.is_string(t) or pa.types.is_large_string(t):
        vals, valid = timestamps(col.to_pylist())
        return np.frombuffer(vals, "<i8"), np.frombuffer(valid, "u1")
    raise ValueError(f"column `ts` has type {t}; expected a timestamp or RFC 3339 text")


def check_task(key: str, broadcast, setup: dict):
    """The function Spark runs per partition: each row checked and located by the kernel."""

    def run(batches):
        import numpy as np
        import pyarrow as pa
        import pyarrow.compute as pc

        from ._kernel import SERVICES

        campaign = workers.campaign(key, broadcast, setup)
        teams = pa.array(setup["teams"], pa.string())
        services = pa.array(SERVICES, pa.string())
        kinds = dict(workers.rejection_kinds())
        executor = workers.executor_id()
        for b in batches:
            n = b.num_rows
            c = {name: b.column(name) for name in b.schema.names}
            lon = pc.fill_null(c["lon"], float("nan")).to_numpy(zero_copy_only=False).astype(np.float64)
            lat = pc.fill_null(c["lat"], float("nan")).to_numpy(zero_copy_only=False).astype(np.float64)
            team_text = pc.cast(c["team_id"], pa.string())
            team = pc.fill_null(pc.is_in(team_text, value_set=teams), False).to_numpy(zero_copy_only=False).astype(np.uint8)
            ts, ts_ok = _timestamps(c["ts"])
            service_text = pc.cast(c["service"], pa.string())
            service = pc.fill_null(pc.index_in(service_text, value_set=services), -1).to_numpy(zero_copy_only=False).astype(np.int8)
            household, household_ok = _ids(c["household_id"], "household_id")
            visit, visit_ok = _ids(c["visit_id"], "visit_id")
            verdict, area, day, cell = campaign.check(
                lon, lat, team, ts, ts_ok, service, household, household_ok, visit, visit_ok
            )
            verdict = np.frombuffer(verdict, "u1")
            examples = [None] * n
            for i in np.nonzero(verdict)[0].tolist():
                examples[i] = example(kinds[int(verdict[i])], c, i, lon[i], lat[i])
            yield pa.RecordBatch.from_pydict(
                {
                    "file": c["file"],
                    "row": c["row"],
                    "verdict": pa.array(verdict.astype(np.int8)),
                    "area": pa.array(np.frombuffer(area, "<i4")),
                    "day": pa.array(np.frombuffer(day, "<i8")),
                    "service": pa.array(np.maximum(service, 0)),
                    "household": pa.array(_signed(household)),
                    # Unsigned order of the visit ids as signed numbers: flip the top bit.
                    "visit_order": pa.array(_signed(visit ^ np.uint64(1 << 63))),
                    "ts": pa.array(ts),
                    "cell": pa.array(_signed(np.frombuffer(cell, "<u8"))),
                    "example": pa.array(examples, pa.string()),
                    "executor": pa.array(np.full(n, executor, np.int32)),
                }
            )

    return run


def example(kind: str, c: dict, i: int, x: float, y: float) -> str:
    """The message of a row left out: the column and the value that were there."""
    field = {
        "bad coordinates": ("lon`,`lat", f"{x}, {y}"),
        "lat/lon swapped": ("lon`,`lat", f"{x}, {y}; far outside every area but inside with lon and lat swapped"),
        "unknown team": ("team_id", repr(c["team_id"][i].as_py())),
        "bad timestamp": ("ts", repr(c["ts"][i].as_py())),
        "unknown service": ("service", repr(c["service"][i].as_py())),
        "missing household id": ("household_id", repr(c["household_id"][i].as_py())),
        "missing visit id": ("visit_id", repr(c["visit_id"][i].as_py())),
    }[kind]
    return f"row {c['row'][i].as_py() + 1}: column `{field[0]}`: value {field[1]} ({kind})"


def read_visits(spark, visits: list[str], partitions: int | None):
    """The visit columns of Parquet files ``visits`` (paths or globs in any file system Spark
    reads), with each row's file and position in it."""
    from pyspark.errors import AnalysisException
    from pyspark.sql import functions as F

    try:
        df = spark.read.parquet(*visits)
    except AnalysisException as e:
        raise InputError(f"{', '.join(visits)}: cannot read the visits: {e.getMessage()}") from e
    missing = [c for c in COLUMNS if c not in df.columns]
    if missing:
        raise InputError(
            f"{', '.join(visits)}: no column {', '.join(f'`{m}`' for m in missing)}; a visits file has "
            f"{', '.join(COLUMNS)} (the columns are {', '.join(df.columns) or '(none)'})"
        )
    # Coordinates as numbers (text that is none becomes null: bad coordinates, as phuso says).
    df = df.select(
        *[F.col(c).cast("double").alias(c) if c in ("lon", "lat") else F.col(c) for c in COLUMNS],
        F.col("_metadata.file_path").alias("file"),
        F.col("_metadata.row_index").alias("row"),
    )
    if partitions:
        df = df.repartition(partitions)
    return df


def aggregate(spark, setup: dict, names: list[str], index: bytes, visits) -> tuple[dict, dict]:
    """The aggregates of the visits DataFrame (``read_visits``) and what ran where."""
    from pyspark import StorageLevel
    from pyspark.sql import Window
    from pyspark.sql import functions as F

    t0 = time.monotonic()
    key = hashlib.sha256(index).hexdigest()
    bc = spark.sparkContext.broadcast(index)
    rows = visits.mapInArrow(check_task(key, bc, setup), ROW_SCHEMA).persist(StorageLevel.MEMORY_AND_DISK)
    kinds = dict(workers.rejection_kinds())

    # Rows read and left out by the row checks; rows per executor (one pass).
    by_verdict: dict[int, int] = {}
    per_executor: dict[int, int] = {}
    for r in rows.groupBy("verdict", "executor").count().collect():
        by_verdict[r.verdict] = by_verdict.get(r.verdict, 0) + r["count"]
        per_executor[r.executor] = per_executor.get(r.executor, 0) + r["count"]
    rows_read = sum(by_verdict.values())
    rejected = {kinds[v]: n for v, n in by_verdict.items() if v != 0}
    examples = []
    if rejected:
        examples = [
            r.example
            for r in rows.filter("verdict != 0").orderBy("file", "row").select("example").limit(EXAMPLES).collect()
        ]

    # Repeated visit ids: the first row (file path, then row) stays.
    kept = rows.filter("verdict = 0").drop("example")
    repeated = kept.groupBy("visit_order").count().filter("count > 1").select("visit_order").persist()
    later = None
    if repeated.limit(1).count():
        w = Window.partitionBy("visit_order").orderBy("file", "row")
        later = (
            kept.join(repeated, "visit_order")
            .withColumn("k", F.row_number().over(w))
            .filter("k > 1")
            .select("file", "row")
            .persist()
        )
        rejected[kinds[DUPLICATE]] = later.count()
        for r in later.orderBy("file", "row").limit(max(0, EXAMPLES - len(examples))).collect():
            examples.append(f"row {r.row + 1}: column `visit_id`: the same id as an earlier row; the later row is left out")
        kept = kept.join(later, ["file", "row"], "left_anti")

    # The campaign window, the last day and the visits in no area (one pass).
    days = setup["days"]
    inside = F.col("day").between(0, days - 1)
    s = kept.agg(
        F.sum(F.when(inside, 1).otherwise(0)).alias("n"),
        F.sum(F.when(~inside, 1).otherwise(0)).alias("late"),
        F.max(F.when(inside, F.col("day"))).alias("last"),
        F.sum(F.when(inside & (F.col("area") < 0), 1).otherwise(0)).alias("out"),
    ).first()
    if s.late:
        rejected[kinds[OUTSIDE_WINDOW]] = s.late
        start = dt.date.fromisoformat(setup["campaign_start"])
        for r in kept.filter(~inside).orderBy("file", "row").limit(max(0, EXAMPLES - len(examples))).collect():
            when = dt.date(1970, 1, 1) + dt.timedelta(days=r.ts // 86_400_000)
            examples.append(
                f"row {r.row + 1}: column `ts`: date {when}; expected {start} to "
                f"{start + dt.timedelta(days=days - 1)} (the campaign window of norms.toml)"
            )
    v = kept.filter(inside)
    located = v.filter("area >= 0")
    per_visit = located.groupBy("area", "day", "service").count().collect()
    # Per household and service: the first day of the service and the first visit (time, id);
    # the household's first visit is the least of its services' first visits.
    per_service = (
        located.groupBy("household", "service")
        .agg(F.min("day").alias("day"), F.min(F.struct("ts", "visit_order", "area", "day")).alias("f"))
        .persist(StorageLevel.MEMORY_AND_DISK)
    )
    firsts = (
        per_service.groupBy("household")
        .agg(F.min("f").alias("f"))
        .select("household", F.col("f.area").alias("area"), F.col("f.day").alias("day"))
        .persist(StorageLevel.MEMORY_AND_DISK)
    )
    households = firsts.groupBy("area", "day").count().collect()
    funnel = (
        per_service.select("household", "service", "day")
        .join(firsts.select("household", F.col("area").alias("home")), "household")
        .groupBy("home", "day", "service")
        .count()
        .collect()
    )
    cells = (
        v.filter("cell != 0")
        .groupBy("cell")
        .agg(F.count("*").alias("visits"), F.countDistinct("household").alias("households"))
        .collect()
    )
    for d in (firsts, per_service, later, repeated, rows):
        if d is not None:
            d.unpersist()
    bc.unpersist()

    aggregates = {
        "format": FORMAT,
        "campaign_start": setup["campaign_start"],
        "days": days,
        "hex_resolution": setup["hex_resolution"],
        "rows_read": rows_read,
        "rows_accepted": int(s.n or 0),
        "rejected": dict(sorted(rejected.items())),
        "examples": examples[:EXAMPLES],
        "outside": int(s.out or 0),
        "last_day": None if s.last is None else int(s.last),
        "visits": sorted([names[r.area], r.day, r.service, r["count"]] for r in per_visit),
        "households": sorted([names[r.area], r.day, r["count"]] for r in households),
        "funnel": sorted([names[r.home], r.day, r.service, r["count"]] for r in funnel),
        "cells": sorted([format(r.cell, "x"), r.visits, r.households] for r in cells),
    }
    ran = {"seconds": round(time.monotonic() - t0, 3), "rows_per_executor": dict(sorted(per_executor.items()))}
    ran["stages"] = stages(spark)
    ran["shuffle_bytes"] = sum(x["shuffle_write_bytes"] for x in ran["stages"]) if ran["stages"] else None
    return aggregates, ran


def run(args) -> int:
    from .session import Unreachable, start

    binary = find_phuso(args.phuso)
    with tempfile.TemporaryDirectory(prefix="phuso-spark-") as tmp:
        folder = os.path.join(tmp, "campaign")
        phuso(binary, "campaign-index", "--data", args.data, "--out", folder)
        with open(os.path.join(folder, "campaign.json")) as f:
            setup = json.load(f)
        index = {}
        names = []
        for part in ("leaves", "wards"):
            if setup[part]:
                with open(os.path.join(folder, setup[part]), "rb") as f:
                    index[part] = f.read()
        from ._kernel import Areas

        for part in ("leaves", "wards"):
            if part in index:
                names.extend(code for code, _ in Areas.from_bytes(index[part]).names())
        # One broadcast: both indexes, each prefixed by its length.
        packed = b"".join(len(index.get(p, b"")).to_bytes(8, "little") + index.get(p, b"") for p in ("leaves", "wards"))
        try:
            spark = start(args.master, "phuso-spark report", args.conf)
        except Unreachable as e:
            raise InputError(str(e)) from e
        try:
            visits = read_visits(spark, args.visits, args.partitions)
            aggregates, ran = aggregate(spark, setup, names, packed, visits)
        finally:
            spark.stop()
        path = args.aggregates_out or os.path.join(tmp, "aggregates.json")
        try:
            with open(path, "w") as f:
                json.dump(aggregates, f, separators=(",", ":"))
        except OSError as e:
            raise InputError(f"{path}: cannot write: {e.strerror}") from e
        phuso(
            binary, "report", "--data", args.data, "--aggregates", path, "--level", args.level,
            "--format", "json", "--population", args.population, "--out", args.out,
        )
    print(
        f"{aggregates['rows_read']} rows read, {aggregates['rows_accepted']} kept, "
        f"{sum(aggregates['rejected'].values())} left out {aggregates['rejected']}, "
        f"{aggregates['outside']} in no area; aggregated on the cluster in {ran['seconds']:.2f}s; "
        f"rows per executor {ran['rows_per_executor']}; report written to {args.out}",
        file=sys.stderr,
    )
    if args.summary_out:
        try:
            with open(args.summary_out, "w") as f:
                json.dump(ran, f, indent=1)
        except OSError as e:
            raise InputError(f"{args.summary_out}: cannot write: {e.strerror}") from e
    return 0
