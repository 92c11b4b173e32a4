"""The Spark session of a ``phuso-spark`` command."""

from __future__ import annotations

import os
import socket
import sys

LOOPBACK = ("local", "spark://127.0.0.1:", "spark://localhost:")


def is_loopback(master: str) -> bool:
    """True for ``local[...]`` or a standalone master on this machine's loopback address."""
    return master.startswith(LOOPBACK)


class Unreachable(Exception):
    """No master of a ``spark://`` URL answers."""


def check_master(master: str, timeout: float = 5.0) -> None:
    """Fails at once, naming the address, when no master of a ``spark://host:port[,host:port]``
    URL accepts a connection (Spark itself would retry for a minute, then print a Java trace).
    Other masters (``local``, ``yarn``, ``k8s://…``) are left to Spark."""
    if not master.startswith("spark://"):
        return
    problems = []
    for hostport in master[len("spark://"):].split(","):
        host, sep, port = hostport.rpartition(":")
        if not sep or not port.isdigit():
            raise Unreachable(f"--master {master}: expected spark://HOST:PORT, found {hostport!r}")
        try:
            with socket.create_connection((host.strip("[]"), int(port)), timeout=timeout):
                return
        except OSError as e:
            problems.append(f"{host}:{port}: {e.strerror or e}")
    raise Unreachable(f"--master {master}: no Spark master answers ({'; '.join(problems)})")


def start(master: str, app: str, conf: list[tuple[str, str]]):
    """A session on ``master``. On loopback the driver binds to 127.0.0.1 and the workers run
    this interpreter (the one with the extension); elsewhere those stay the cluster's own
    settings. The web UI is off unless ``conf`` turns it on; the kernel's thread pool takes the
    task's cores (``spark.task.cpus``, 1 by default) so a worker core runs one thread."""
    from pyspark.sql import SparkSession

    check_master(master)
    b = SparkSession.builder.master(master).appName(app)
    settings = {
        "spark.ui.enabled": "false",
        "spark.ui.showConsoleProgress": "false",
        "spark.executorEnv.RAYON_NUM_THREADS": "1",
        "spark.sql.execution.arrow.maxRecordsPerBatch": "65536",
    }
    if is_loopback(master):
        os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
        # PySpark takes the workers' interpreter from this variable when the context starts.
        os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
        settings.update({"spark.driver.bindAddress": "127.0.0.1", "spark.driver.host": "127.0.0.1"})
    settings.update(dict(conf))
    if "spark.task.cpus" in settings:
        settings.setdefault("spark.executorEnv.RAYON_NUM_THREADS", settings["spark.task.cpus"])
    for k, v in settings.items():
        b = b.config(k, v)
    spark = b.getOrCreate()
    spark.sparkContext.setLogLevel("ERROR")
    return spark


def stages(spark) -> list[dict] | None:
    """The stages this application ran, from the driver's status store (Spark's own bookkeeping,
    kept with the web UI off): tasks, wall seconds from submission to completion, the tasks' run
    seconds summed, and bytes written to the shuffle. An internal interface of Spark, so any
    failure gives None rather than an error: a measurement is never a reason to fail the job."""
    try:
        gw = spark.sparkContext._gateway
        store = spark.sparkContext._jsc.sc().statusStore()
        it = store.stageList(None, False, False, gw.new_array(gw.jvm.double, 0), None).iterator()
        out = []
        while it.hasNext():
            d = it.next()
            sub, done = d.submissionTime(), d.completionTime()
            wall = None
            if sub.isDefined() and done.isDefined():
                wall = (done.get().getTime() - sub.get().getTime()) / 1000
            out.append(
                {
                    "stage": int(d.stageId()),
                    "tasks": int(d.numCompleteTasks()),
                    "wall_seconds": wall,
                    "task_run_seconds": int(d.executorRunTime()) / 1000,
                    "shuffle_write_bytes": int(d.shuffleWriteBytes()),
                }
            )
        return sorted(out, key=lambda x: x["stage"])
    except Exception:  # noqa: BLE001
        return None
