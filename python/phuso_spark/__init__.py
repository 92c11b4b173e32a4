"""Phủ Số on Apache Spark.

The exact point-in-area join (``phuso-spark join``) runs Phủ Số's own compiled kernel
(``phuso_spark._kernel``, the Rust crate ``phuso-kernel`` built with PyO3) in Spark's Python
workers, one Arrow batch at a time, and writes the same counts file as ``phuso join``.
"""

from ._kernel import Areas

__all__ = ["Areas"]
