"""What runs in Spark's Python workers: the areas built once per worker process, and which
executor a task ran on."""

from __future__ import annotations

import os

# What a Python worker process built from a broadcast (Spark reuses its workers across tasks):
# one object, under the broadcast's key.
_KEPT: dict[str, object] = {}


def _kept(key: str, build):
    """The object kept under ``key``, built by ``build()`` on first use (replacing any other)."""
    v = _KEPT.get(key)
    if v is None:
        v = build()
        _KEPT.clear()
        _KEPT[key] = v
    return v


def areas(key: str, broadcast):
    """The ``Areas`` of a broadcast index (``Areas.to_bytes()`` on the driver), read once per
    Python worker process and kept under ``key``."""
    from ._kernel import Areas

    return _kept(key, lambda: Areas.from_bytes(broadcast.value))


def campaign(key: str, broadcast, setup: dict):
    """The ``Campaign`` of a broadcast pair of indexes (leaves, then wards, each after its length
    in 8 bytes), built once per Python worker process and kept under ``key``."""
    from ._kernel import Campaign

    def build():
        data = broadcast.value
        parts = []
        at = 0
        for _ in range(2):
            n = int.from_bytes(data[at : at + 8], "little")
            parts.append(data[at + 8 : at + 8 + n] if n else None)
            at += 8 + n
        return Campaign(parts[0], parts[1], tuple(setup["extent"]), setup["start_day"], setup["hex_resolution"])

    return _kept(key, build)


def rejection_kinds() -> list[tuple[int, str]]:
    """The kinds rows are left out under, by the kernel's code."""
    from ._kernel import rejection_kinds as kinds

    return kinds()


def executor_id() -> int:
    """The executor this task runs in: a standalone worker starts each executor in
    ``<work dir>/<application>/<executor id>``; -1 when that is not the case (local mode)."""
    name = os.path.basename(os.getcwd())
    return int(name) if name.isdigit() else -1
