"""``phuso-spark join``: points per area on Spark, equal to ``phuso join``'s counts file."""

from __future__ import annotations

import hashlib
import json
import sys
import time
from dataclasses import dataclass

from . import workers
from .session import stages
from ._kernel import Areas

# Rows of the per-task answer: one per non-zero count slot, and rows about the task itself (keyed
# by executor): one task, its points, and the microseconds it spent reading the areas' index (once
# per Python worker process), in the kernel's join, in Python around it, and waiting for Spark's
# next batch.
COUNT, TASKS, POINTS, INDEX_US, KERNEL_US, PYTHON_US, WAIT_US = 0, 1, 2, 3, 4, 5, 6
SCHEMA = "kind byte, key int, n long"


class InputError(Exception):
    """A problem with the user's input, said with the file, field and value."""


@dataclass
class JoinResult:
    """What a join counted, and where its tasks ran."""

    slots: list[int]
    # The stages Spark ran (tasks, wall and run seconds, shuffle bytes), when it could tell.
    stages: list[dict] | None
    tasks_per_executor: dict[int, int]
    points_per_executor: dict[int, int]
    seconds: float
    # Seconds summed over the tasks: building the index, in the kernel's join, in Python around
    # it, waiting for batches.
    task_seconds: dict[str, float]


def read_areas(path: str, id_property: str) -> Areas:
    """The validated areas of a GeoJSON file (checked here, on the driver, before any task)."""
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError as e:
        raise InputError(f"{path}: cannot read the file: {e.strerror}") from e
    try:
        return Areas.from_geojson(data, path, id_property)
    except ValueError as e:
        raise InputError(str(e)) from e


def read_points(spark, points: list[str], lon: str, lat: str, partitions: int | None):
    """The ``lon``, ``lat`` columns (as float64) of the Parquet files ``points`` (paths or globs
    in any file system Spark reads)."""
    from pyspark.errors import AnalysisException
    from pyspark.sql import functions as F

    try:
        df = spark.read.parquet(*points)
    except AnalysisException as e:
        raise InputError(f"{', '.join(points)}: cannot read the points: {e.getMessage()}") from e
    for name, what in ((lon, "longitude"), (lat, "latitude")):
        if name not in df.columns:
            raise InputError(
                f"{', '.join(points)}: no column `{name}` ({what} in degrees, WGS84); "
                f"the columns are {', '.join(df.columns) or '(none)'}"
            )
    df = df.select(F.col(lon).cast("double").alias("lon"), F.col(lat).cast("double").alias("lat"))
    if partitions:
        df = df.repartition(partitions)
    return df


def count_task(key: str, broadcast):
    """The function Spark runs per partition: the kernel's counts of every batch, summed."""

    def run(batches):
        import time

        import numpy as np
        import pyarrow as pa
        import pyarrow.compute as pc

        clock = time.perf_counter
        t = clock()
        areas = workers.areas(key, broadcast)
        index = clock() - t
        kernel = python = wait = 0.0
        total = np.zeros(len(areas) + 3, dtype=np.int64)
        points = 0
        batches = iter(batches)
        while True:
            t0 = clock()
            b = next(batches, None)
            t1 = clock()
            wait += t1 - t0
            if b is None:
                break
            xs = pc.fill_null(b.column(0), float("nan")).to_numpy(zero_copy_only=False)
            ys = pc.fill_null(b.column(1), float("nan")).to_numpy(zero_copy_only=False)
            t2 = clock()
            counts = areas.count(xs, ys)
            t3 = clock()
            total += np.asarray(counts, dtype=np.int64)
            points += b.num_rows
            kernel += t3 - t2
            python += (t2 - t1) + (clock() - t3)
        slots = np.nonzero(total)[0]
        e = workers.executor_id()
        own = [(TASKS, 1), (POINTS, points), (INDEX_US, index), (KERNEL_US, kernel), (PYTHON_US, python), (WAIT_US, wait)]
        yield pa.RecordBatch.from_pydict(
            {
                "kind": pa.array([COUNT] * len(slots) + [k for k, _ in own], pa.int8()),
                "key": pa.array(slots.tolist() + [e] * len(own), pa.int32()),
                "n": pa.array(total[slots].tolist() + [v if k < INDEX_US else round(v * 1e6) for k, v in own], pa.int64()),
            }
        )

    return run


def join(spark, areas: Areas, points) -> JoinResult:
    """Joins the points DataFrame (``lon``, ``lat``) to the areas on the cluster: the areas'
    index goes to the workers as bytes, so no worker parses or rasterises the boundaries again."""
    from pyspark.sql import functions as F

    t0 = time.monotonic()
    index = areas.to_bytes()
    key = hashlib.sha256(index).hexdigest()
    bc = spark.sparkContext.broadcast(index)
    rows = (
        points.mapInArrow(count_task(key, bc), SCHEMA)
        .groupBy("kind", "key")
        .agg(F.sum("n").alias("n"))
        .collect()
    )
    bc.unpersist()
    ran = stages(spark)
    slots = [0] * (len(areas) + 3)
    tasks: dict[int, int] = {}
    per_executor: dict[int, int] = {}
    us = {INDEX_US: 0, KERNEL_US: 0, PYTHON_US: 0, WAIT_US: 0}
    for r in rows:
        if r.kind == COUNT:
            slots[r.key] = r.n
        elif r.kind == TASKS:
            tasks[r.key] = r.n
        elif r.kind == POINTS:
            per_executor[r.key] = r.n
        else:
            us[r.kind] += r.n
    task_seconds = {
        "index": us[INDEX_US] / 1e6,
        "kernel": us[KERNEL_US] / 1e6,
        "python": us[PYTHON_US] / 1e6,
        "waiting_for_batches": us[WAIT_US] / 1e6,
    }
    return JoinResult(slots, ran, tasks, per_executor, time.monotonic() - t0, task_seconds)


def run(args) -> int:
    from .session import Unreachable, start

    areas = read_areas(args.areas, args.id_property)
    try:
        spark = start(args.master, "phuso-spark join", args.conf)
    except Unreachable as e:
        raise InputError(str(e)) from e
    try:
        points = read_points(spark, args.points, args.lon, args.lat, args.partitions)
        r = join(spark, areas, points)
    finally:
        spark.stop()
    try:
        areas.write_counts(r.slots, args.counts_out)
    except OSError as e:
        raise InputError(str(e)) from e
    n = len(areas)
    inside = sum(r.slots[:n])
    total = sum(r.slots)
    if args.summary_out:
        summary = {
            "points": total,
            "seconds": round(r.seconds, 3),
            "shuffle_bytes": sum(x["shuffle_write_bytes"] for x in r.stages) if r.stages else None,
            "stages": r.stages,
            "task_seconds": {k: round(v, 3) for k, v in r.task_seconds.items()},
            "tasks_per_executor": r.tasks_per_executor,
            "points_per_executor": r.points_per_executor,
        }
        try:
            with open(args.summary_out, "w") as f:
                json.dump(summary, f, indent=1)
        except OSError as e:
            raise InputError(f"{args.summary_out}: cannot write: {e.strerror}") from e
    print(
        f"joined {total} points to {n} areas: {inside} inside, {r.slots[n]} outside, "
        f"{r.slots[n + 1]} swapped, {r.slots[n + 2]} invalid; join on the cluster "
        f"{r.seconds:.2f}s ({total / max(r.seconds, 1e-9) / 1e6:.2f}M points/s); "
        f"tasks per executor {dict(sorted(r.tasks_per_executor.items()))}, "
        f"points per executor {dict(sorted(r.points_per_executor.items()))}",
        file=sys.stderr,
    )
    return 0
