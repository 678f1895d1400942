"""API reads under load: our membership check and campaign user check beside a plain
Django view and a plain DRF view doing the same lookups, served by gunicorn and
loaded by wrk from another process.

    .venv/bin/python bench/api.py            # creates and fills api_bench
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/segments_bench \\
        .venv/bin/python bench/api.py --quick --json /tmp/api.json
    .venv/bin/python bench/api.py --profile  # one request of each, in process

What it does:

1. Data on a PostgreSQL database whose name ends in `_bench` (created and migrated
   when missing): customers `apib-1` ... `apib-N`, a static segment holding the even
   ones, a live campaign whose audience that segment is (so they are enrolled), and
   a new API key with the `read` scope. Kept between runs; rebuilt when the count
   differs.
2. gunicorn (2 sync workers: one per core of the machine these figures come from;
   the sync worker is what docs/deployment.md puts behind a proxy) serving the real
   app with `bench.api_peers_settings`: the product's settings and a URLconf that
   adds the peers (`bench/api_peers.py`). The cache is Redis (`CACHE_URL`, default
   redis://127.0.0.1:6379/11) as in production, where the workers share the API
   key cache and the throttle counts.
3. Saturation: `wrk -t1 -c4` for each of the six URLs (ours, plain Django, plain DRF;
   membership check and campaign user check), each request naming a random
   customer (half members, half not). Runs interleaved, every URL once per round,
   median of the rounds.
4. p99 at 70% of our saturation rate: wrk again, paced by a Lua `delay()` that hands
   out send times on a fixed timetable (interval = 1 / rate). A connection that is
   late sends at once, so the rate is kept while the server keeps up; latency is
   wrk's, from the moment a request is written. Close to an open loop at this load
   (4 connections, each mostly idle between sends); what it cannot see is a request
   whose turn came while all 4 connections were busy (coordinated omission), which
   is why the achieved rate is printed beside the target. The plain Django view is
   run at the same rate: the tail the machine adds to any view.

`--before DIR` also serves another copy of the code (e.g. `git archive <commit>`
unpacked in DIR, with `bench/api_peers*.py` copied in) from a second gunicorn and
loads its endpoints in the same rounds.
"""

import argparse
import contextlib
import cProfile
import json
import os
import pstats
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlparse

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
DEFAULT_DATABASE = "postgres://postgres@127.0.0.1:5432/api_bench"
DEFAULT_CACHE = "redis://127.0.0.1:6379/11"
os.environ.setdefault("DATABASE_URL", DEFAULT_DATABASE)
os.environ.setdefault("CACHE_URL", DEFAULT_CACHE)
# High enough that wrk is never refused: the throttle still counts every request.
os.environ.setdefault("API_THROTTLE_RATE", "1000000/min")
os.environ["DJANGO_SETTINGS_MODULE"] = "bench.api_peers_settings"
os.environ["DJANGO_SECURE"] = "false"
os.environ.setdefault("DJANGO_ALLOWED_HOSTS", "127.0.0.1,localhost")
os.environ.setdefault("WEBHOOKS_DELIVERY", "off")

from bench.report import Result, write_results  # noqa: E402

PREFIX = "apib-"
NAME = "API bench"
ACTOR_LABEL = "bench"
WORKERS = 2
CONNECTIONS = 4
LOAD_SHARE = 0.70
TARGET_SHARE = 0.75
TARGET_P99_MS = 20.0


