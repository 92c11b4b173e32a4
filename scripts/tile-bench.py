#!/usr/bin/env python3
"""Vector-tile latency and size on a running server: every tile over the layer's bounds at zooms
0-14 (every 7th at 15-16), fetched twice in turn (cold: the server cuts and encodes it; warm:
from its cache), one request at a time on loopback. Prints per layer and zoom the tiles, the
cold and warm p50/p99 in ms and the largest tile, then the worst of each.

Usage: scripts/tile-bench.py [BASE_URL] [LAYER ...]   (default http://127.0.0.1:8080, wards h3)
Start the server first, e.g. `cargo run --release -- serve --addr 127.0.0.1:8080`.

With TILE_BENCH_UNDER_WARDS=1 (a national directory, whose bounds hold millions of empty
tiles at high zoom), zooms from 9 on fetch only the tiles under a ward's centre (one per ward
and zoom, from /ogc/collections/wards/items), up to TILE_BENCH_MAX_ZOOM (default 16).
"""
import os
import json
import math
import sys
import time
import urllib.error
import urllib.request

base = sys.argv[1] if len(sys.argv) > 1 else "http://127.0.0.1:8080"
layers = sys.argv[2:] or ["wards", "h3"]


def tiles_over(b, z):
    n = 2**z
    col = lambda lon: min(n - 1, int((lon + 180) / 360 * n))
    row = lambda lat: min(n - 1, int((1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n))
    return [(z, x, y) for x in range(col(b[0]), col(b[2]) + 1) for y in range(row(b[3]), row(b[1]) + 1)]


def fetch(url):
    t0 = time.perf_counter()
    try:
        with urllib.request.urlopen(url) as r:
            body = r.read()
    except urllib.error.HTTPError as e:
        if e.code != 204:
            raise
        body = b""
    return (time.perf_counter() - t0) * 1000, len(body)


def pct(xs, p):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(p / 100 * len(xs)))] if xs else 0.0


under_wards = os.environ.get("TILE_BENCH_UNDER_WARDS") == "1"
max_zoom = int(os.environ.get("TILE_BENCH_MAX_ZOOM", "16"))
centres = []
if under_wards:
    doc = json.load(urllib.request.urlopen(f"{base}/ogc/collections/wards/items?limit=10000"))
    for f in doc["features"]:
        g = f["geometry"]
        polys = g["coordinates"] if g["type"] == "MultiPolygon" else [g["coordinates"]]
        xs = [c[0] for p in polys for c in p[0]]
        ys = [c[1] for p in polys for c in p[0]]
        centres.append(((min(xs) + max(xs)) / 2, (min(ys) + max(ys)) / 2))


def tiles_under_centres(z):
    return sorted({tiles_over([x, y, x, y], z)[0] for (x, y) in centres})


summary = {}
for layer in layers:
    tj = json.load(urllib.request.urlopen(f"{base}/tiles/{layer}.json"))
    b = tj["bounds"]
    worst = {"cold_p99": 0, "warm_p99": 0, "max_bytes": 0}
    for z in range(0, max_zoom + 1):
        if under_wards and z >= 9:
            ts = tiles_under_centres(z)
        else:
            ts = tiles_over(b, z)
            if z >= 15:
                ts = ts[::7]
        cold, warm, sizes = [], [], []
        for (z_, x, y) in ts:
            url = f"{base}/tiles/{layer}/{z_}/{x}/{y}.mvt"
            ms, n = fetch(url)
            cold.append(ms)
            sizes.append(n)
            warm.append(fetch(url)[0])
        row = {
            "layer": layer, "z": z, "tiles": len(ts),
            "cold_p50_ms": round(pct(cold, 50), 2), "cold_p99_ms": round(pct(cold, 99), 2),
            "warm_p50_ms": round(pct(warm, 50), 2), "warm_p99_ms": round(pct(warm, 99), 2),
            "max_kb": round(max(sizes) / 1024, 1),
        }
        print(json.dumps(row), flush=True)
        worst["cold_p99"] = max(worst["cold_p99"], row["cold_p99_ms"])
        worst["warm_p99"] = max(worst["warm_p99"], row["warm_p99_ms"])
        worst["max_bytes"] = max(worst["max_bytes"], max(sizes))
    summary[layer] = worst
print(json.dumps({"worst": summary}))
