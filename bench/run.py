"""The benchmark suite: calibration, then every benchmark beside its baselines, on
PostgreSQL, and the results written into docs/performance.md.

    make bench-quick      # small data, a few minutes
    make bench            # the real sizes (1M customers where the issues say so)
    .venv/bin/python bench/run.py --quick --only recompute,rules_peers --no-docs

Each `bench/<name>.py` runs as a subprocess with `--json <file>` (and `--quick`)
and `DATABASE_URL` pointing at a database whose name ends in `_bench`, created and
migrated here (the data inside is built by the scripts and kept for the next run of
the same mode). A script that fails, or writes no result, is reported as failed and
the run goes on; the exit status is then 1. A script missing on this branch is
skipped. `BENCH_DATABASE_URL` (default postgres://postgres@127.0.0.1:5432) says
which server to use, `BENCH_DB_PREFIX` (default "segments") how the names of its
databases start: `<prefix>_<part>_<quick|full>_bench`, and `<prefix>_bench` for the
calibration.
"""

import argparse
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import psycopg  # noqa: E402
from psycopg import sql  # noqa: E402

from bench.report import (  # noqa: E402
    Result,
    machine_info,
    median,
    read_results,
    render_block,
    replace_block,
    write_chart,
)

DOCS = ROOT / "docs" / "performance.md"
CHART = ROOT / "docs" / "img" / "bench.svg"
# The generated block goes after the introduction's last line.
INTRO_END = "(`bench/api.py`); hand-written SQL for the writes."


@dataclass
class Bench:
    name: str
    database: str  # the `<database>` of segments_<database>_<mode>_bench
    quick: list[str] = field(default_factory=list)
    full: list[str] = field(default_factory=list)
    migrate: bool = True  # False: the script makes its own test database


BENCHMARKS = [
    # Sizes: each script's own defaults (full) and its --quick ones, unless given.
    Bench("recompute", "rules", full=["--customers", "1000000"]),
    Bench("behaviours", "rules"),  # on recompute's customers, so after it
    Bench("rules_peers", "peers", full=["--customers", "100000"]),
    Bench(
        "imports",
        "scratch",
        full=["--rows", "1000000", "--slice", "2000", "--repeat", "2"],
        migrate=False,
    ),
    Bench("events", "scratch", migrate=False),
    Bench("members_add", "scratch", migrate=False),
    Bench("api", "api"),
    Bench("admin_pages", "admin", full=["--customers", "1000000", "--segments", "100"]),
]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="small data, few runs")
    parser.add_argument("--only", default="", help="comma-separated benchmark names")
    parser.add_argument(
        "--no-docs", action="store_true", help="do not write docs/performance.md"
    )
    parser.add_argument("--out", default=None, help="folder for the JSON and logs")
    parser.add_argument(
        "--timeout", type=int, default=None, help="seconds per benchmark"
    )
    args = parser.parse_args()
    mode = "quick" if args.quick else "full"
    chosen = [b for b in BENCHMARKS if not args.only or b.name in args.only.split(",")]
    unknown = set(filter(None, args.only.split(","))) - {b.name for b in BENCHMARKS}
    if unknown:
        parser.error(f"unknown benchmark(s): {', '.join(sorted(unknown))}")
    prefix = os.environ.get("BENCH_DB_PREFIX", "segments")
    out = Path(args.out or Path(tempfile.gettempdir()) / f"{prefix}-bench") / mode
    out.mkdir(parents=True, exist_ok=True)
    timeout = args.timeout or (600 if args.quick else 1800)

    server = os.environ.get("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432")
    started_at = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    started = time.perf_counter()
    pg_version = check_server(server)
    machine = machine_info(pg_version=pg_version)
    print(f"bench ({mode}): PostgreSQL {pg_version}, results in {out}", flush=True)
    databases = {"calibration": prepare_database(server, f"{prefix}_bench", False)}
    for bench in chosen:
        if bench.database not in databases and runnable(bench):
            databases[bench.database] = prepare_database(
                server, f"{prefix}_{bench.database}_{mode}_bench", bench.migrate
            )
    calibration = calibrate(databases["calibration"], quick=args.quick)
    for result in calibration:
        print(f"calibration: {result.path}: {result.ours:,.0f} {result.metric}")

    reports = [
        run_one(bench, databases.get(bench.database, ""), out, args.quick, timeout)
        for bench in chosen
    ]
    machine["load_end"] = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    duration = time.perf_counter() - started

    if not args.no_docs and not args.only:
        chart = write_chart(reports, CHART)
        block = render_block(
            mode=mode,
            started=started_at,
            duration_s=duration,
            machine=machine,
            calibration=calibration,
            reports=reports,
            chart=f"img/{CHART.name}" if chart else None,
        )
        DOCS.write_text(replace_block(DOCS.read_text(), block, after=INTRO_END))
        print(f"wrote {DOCS.relative_to(ROOT)} and {CHART.relative_to(ROOT)}")
    failed = [r["benchmark"] for r in reports if r.get("failed")]
    print(
        f"done in {duration / 60:.1f} min"
        + (f"; failed: {', '.join(failed)}" if failed else "")
    )
    return 1 if failed else 0


# --- the server and its databases ----------------------------------------------------


