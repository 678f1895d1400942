"""Member import of a large CSV of existing customers' ids into an empty static
segment: the import service against two baselines, in the same run on the same
throw-away database.

- hand-written SQL doing the same writes with no checks: COPY into a temporary
  staging table, then INSERT ... SELECT ... ON CONFLICT DO NOTHING into the
  memberships and the history;
- django-import-export's default ModelResource importing the same rows, on a slice
  (it runs row by row), scaled to the whole file.

Peak memory is the process's peak RSS after the service's run (setup and the
baseline SQL keep no rows in Python).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/segments \\
        .venv/bin/python bench/imports.py --rows 1000000 --slice 20000
"""

import argparse
import itertools
import os
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "segments_site.settings")

import django

django.setup()

import tablib  # noqa: E402
from django.db import connection  # noqa: E402
from django.test.utils import setup_databases, teardown_databases  # noqa: E402
from django.utils import timezone  # noqa: E402
from import_export import resources  # noqa: E402

from bench.report import (  # noqa: E402
    Result,
    add_bench_args,
    quick_defaults,
    write_results,
)
from segments.models import Customer, Membership, MembershipChange  # noqa: E402
from segments.services import Actor, segment_create  # noqa: E402
from segments.services.imports import import_job_create, import_job_run  # noqa: E402

BASELINE_SQL = [
    "CREATE TEMPORARY TABLE baseline_rows (key varchar(255) NOT NULL)",
    "COPY baseline_rows (key) FROM STDIN",
    """INSERT INTO segments_membership (segment_id, customer_id, source, override,
        is_test, joined_at, updated_at, reference_id, metadata)
       SELECT %(segment)s, c.id, 'csv', 'none', false, %(now)s, %(now)s, '', '{}'
       FROM baseline_rows r JOIN segments_customer c ON c.external_id = r.key
       ON CONFLICT DO NOTHING""",
    """INSERT INTO segments_membershipchange (segment_id, customer_id, action,
        was_member, is_member, source, override, is_test, actor_type, actor_label,
        reference_id, metadata, description, occurred_at, recorded_at)
       SELECT %(segment)s, c.id, 'entered', false, true, 'csv', 'none', false,
        'csv', 'csv: bench', '', '{}', '', %(now)s, %(now)s
       FROM baseline_rows r JOIN segments_customer c ON c.external_id = r.key""",
    "DROP TABLE baseline_rows",
]


class MembershipResource(resources.ModelResource):
    """django-import-export's default: a ModelResource of the model, as its docs
    start with."""

    class Meta:
        model = Membership
        fields = ("id", "segment", "customer", "source")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, help="100,000; --quick 20,000")
    parser.add_argument(
        "--slice", type=int, help="5,000; --quick 1,000; 0: skip django-import-export"
    )
    parser.add_argument("--repeat", type=int, help="runs of each, 3; --quick 2")
    add_bench_args(parser)
    args = parser.parse_args()
    quick_defaults(args, rows=(100_000, 20_000), slice=(5_000, 1_000), repeat=(3, 2))
    if connection.vendor != "postgresql":
        sys.exit("Run it on PostgreSQL: set DATABASE_URL.")
    databases = setup_databases(verbosity=0, interactive=False)
    try:
        run(args)
    finally:
        teardown_databases(databases, verbosity=0)