@dataclass
class Path_:
    label: str  # what was timed
    urls: dict[str, str]  # ours, django, drf (, before): URLs with {id} for a number
    saturation: dict[str, list[float]] = field(default_factory=dict)
    p99: dict[str, list[float]] = field(default_factory=dict)
    achieved: list[float] = field(default_factory=list)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--json", help="write the results here (bench/report format)")
    parser.add_argument("--quick", action="store_true", help="small and short")
    parser.add_argument("--customers", type=int, help="default 100,000 (quick 2,000)")
    parser.add_argument("--rounds", type=int, help="default 5 (quick 2)")
    parser.add_argument("--seconds", type=float, help="per wrk run (default 10)")
    parser.add_argument("--workers", type=int, default=WORKERS)
    parser.add_argument("--worker-class", default="sync")
    parser.add_argument("--profile", action="store_true", help="in process, no load")
    parser.add_argument(
        "--before",
        metavar="DIR",
        help="also serve the code exported in DIR (e.g. `git archive main`) and "
        "load its endpoints in the same rounds, as `before`",
    )
    args = parser.parse_args()
    args.customers = args.customers or (2_000 if args.quick else 100_000)
    args.rounds = args.rounds or (2 if args.quick else 5)
    args.seconds = args.seconds or (2 if args.quick else 10)
    check_database(os.environ["DATABASE_URL"])

    import django

    django.setup()
    ids = ensure_data(args.customers)
    if args.profile:
        profile(ids)
        return
    wrk = find_wrk()
    member = f"segments/{ids['segment']}/members/{PREFIX}{{id}}"
    campaign_user = f"campaigns/{ids['campaign']}/users/{PREFIX}{{id}}"
    with contextlib.ExitStack() as stack:
        base = stack.enter_context(server(args, ROOT))
        urls = {
            "ours": f"{base}/api/v1/",
            "django": f"{base}/peers/django/",
            "drf": f"{base}/peers/drf/",
        }
        if args.before:
            before = stack.enter_context(server(args, Path(args.before).resolve()))
            urls["before"] = f"{before}/api/v1/"
        paths = [
            Path_(label, {name: url + tail for name, url in urls.items()})
            for label, tail in (
                ("membership check", member),
                ("campaign user check", campaign_user),
            )
        ]
        tmp = Path(stack.enter_context(tempfile.TemporaryDirectory()))
        check_answers(paths, ids["key"])
        measure(Load(wrk, ids["key"], args.customers, tmp), paths, args)
    load_average = os.getloadavg()
    report(paths, args, load_average)
    if args.json:
        write_json(args.json, paths, args, load_average)


def check_database(url: str) -> None:
    parsed = urlparse(url)
    name = parsed.path.lstrip("/")
    if not parsed.scheme.startswith("postgres") or not name.endswith("_bench"):
        sys.exit(
            f"DATABASE_URL must name a PostgreSQL database ending in _bench: {url}"
        )
    import psycopg

    admin = parsed._replace(path="/postgres").geturl()
    with psycopg.connect(admin, autocommit=True) as conn:
        found = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name])
        if found.fetchone() is None:
            conn.execute(f'CREATE DATABASE "{name}"')


def ensure_data(customers: int) -> dict:
    """The benchmark's rows (made once, kept), and a new read key for this run."""
    from django.core.management import call_command

    from campaigns.models import Campaign
    from campaigns.services import campaign_create
    from segments.models import Customer, Segment
    from segments.services import (
        Actor,
        api_key_create,
        segment_create,
        segment_members_add,
    )

    call_command("migrate", verbosity=0)
    actor = Actor.system(ACTOR_LABEL)
    mine = Customer.objects.filter(external_id__startswith=PREFIX)
    segment = Segment.objects.filter(name=NAME).first()
    campaign = Campaign.objects.filter(name=NAME).first()
    if not (segment and campaign and mine.count() == customers):
        print(f"Creating {customers:,} customers, their segment and campaign")
        Campaign.objects.filter(name=NAME).delete()
        Segment.objects.filter(name=NAME).delete()
        mine.delete()
        Customer.objects.bulk_create(
            (Customer(external_id=f"{PREFIX}{i}") for i in range(1, customers + 1)),
            batch_size=5000,
        )
        segment = segment_create(name=NAME, type="static", actor=actor)
        evens = list(mine.filter(external_id__regex=r"[02468]$"))
        for start in range(0, len(evens), 10_000):
            segment_members_add(
                segment=segment, customers=evens[start : start + 10_000], actor=actor
            )
        campaign = campaign_create(
            name=NAME, status="active", segments=[segment], actor=actor
        )
    key = api_key_create(name=NAME, scopes=["read"], actor=actor).key
    return {"segment": segment.pk, "campaign": campaign.pk, "key": key}