def with_database(server: str, name: str) -> str:
    parts = urlsplit(server)
    return urlunsplit(parts._replace(path=f"/{name}"))


def check_server(server: str) -> str:
    try:
        with psycopg.connect(with_database(server, "postgres"), connect_timeout=5) as c:
            return str(c.execute("SHOW server_version").fetchone()[0])
    except psycopg.OperationalError as error:
        sys.exit(f"PostgreSQL is not reachable at {server}: {error}")


def prepare_database(server: str, name: str, migrate: bool) -> str:
    """Create the database when missing and bring its schema up to date."""
    with psycopg.connect(with_database(server, "postgres"), autocommit=True) as c:
        exists = c.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name])
        if exists.fetchone() is None:
            c.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    url = with_database(server, name)
    if migrate:
        subprocess.run(
            [sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"],
            cwd=ROOT,
            env=child_env(url),
            check=True,
        )
    return url


def child_env(url: str) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        DATABASE_URL=url,
        DJANGO_SECURE="false",
        WEBHOOKS_DELIVERY="off",
        PYTHONUNBUFFERED="1",
    )
    return env


# --- calibration ------------------------------------------------------------------


def calibrate(url: str, *, quick: bool) -> list[Result]:
    """Raw speed of this machine's PostgreSQL, to compare machines with: COPY of
    1M rows (two columns) into a temporary table, and SELECT 1 round trips."""
    rows = 1_000_000
    data = "".join(f"{i}\tcustomer {i}\n" for i in range(rows)).encode()
    copies, trips = [], []
    count = 5_000 if quick else 20_000
    with psycopg.connect(url, autocommit=True) as c:
        c.execute("CREATE TEMPORARY TABLE calibration (id int, name text)")
        for _ in range(3):
            c.execute("TRUNCATE calibration")
            begun = time.perf_counter()
            with c.cursor() as cursor, cursor.copy("COPY calibration FROM STDIN") as cp:
                for at in range(0, len(data), 1 << 20):
                    cp.write(data[at : at + (1 << 20)])
            copies.append(rows / (time.perf_counter() - begun))
        with c.cursor() as cursor:
            for _ in range(3):
                begun = time.perf_counter()
                for _ in range(count):
                    cursor.execute("SELECT 1")
                    cursor.fetchone()
                trips.append(count / (time.perf_counter() - begun))
    return [
        Result(
            path="COPY of 1M rows into a temporary table",
            metric="rows/s",
            higher_is_better=True,
            ours=median(copies),
            runs=copies,
        ),
        Result(
            path=f"SELECT 1 round trips through psycopg ({count:,} a run)",
            metric="queries/s",
            higher_is_better=True,
            ours=median(trips),
            runs=trips,
        ),
    ]


# --- one benchmark ------------------------------------------------------------------


def run_one(bench: Bench, url: str, out: Path, quick: bool, timeout: int):
    script = ROOT / "bench" / f"{bench.name}.py"
    if not runnable(bench):
        why = "not on this branch" if not script.exists() else "has no --json yet"
        print(f"\n== {bench.name}: {why}, skipped", flush=True)
        return {"benchmark": bench.name, "skipped": why, "results": [], "notes": []}
    result_file = out / f"{bench.name}.json"
    log_file = out / f"{bench.name}.log"
    result_file.unlink(missing_ok=True)
    command = [sys.executable, str(script), "--json", str(result_file)]
    command += ["--quick", *bench.quick] if quick else bench.full
    print(f"\n== {bench.name}: {' '.join(command[1:])}", flush=True)
    begun = time.perf_counter()
    failure = None
    with log_file.open("w") as log:
        try:
            status = stream(command, child_env(url), log, timeout)
            if status != 0:
                failure = f"exit status {status}"
        except subprocess.TimeoutExpired:
            failure = f"stopped after {timeout} s"
    took = time.perf_counter() - begun
    print(f"== {bench.name}: {failure or 'ok'} in {took:.0f} s (log: {log_file})")
    if failure is None and not result_file.exists():
        failure = "wrote no result file"
    if failure:
        return {"benchmark": bench.name, "failed": failure, "results": [], "notes": []}
    report = read_results(result_file)
    report["seconds"] = took
    return report


def runnable(bench: Bench) -> bool:
    """Whether the script is here and knows --json (a branch may lack either)."""
    script = ROOT / "bench" / f"{bench.name}.py"
    if not script.exists():
        return False
    text = script.read_text()
    return "--json" in text or "add_bench_args" in text


def stream(command: list[str], env: dict, log, timeout: int) -> int:
    """Run, copying the output to the console and the log; kill it on timeout."""
    process = subprocess.Popen(
        command,
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    expired = threading.Event()

    def stop() -> None:
        expired.set()
        os.killpg(process.pid, signal.SIGKILL)

    timer = threading.Timer(timeout, stop)
    timer.start()
    try:
        assert process.stdout is not None
        for line in process.stdout:
            sys.stdout.write("   " + line)
            sys.stdout.flush()
            log.write(line)
        status = process.wait()
    finally:
        timer.cancel()
    if expired.is_set():
        raise subprocess.TimeoutExpired(command, timeout)
    return status


if __name__ == "__main__":
    sys.exit(main())