def run(args) -> None:
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO segments_customer (external_id, email, phone, first_name, "
            "last_name, attributes, created_at, updated_at) SELECT 'c' || n, '', '', "
            "'', '', '{}', now(), now() FROM generate_series(1, %s) n",
            [args.rows],
        )
        cursor.execute("ANALYZE segments_customer")
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "members.csv"
        write_ids(path, args.rows)
        print(f"{args.rows:,} rows, {path.stat().st_size / 1e6:.1f} MB of CSV")
        # Interleaved; each run imports into a new empty segment.
        baselines, services, sliced = [], [], []
        before = rss_mb()
        for _ in range(args.repeat):
            baselines.append(timed(lambda: by_sql(path)))
            services.append(timed(lambda: by_service(path)))
            if len(services) == 1:  # the service's peak, before import-export's
                peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
            if args.slice:
                took = timed(lambda: by_import_export(args.slice))
                sliced.append(took * args.rows / args.slice)
    service, baseline = statistics.median(services), statistics.median(baselines)
    print(f"median of {args.repeat} runs, interleaved:")
    print(f"service        : {service:8.2f} s ({args.rows / service:,.0f} rows/s)")
    print(f"hand-written   : {baseline:8.2f} s -> service is {service / baseline:.2f}x")
    if sliced:
        scaled = statistics.median(sliced)
        print(
            f"import-export  : {scaled:8.2f} s scaled from {args.slice:,} rows "
            f"-> service is {scaled / service:.0f}x faster"
        )
    print(f"peak RSS       : {peak:8.0f} MB (the process, {before:.0f} MB before)")
    if args.json:
        write_json(args, services, baselines, sliced, peak, before)


def write_json(args, services, baselines, sliced, peak, before) -> None:
    service, baseline = statistics.median(services), statistics.median(baselines)
    others = {"hand-written SQL (COPY + INSERT)": baseline}
    met = service <= 2 * baseline and peak < 200
    if sliced:
        others[f"django-import-export (from {args.slice:,} rows)"] = statistics.median(
            sliced
        )
        met = met and statistics.median(sliced) >= 50 * service
    write_results(
        args.json,
        benchmark="imports",
        title=f"Member import of a CSV of {args.rows:,} ids into a static segment",
        results=[
            Result(
                path=f"CSV import, {args.rows:,} rows",
                metric="s",
                ours=service,
                runs=services,
                baselines=others,
                target="≤ 2x the SQL, ≥ 50x faster than import-export, RSS < 200 MB",
                met=met,
                extra={
                    "rows/s": round(args.rows / service),
                    "peak RSS MB": round(peak),
                    "RSS before MB": round(before),
                },
            )
        ],
        notes=["django-import-export runs row by row: timed on a slice, scaled"],
    )


def write_ids(path: Path, rows: int, batch: int = 100_000) -> None:
    with path.open("w") as out:
        out.write("id\n")
        for start in range(1, rows + 1, batch):
            stop = min(start + batch, rows + 1)
            out.write("".join(f"c{n}\n" for n in range(start, stop)))


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def timed(fn) -> float:
    started = time.perf_counter()
    fn()
    return time.perf_counter() - started


RUN_NUMBER = itertools.count(1)


def new_segment(name: str):
    name = f"{name} {next(RUN_NUMBER)}"
    return segment_create(name=name, type="static", actor=Actor.system("bench"))


def by_service(path: Path) -> None:
    segment = new_segment("service")
    with path.open("rb") as raw:
        job = import_job_create(
            segment=segment,
            file=raw,
            filename=path.name,
            actor=Actor.system("bench"),
            queue=False,
        )
    job = import_job_run(job_id=job.pk)
    assert job.status == "done" and job.added == job.rows_read, job.error
    assert MembershipChange.objects.filter(segment=segment).count() == job.added


def by_sql(path: Path) -> None:
    segment = new_segment("baseline")
    params = {"segment": segment.pk, "now": timezone.now()}
    with connection.cursor() as cursor:
        for sql in BASELINE_SQL:
            if sql.startswith("COPY"):
                with cursor.cursor.copy(sql) as copy, path.open("rb") as raw:
                    raw.readline()  # the header
                    while chunk := raw.read(1 << 20):
                        copy.write(chunk)
            else:
                cursor.execute(sql, params)


def by_import_export(rows: int) -> None:
    segment = new_segment("import-export")
    customers = Customer.objects.order_by("pk").values_list("pk", flat=True)[:rows]
    data = tablib.Dataset(headers=["id", "segment", "customer", "source"])
    for pk in customers:
        data.append(["", segment.pk, pk, "csv"])
    result = MembershipResource().import_data(data, dry_run=False, raise_errors=True)
    assert not result.has_errors() and segment.memberships.count() == rows


if __name__ == "__main__":
    main()