def find_wrk() -> str:
    wrk = shutil.which("wrk")
    if wrk:
        return wrk
    if os.geteuid() == 0 and shutil.which("apt-get"):
        print("Installing wrk (Debian package)")
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        subprocess.run(["apt-get", "update", "-qq"], check=True, env=env)
        subprocess.run(["apt-get", "install", "-y", "-qq", "wrk"], check=True, env=env)
        return shutil.which("wrk") or sys.exit("wrk did not install")
    sys.exit("wrk is needed: sudo apt-get install wrk (or build github.com/wg/wrk)")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def server(args, root: Path):
    """gunicorn serving the code under `root`, with the bench's peers."""
    port = free_port()
    command = [
        sys.executable,
        "-m",
        "gunicorn",
        f"--workers={args.workers}",
        f"--worker-class={args.worker_class}",
        f"--bind=127.0.0.1:{port}",
        f"--chdir={root}",
        "--log-level=warning",
        "segments_site.wsgi:application",
    ]
    # Warnings only: a 404 while it starts up is expected.
    env = {**os.environ, "LOG_LEVEL": "ERROR"}
    process = subprocess.Popen(command, env=env)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until_up(base, process)
        yield base
    finally:
        process.terminate()
        process.wait(timeout=30)


def wait_until_up(base: str, process) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            sys.exit("gunicorn stopped before it served")
        try:
            urllib.request.urlopen(f"{base}/api/v1/nothing", timeout=2)
        except urllib.error.HTTPError:
            return  # 404 from the app: it is up
        except OSError:
            time.sleep(0.2)
    sys.exit("gunicorn did not answer within 60 s")


def get_json(url: str, key: str) -> dict:
    request = urllib.request.Request(url, headers={"X-API-Key": key})
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.load(response)


def check_answers(paths: list[Path_], key: str) -> None:
    """Every URL answers, and the peers answer what ours does (timestamps aside:
    Django's JSON encoder writes milliseconds, DRF's microseconds)."""
    for path in paths:
        for number in (1, 2):  # not a member / a member
            urls = list(path.urls.values())
            bodies = [get_json(url.format(id=number), key) for url in urls]
            plain = [
                {k: v for k, v in b.items() if not k.endswith("_at")} for b in bodies
            ]
            if any(other != plain[0] for other in plain):
                sys.exit(f"{path.label}: the answers differ: {bodies}")
            if any(sorted(body) != sorted(bodies[0]) for body in bodies):
                sys.exit(f"{path.label}: the fields differ: {bodies}")


LUA = r"""
local ffi = require("ffi")
ffi.cdef[[
typedef struct { long tv_sec; long tv_nsec; } bench_timespec;
int clock_gettime(int clock, bench_timespec *ts);
]]
local ts = ffi.new("bench_timespec")
local function now_ms()
  ffi.C.clock_gettime(1, ts)  -- CLOCK_MONOTONIC
  return tonumber(ts.tv_sec) * 1000 + tonumber(ts.tv_nsec) / 1e6
end

local customers = tonumber(os.getenv("BENCH_CUSTOMERS"))
local pattern = os.getenv("BENCH_PATH")
local headers = {["X-API-Key"] = os.getenv("BENCH_KEY")}
local rate = tonumber(os.getenv("BENCH_RATE"))  -- requests/s, 0 for as fast as it can
math.randomseed(os.time())

request = function()
  local path = string.gsub(pattern, "{id}", tostring(math.random(1, customers)))
  return wrk.format("GET", path, headers)
end

if rate > 0 then
  local interval = 1000 / rate
  local next_at = nil
  -- Send times on a fixed timetable: each call takes the next slot. A connection
  -- that is late sends at once, so a slow answer does not lower the rate.
  delay = function()
    local now = now_ms()
    next_at = (next_at or now) + interval
    local wait = next_at - now
    if wait < 0 then return 0 end
    return wait
  end
end
"""


@dataclass
class WrkResult:
    rps: float
    p99_ms: float
    errors: int


