"""The ``phuso-spark`` command."""

from __future__ import annotations

import argparse
import sys

from .join import InputError


def conf_pair(text: str) -> tuple[str, str]:
    key, sep, value = text.partition("=")
    if not sep or not key:
        raise argparse.ArgumentTypeError(f"expected KEY=VALUE, found {text!r}")
    return key, value


def cluster_args(p: argparse.ArgumentParser, rows: str) -> None:
    """The options every command has: the master, the partitions of its rows, Spark settings."""
    p.add_argument("--master", required=True, help="Spark master URL (spark://HOST:PORT, local[N])")
    p.add_argument("--partitions", type=int, help=f"repartition the {rows} into N partitions")
    p.add_argument(
        "--conf",
        type=conf_pair,
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="a Spark setting (repeatable)",
    )


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="phuso-spark",
        description="Phủ Số on Apache Spark: the same exact answers as the single-node engine.",
    )
    sub = p.add_subparsers(dest="command", required=True)
    j = sub.add_parser(
        "join",
        help="points per area (the counts file of `phuso join`)",
        description="Counts the points of Parquet files per area of a GeoJSON file, on a Spark "
        "cluster, with phuso's kernel and border rule; writes the counts file of `phuso join`.",
    )
    j.add_argument("--areas", required=True, help="GeoJSON FeatureCollection of the areas")
    j.add_argument(
        "--points",
        required=True,
        nargs="+",
        help="Parquet files or globs of points (any path Spark reads: local, HDFS, S3)",
    )
    j.add_argument("--id-property", default="code", help="the areas' code property (default code)")
    j.add_argument("--lon", default="lon", help="longitude column (default lon)")
    j.add_argument("--lat", default="lat", help="latitude column (default lat)")
    j.add_argument("--counts-out", required=True, help="the counts file to write (CSV)")
    j.add_argument(
        "--summary-out",
        help="also write a JSON summary (points, seconds, tasks and points per executor)",
    )
    cluster_args(j, "points")
    r = sub.add_parser(
        "report",
        help="the campaign's figures (the JSON of `phuso report`) from visits on the cluster",
        description="Aggregates the visits of Parquet files on a Spark cluster (rows checked, joined "
        "and counted with phuso's kernel, integer sums only), then computes every figure on the "
        "driver with `phuso report --aggregates`; writes what `phuso report --format json` writes.",
    )
    r.add_argument("--data", required=True, help="the data directory (areas, census, roster, norms)")
    r.add_argument(
        "--visits",
        required=True,
        nargs="+",
        help="Parquet files or globs of visits (visit_id, team_id, lon, lat, ts, household_id, service)",
    )
    r.add_argument("--out", required=True, help="the report to write (JSON)")
    r.add_argument(
        "--level",
        default="ward",
        choices=["country", "province", "district", "ward", "neighbourhood"],
        help="the level to rank (default ward)",
    )
    r.add_argument(
        "--population",
        default="census2019",
        choices=["census2019", "published2025"],
        help="population vintage (default census2019)",
    )
    r.add_argument("--phuso", help="the phuso binary (default PHUSO_BIN, else phuso on PATH)")
    r.add_argument("--aggregates-out", help="also keep the aggregates file (JSON)")
    r.add_argument("--summary-out", help="also write a JSON summary (seconds, rows per executor)")
    cluster_args(r, "visits")
    return p


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    if getattr(args, "partitions", None) is not None and args.partitions < 1:
        print(f"phuso-spark: error: --partitions {args.partitions}: expected 1 or more", file=sys.stderr)
        return 2
    try:
        if args.command == "join":
            from . import join

            return join.run(args)
        if args.command == "report":
            from . import report

            return report.run(args)
    except InputError as e:
        print(f"phuso-spark: error: {e}", file=sys.stderr)
        return 2
    return 2


if __name__ == "__main__":
    sys.exit(main())
