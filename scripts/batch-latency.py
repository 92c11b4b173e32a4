#!/usr/bin/env python3
"""Batch-to-visible latency on loopback: posts N batches of B new visits to a running `phuso serve`
and, after each receipt, polls /api/summary (every 5 ms) until the batch is counted. Prints the
receipt time and the time from receipt to visible, per batch and as p50/max.

Usage: python3 scripts/batch-latency.py --url http://127.0.0.1:8080 --token TOKEN --teams data/synthetic/teams.csv
       [--batches 5] [--batch 10000] [--bbox 106.60,10.90,106.70,11.00] [--date 2025-11-04]"""
import argparse, csv, json, random, statistics, time, urllib.parse, urllib.request

p = argparse.ArgumentParser()
p.add_argument("--url", required=True)
p.add_argument("--token", required=True)
p.add_argument("--teams", required=True)
p.add_argument("--batches", type=int, default=5)
p.add_argument("--batch", type=int, default=10_000)
p.add_argument("--bbox", default="106.60,10.90,106.70,11.00")
p.add_argument("--date", default="2025-11-04")
a = p.parse_args()
assert urllib.parse.urlparse(a.url).hostname in ("127.0.0.1", "localhost", "::1"), "loopback only"
x0, y0, x1, y1 = (float(v) for v in a.bbox.split(","))
teams = [r["team_id"] for r in csv.DictReader(open(a.teams))]
rng = random.Random(7)

def counted():
    return json.load(urllib.request.urlopen(a.url + "/api/summary"))["visits"]["rows_read"]

receipts, visible = [], []
base = 8_000_000_000 + int(time.time()) % 100_000 * 100_000
for b in range(a.batches):
    rows = ["visit_id,team_id,lon,lat,ts,household_id,service"]
    for i in range(a.batch):
        vid = base + b * a.batch + i
        rows.append(f"{vid},{rng.choice(teams)},{x0 + rng.random() * (x1 - x0):.6f},{y0 + rng.random() * (y1 - y0):.6f},{a.date}T10:00:00+07:00,bl{vid},vneid_install")
    body = ("\n".join(rows) + "\n").encode()
    before = counted()
    req = urllib.request.Request(a.url + "/api/visits", data=body, method="POST", headers={
        "Authorization": "Bearer " + a.token, "Idempotency-Key": f"latency-{base}-{b}", "Content-Type": "text/csv"})
    t0 = time.time()
    r = json.load(urllib.request.urlopen(req, timeout=120))
    t1 = time.time()
    while counted() < before + r["rows_accepted"]:
        time.sleep(0.005)
    t2 = time.time()
    receipts.append(t1 - t0)
    visible.append(t2 - t1)
    print(f"batch {b}: {r['rows_accepted']} accepted; receipt {1000 * (t1 - t0):.0f} ms; visible {1000 * (t2 - t1):.0f} ms after the receipt")
print(f"receipt p50 {1000 * statistics.median(receipts):.0f} ms, max {1000 * max(receipts):.0f} ms; "
      f"visible after receipt p50 {1000 * statistics.median(visible):.0f} ms, max {1000 * max(visible):.0f} ms")