class Load:
    def __init__(self, wrk: str, key: str, customers: int, tmp: Path):
        self.wrk, self.key, self.customers = wrk, key, customers
        self.script = tmp / "bench.lua"
        self.script.write_text(LUA)

    def run(self, url: str, seconds: float, rate: float = 0) -> WrkResult:
        parsed = urlparse(url)
        path = parsed.path
        env = {
            **os.environ,
            "BENCH_CUSTOMERS": str(self.customers),
            "BENCH_PATH": path,
            "BENCH_KEY": self.key,
            "BENCH_RATE": str(rate),
        }
        command = [
            self.wrk,
            "-t1",
            f"-c{CONNECTIONS}",
            f"-d{max(1, round(seconds))}s",
            "--latency",
            "-s",
            str(self.script),
            f"{parsed.scheme}://{parsed.netloc}",
        ]
        out = subprocess.run(
            command, env=env, capture_output=True, text=True, check=True
        ).stdout
        return parse_wrk(out)


def parse_wrk(out: str) -> WrkResult:
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    p99 = re.search(r"^\s+99%\s+([\d.]+)(us|ms|s)\b", out, re.M)
    scale = {"us": 0.001, "ms": 1.0, "s": 1000.0}[p99.group(2)]
    errors = sum(
        int(n)
        for n in re.findall(r"Non-2xx or 3xx responses: (\d+)", out)
        + re.findall(r"(?:connect|read|write|timeout) (\d+)", out)
    )
    return WrkResult(rps, float(p99.group(1)) * scale, errors)


def measure(load: Load, paths: list[Path_], args) -> None:
    for path in paths:  # warm up: connections, caches, the database's pages
        for url in path.urls.values():
            load.run(url, 1)
    for round_ in range(1, args.rounds + 1):
        for path in paths:
            for name, url in path.urls.items():
                result = checked(load.run(url, args.seconds), name, path)
                path.saturation.setdefault(name, []).append(result.rps)
        print(f"round {round_}: " + "; ".join(map(last_round, paths)), flush=True)
    # Ours at 70% of its saturation rate, and the plain Django view at the same
    # rate: what the machine itself adds to the tail.
    for _ in range(args.rounds):
        for path in paths:
            rate = LOAD_SHARE * statistics.median(path.saturation["ours"])
            for name in ("ours", "django"):
                url = path.urls[name]
                result = checked(load.run(url, args.seconds, rate), name, path)
                path.p99.setdefault(name, []).append(result.p99_ms)
                if name == "ours":
                    path.achieved.append(result.rps / rate)


def last_round(path: Path_) -> str:
    figures = ", ".join(f"{k} {v[-1]:.0f}" for k, v in path.saturation.items())
    return f"{path.label} {figures}"


def checked(result: WrkResult, name: str, path: Path_) -> WrkResult:
    if result.errors:
        sys.exit(f"{path.label} ({name}): {result.errors} errors or non-2xx answers")
    return result


def figures(path: Path_) -> dict:
    median = {k: statistics.median(v) for k, v in path.saturation.items()}
    return {
        "ours": median["ours"],
        "django": median["django"],
        "drf": median["drf"],
        "ratio_django": median["ours"] / median["django"],
        "ratio_drf": median["ours"] / median["drf"],
        "before": median.get("before"),
        "p99": statistics.median(path.p99["ours"]),
        "p99_django": statistics.median(path.p99["django"]),
        "achieved": statistics.median(path.achieved),
    }


