"""The Spark session of a ``phuso-spark`` command."""

from __future__ import annotations

import os
import sys

LOOPBACK = ("local", "spark://127.0.0.1:", "spark://localhost:")


def is_loopback(master: str) -> bool:
    """True for ``local[...]`` or a standalone master on this machine's loopback address."""
    return master.startswith(LOOPBACK)


def start(master: str, app: str, conf: list[tuple[str, str]]):
    """A session on ``master``. On loopback the driver binds to 127.0.0.1 and the workers run
    this interpreter (the one with the extension); elsewhere those stay the cluster's own
    settings. The web UI is off unless ``conf`` turns it on; the kernel's thread pool takes the
    task's cores (``spark.task.cpus``, 1 by default) so a worker core runs one thread."""
    from pyspark.sql import SparkSession

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
