"""What runs in Spark's Python workers: the areas built once per worker process, and which
executor a task ran on."""

from __future__ import annotations

import os

_AREAS: dict[str, object] = {}


def areas(key: str, broadcast):
    """The ``Areas`` of a broadcast index (``Areas.to_bytes()`` on the driver), read once per
    Python worker process (Spark reuses its workers across tasks) and kept under ``key``."""
    a = _AREAS.get(key)
    if a is None:
        from ._kernel import Areas

        a = Areas.from_bytes(broadcast.value)
        _AREAS.clear()
        _AREAS[key] = a
    return a


def executor_id() -> int:
    """The executor this task runs in: a standalone worker starts each executor in
    ``<work dir>/<application>/<executor id>``; -1 when that is not the case (local mode)."""
    name = os.path.basename(os.getcwd())
    return int(name) if name.isdigit() else -1