def report(paths: list[Path_], args, load_average) -> None:
    print(
        f"\n{args.customers:,} customers, {args.workers} {args.worker_class} workers, "
        f"wrk {CONNECTIONS} connections, {args.rounds} rounds of {args.seconds:g} s; "
        f"load average {load_average[0]:.1f}"
    )
    print(
        "| path | ours (req/s) | plain Django | plain DRF | ours / Django "
        "| ours / DRF | p99 at 70% |"
    )
    print("|---|---|---|---|---|---|---|")
    for path in paths:
        f = figures(path)
        print(
            f"| {path.label} | {f['ours']:,.0f} | {f['django']:,.0f} | {f['drf']:,.0f} "
            f"| {f['ratio_django']:.0%} | {f['ratio_drf']:.0%} "
            f"| {f['p99']:.1f} ms ({f['achieved']:.0%} of the rate; plain Django "
            f"{f['p99_django']:.1f} ms) |"
        )
    for path in paths:
        f = figures(path)
        if f["before"]:
            print(
                f"{path.label} before: {f['before']:,.0f} req/s, "
                f"{f['before'] / f['django']:.0%} of plain Django; now "
                f"{f['ours'] / f['before']:.2f}x that"
            )


def write_json(target: str, paths: list[Path_], args, load_average) -> None:
    results, notes = (
        [],
        [
            f"{args.customers:,} customers (half members, enrolled), gunicorn "
            f"{args.workers} {args.worker_class} workers, wrk -t1 -c{CONNECTIONS}, "
            f"{args.rounds} rounds of {args.seconds:g} s interleaved; "
            f"load average {load_average[0]:.1f} at the end.",
            "p99 at 70% load: wrk paced by a Lua delay() on a fixed timetable.",
        ],
    )
    for path in paths:
        f = figures(path)
        results.append(
            {
                "path": path.label,
                "metric": "requests/s",
                "higher_is_better": True,
                "ours": round(f["ours"], 1),
                "runs": [round(v, 1) for v in path.saturation["ours"]],
                "baselines": {
                    "plain Django view": round(f["django"], 1),
                    "plain DRF view": round(f["drf"], 1),
                }
                | ({"before (--before)": round(f["before"], 1)} if f["before"] else {}),
                "target": f"≥ {TARGET_SHARE:.0%} of plain Django view",
                "met": f["ratio_django"] >= TARGET_SHARE,
                "extra": {
                    "ratio to plain Django": round(f["ratio_django"], 3),
                    "ratio to plain DRF": round(f["ratio_drf"], 3),
                },
            }
        )
        results.append(
            {
                "path": f"{path.label}, p99 at 70% of saturation",
                "metric": "ms",
                "higher_is_better": False,
                "ours": round(f["p99"], 2),
                "runs": [round(v, 2) for v in path.p99["ours"]],
                "baselines": {
                    "plain Django view, same rate": round(f["p99_django"], 2)
                },
                "target": f"< {TARGET_P99_MS:g} ms",
                "met": f["p99"] < TARGET_P99_MS,
                "extra": {"achieved share of the rate": round(f["achieved"], 3)},
            }
        )
    write_results(
        target,
        benchmark="api",
        title=f"API reads under load (wrk, {args.workers} gunicorn workers)",
        results=[Result(**r) for r in results],
        notes=notes,
    )


def profile(ids: dict) -> None:
    """One request of each path in process: the queries, then where the time goes."""
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    client = Client(HTTP_X_API_KEY=ids["key"], HTTP_HOST="127.0.0.1")
    urls = [
        f"/api/v1/segments/{ids['segment']}/members/{PREFIX}2",
        f"/api/v1/campaigns/{ids['campaign']}/users/{PREFIX}2",
        f"/peers/django/segments/{ids['segment']}/members/{PREFIX}2",
        f"/peers/django/campaigns/{ids['campaign']}/users/{PREFIX}2",
    ]
    for url in urls:
        client.get(url)
        with CaptureQueriesContext(connection) as queries:
            response = client.get(url)
        print(f"\n{url}: {response.status_code} {response.content.decode()}")
        sent = queries.captured_queries
        for query in sent:
            print(f"  {query['sql'][:160]}")
        count = 300
        started = time.perf_counter()
        for _ in range(count):
            client.get(url)
        took = (time.perf_counter() - started) / count
        print(f"  {len(sent)} queries, {took * 1e6:.0f} µs per request in process")
    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(200):
        client.get(urls[0])
    profiler.disable()
    pstats.Stats(profiler).sort_stats("tottime").print_stats(25)


if __name__ == "__main__":
    main()
