"""Fixtures of the Spark tests: the project's paths, the phuso binary, a loopback cluster."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def phuso_bin() -> Path:
    """The single-node binary the Spark answers are compared with (PHUSO_BIN, else the debug
    build)."""
    p = Path(os.environ.get("PHUSO_BIN", ROOT / "target" / "debug" / "phuso"))
    if not p.exists():
        pytest.fail(f"{p}: no phuso binary: build it with cargo build first")
    return p


def phuso_spark() -> Path:
    """The console script of the installed package, beside this interpreter."""
    return Path(sys.executable).parent / "phuso-spark"


def run(args: list, **kw) -> subprocess.CompletedProcess:
    # phuso join's index cache goes under target/, not the home of whoever runs the tests.
    kw.setdefault("env", dict(os.environ, PHUSO_CACHE_DIR=str(ROOT / "target" / "phuso-cache")))
    return subprocess.run([str(a) for a in args], capture_output=True, text=True, **kw)


@pytest.fixture(scope="session")
def cluster(tmp_path_factory):
    """A master and two one-core workers on 127.0.0.1 (scripts/spark-cluster.sh), stopped after
    the session; yields the master URL and the cluster's directory."""
    d = tmp_path_factory.mktemp("cluster")
    env = dict(os.environ, PHUSO_SPARK_CLUSTER_DIR=str(d), PHUSO_SPARK_VENV=str(Path(sys.executable).parents[1]))
    script = ROOT / "scripts" / "spark-cluster.sh"
    p = run(["bash", script, "start"], env=env)
    assert p.returncode == 0, p.stderr
    url = p.stdout.strip().splitlines()[-1]
    assert url.startswith("spark://127.0.0.1:"), p.stdout
    try:
        yield url, d
    finally:
        run(["bash", script, "stop"], env=env)
