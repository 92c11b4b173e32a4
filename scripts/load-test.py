#!/usr/bin/env python3
"""Load test on loopback: U concurrent uploaders (batches of B new visits each) and R concurrent
readers (/api/summary, /api/priorities, /api/areas, /api/hexes) against a running `phuso serve`,
for a bounded time. Prints errors, p50/p99 latencies per kind and accepted visits per second.

Usage: python3 scripts/load-test.py --url http://127.0.0.1:8080 --token TOKEN --teams data/synthetic/teams.csv
       [--uploaders 20] [--readers 100] [--seconds 30] [--batch 500]
       [--area 25975] [--bbox 106.60,10.90,106.70,11.00] [--date 2025-11-04]
Only loopback URLs are accepted. Exits with 1 when any request failed or nothing was accepted."""
import argparse, csv, json, random, statistics, threading, time, urllib.error, urllib.request, urllib.parse

p = argparse.ArgumentParser()
p.add_argument("--url", required=True)
p.add_argument("--token", required=True)
p.add_argument("--teams", required=True, help="teams.csv of the store (team ids to use)")
p.add_argument("--uploaders", type=int, default=20)
p.add_argument("--readers", type=int, default=100)
p.add_argument("--seconds", type=float, default=30)
p.add_argument("--batch", type=int, default=500)
p.add_argument("--area", default="25975", help="an area code to read /api/areas/{code} of")
p.add_argument("--bbox", default="106.60,10.90,106.70,11.00", help="min_lon,min_lat,max_lon,max_lat of the uploaded points")
p.add_argument("--date", default="2025-11-04", help="the day of the uploaded visits (inside the campaign)")
a = p.parse_args()
x0, y0, x1, y1 = (float(v) for v in a.bbox.split(","))
host = urllib.parse.urlparse(a.url).hostname
assert host in ("127.0.0.1", "localhost", "::1"), "loopback only"
teams = [r["team_id"] for r in csv.DictReader(open(a.teams))]
stop = time.time() + a.seconds
lock = threading.Lock()
lat = {"upload": [], "read": []}
errors = []
accepted = [0]
shed = [0]
slow = []

def record(kind, t, ok, what=""):
    with lock:
        lat[kind].append(t)
        if not ok:
            errors.append(what)

def back_off(e):
    """A 503 or 429 with Retry-After is the server shedding load or holding a client to its rate,
    as designed: wait and count it."""
    if e.code in (429, 503) and e.headers.get("Retry-After"):
        with lock:
            shed[0] += 1
        time.sleep(min(float(e.headers["Retry-After"]), 5))
        return True
    return False

def uploader(u):
    n = 0
    rng = random.Random(u)
    while time.time() < stop:
        rows = ["visit_id,team_id,lon,lat,ts,household_id,service"]
        for i in range(a.batch):
            vid = 7_000_000_000 + u * 10_000_000 + n * a.batch + i
            rows.append(f"{vid},{rng.choice(teams)},{x0 + rng.random() * (x1 - x0):.6f},{y0 + rng.random() * (y1 - y0):.6f},{a.date}T10:00:00+07:00,lt{vid},vneid_install")
        body = ("\n".join(rows) + "\n").encode()
        req = urllib.request.Request(a.url + "/api/visits", data=body, method="POST", headers={
            "Authorization": "Bearer " + a.token, "Idempotency-Key": f"load-{u}-{n}", "Content-Type": "text/csv"})
        t0 = time.time()
        try:
            r = json.load(urllib.request.urlopen(req, timeout=60))
            record("upload", time.time() - t0, True)
            with lock:
                accepted[0] += r["rows_accepted"]
        except urllib.error.HTTPError as e:
            if not back_off(e):
                record("upload", time.time() - t0, False, f"upload: {e}")
            continue  # the same batch again, under the same key
        except Exception as e:  # noqa: BLE001
            record("upload", time.time() - t0, False, f"upload: {e}")
        n += 1

READS = ["/api/summary", "/api/priorities?level=ward&limit=20", "/api/areas?level=ward", "/api/hexes?res=8", "/api/areas/" + a.area]

def reader(r):
    rng = random.Random(1000 + r)
    while time.time() < stop:
        path = rng.choice(READS)
        t0 = time.time()
        try:
            urllib.request.urlopen(a.url + path, timeout=60).read()
            record("read", time.time() - t0, True)
            if time.time() - t0 > 5:
                with lock:
                    slow.append(f"{path}: {time.time() - t0:.1f} s")
        except urllib.error.HTTPError as e:
            if not back_off(e):
                record("read", time.time() - t0, False, f"{path}: {e}")
        except Exception as e:  # noqa: BLE001
            record("read", time.time() - t0, False, f"{path}: {e}")

threads = [threading.Thread(target=uploader, args=(u,)) for u in range(a.uploaders)]
threads += [threading.Thread(target=reader, args=(r,)) for r in range(a.readers)]
t_start = time.time()
for t in threads:
    t.start()
for t in threads:
    t.join()
elapsed = time.time() - t_start

def pct(v, q):
    v = sorted(v)
    return v[min(len(v) - 1, int(q * len(v)))] * 1000 if v else float("nan")

for kind, v in lat.items():
    print(f"{kind}: {len(v)} requests, p50 {pct(v, 0.5):.1f} ms, p99 {pct(v, 0.99):.1f} ms, max {pct(v, 1.0):.1f} ms")
print(f"accepted visits: {accepted[0]} in {elapsed:.1f} s = {accepted[0] / elapsed:.0f}/s; shed (503 or 429, retried): {shed[0]}; errors: {len(errors)}")
for e in slow[:10]:
    print("   slow:", e)
for e in errors[:10]:
    print("  ", e)
raise SystemExit(1 if errors or accepted[0] == 0 else 0)
