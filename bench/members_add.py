"""Bulk member add of 10,000 ids per call: the API and the service against
hand-written SQL doing the same writes.

Each round adds one batch of customers to three new static segments, each the
audience of its own live campaign, in turn (the order rotates every round):

- API: `POST /api/v1/segments/{id}/add_customers` with the batch's external ids,
  through Django's test client in this process (middleware, API key, throttle, JSON
  parsing and validation, the customers' lookup, the service, the answer's
  serializer; no socket and no HTTP server);
- service: `segment_members_add` with the batch's customers already loaded;
- SQL: three INSERT ... SELECT statements taking the same external ids as one array,
  writing the same memberships, history rows and enrollments with no checks.

Each is timed with its commit. Median of the rounds; ids/s and the ratio of each
path's time to the SQL's, on the same database in the same run.

    .venv/bin/python bench/members_add.py                      # SQLite
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/segments \\
        .venv/bin/python bench/members_add.py --customers 100000 --repeat 7
    ... --quick --json /tmp/members_add.json                   # for `make bench`
    ... --profile api                                          # cProfile one call
"""

import argparse
import cProfile
import json
import os
import pstats
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "segments_site.settings")

import django

django.setup()

from django.db import connection, transaction  # noqa: E402
from django.test.utils import (  # noqa: E402
    setup_databases,
    setup_test_environment,
    teardown_databases,
)
from django.utils import timezone  # noqa: E402
from rest_framework.test import APIClient  # noqa: E402

from bench.report import Result, write_results  # noqa: E402
from campaigns.models import Enrollment  # noqa: E402
from campaigns.services import campaign_create  # noqa: E402
from segments.models import Customer, MembershipChange, Segment  # noqa: E402
from segments.services import (  # noqa: E402
    Actor,
    api_key_create,
    segment_create,
    segment_members_add,
)

IDS_PER_SECOND_TARGET = 25_000
RATIO_TARGET = 1.5

# What each statement writes: the same rows as the service, no checks.
MEMBERSHIPS = """INSERT INTO segments_membership (segment_id, customer_id, source,
    override, is_test, joined_at, updated_at, reference_id, metadata)
   SELECT %(segment)s, id, 'api', 'none', %(false)s, %(now)s, %(now)s, '', '{}'
   FROM :customers"""
HISTORY = """INSERT INTO segments_membershipchange (segment_id, customer_id, action,
    was_member, is_member, source, override, is_test, actor_type, actor_label,
    actor_api_key_id, reference_id, metadata, description, occurred_at, recorded_at)
   SELECT %(segment)s, id, 'entered', %(false)s, %(true)s, 'api', 'none',
    %(false)s, 'api', 'api: bench', %(key)s, '', '{}', '', %(now)s, %(now)s
   FROM :customers"""
ENROLLMENTS = """INSERT INTO campaigns_enrollment (campaign_id, customer_id, status,
    source, source_segment_id, enrolled_at, removed_by)
   SELECT %(campaign)s, id, 'active', 'segment', %(segment)s, %(now)s, ''
   FROM :customers"""
# PostgreSQL: one statement, the ids bound once as an array, the customers read
# once. SQLite (no INSERT in WITH): three statements reading the ids from JSON.
POSTGRESQL = (
    "WITH given AS (SELECT id FROM segments_customer WHERE external_id = ANY(%(ids)s)),"
    f" m AS ({MEMBERSHIPS.replace(':customers', 'given')}),"
    f" h AS ({HISTORY.replace(':customers', 'given')}) "
    + ENROLLMENTS.replace(":customers", "given")
)
SQLITE_CUSTOMERS = (
    "segments_customer WHERE external_id IN (SELECT value FROM json_each(%(ids)s))"
)
SQLITE = [
    sql.replace(":customers", SQLITE_CUSTOMERS)
    for sql in (MEMBERSHIPS, HISTORY, ENROLLMENTS)
]


def by_sql(*, segment, campaign, key, external_ids: list[str]) -> None:
    postgresql = connection.vendor == "postgresql"
    params = {
        "segment": segment.pk, "campaign": campaign.pk, "key": key.api_key.pk,
        "now": timezone.now(), "true": True, "false": False,
        "ids": external_ids if postgresql else json.dumps(external_ids),
    }  # fmt: skip
    with transaction.atomic(), connection.cursor() as cursor:
        for sql in [POSTGRESQL] if postgresql else SQLITE:
            cursor.execute(sql, params)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--customers", type=int, default=None)
    parser.add_argument("--batch", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=None)
    parser.add_argument("--quick", action="store_true", help="small data, 3 rounds")
    parser.add_argument("--json", metavar="PATH", help="write the results here")
    parser.add_argument(
        "--profile", choices=["api", "service"], help="cProfile one more call"
    )
    args = parser.parse_args()
    args.customers = args.customers or (30_000 if args.quick else 100_000)
    args.repeat = args.repeat or (3 if args.quick else 7)

    setup_test_environment()  # the test client's host is allowed
    databases = setup_databases(verbosity=0, interactive=False)
    try:
        run(args)
    finally:
        teardown_databases(databases, verbosity=0)


def timed(fn: Callable[[], object]) -> float:
    started = time.perf_counter()
    fn()
    return time.perf_counter() - started


def run(args) -> None:
    actor = Actor.system("bench")
    Customer.objects.bulk_create(
        (
            Customer(external_id=f"b{i}", attributes={"n": i})
            for i in range(args.customers)
        ),
        batch_size=5000,
    )
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    key = api_key_create(name="bench", scopes=["read", "write"], actor=actor)
    client = APIClient()
    client.credentials(HTTP_X_API_KEY=key.key)
    ids = list(Customer.objects.order_by("pk").values_list("pk", flat=True))
    print(
        f"{connection.vendor}: {len(ids)} customers, {args.repeat} rounds of "
        f"{args.batch} ids, load {os.getloadavg()[0]:.2f}"
    )

    def fresh(name: str) -> tuple[Segment, object]:
        segment = segment_create(name=name, type="static", actor=actor)
        campaign = campaign_create(
            name=name, status="active", segments=[segment], actor=actor
        )
        return segment, campaign

    def prepare(round_: int) -> dict[str, Callable[[], object]]:
        lo = (round_ * args.batch) % (len(ids) - args.batch + 1)
        batch = list(Customer.objects.filter(pk__in=ids[lo : lo + args.batch]))
        external_ids = [c.external_id for c in batch]
        body = json.dumps({"ids": external_ids})
        seg_api, _ = fresh(f"api {round_}")
        seg_service, _ = fresh(f"service {round_}")
        seg_sql, campaign_sql = fresh(f"sql {round_}")

        def api():
            response = client.post(
                f"/api/v1/segments/{seg_api.pk}/add_customers",
                body,
                content_type="application/json",
                secure=True,
            )
            assert response.status_code == 200, response.content[:500]
            assert response.json()["added"] == len(batch), response.json()

        def service():
            segment_members_add(segment=seg_service, customers=batch, actor=actor)

        def sql():
            by_sql(
                segment=seg_sql,
                campaign=campaign_sql,
                key=key,
                external_ids=external_ids,
            )

        return (
            {"API": api, "service": service, "SQL": sql},
            [
                seg_api,
                seg_service,
                seg_sql,
            ],
            len(batch),
        )

    times: dict[str, list[float]] = {"API": [], "service": [], "SQL": []}
    for round_ in range(args.repeat):
        paths, segments, size = prepare(round_)
        names = list(paths)
        names = names[round_ % 3 :] + names[: round_ % 3]
        for name in names:
            times[name].append(timed(paths[name]))
        for segment in segments:
            check(segment, size)
    if args.profile:
        paths, _, _ = prepare(args.repeat)
        profiler = cProfile.Profile()
        profiler.runcall(paths["API" if args.profile == "api" else "service"])
        stats = pstats.Stats(profiler)
        stats.sort_stats("cumulative").print_stats(40)
        stats.sort_stats("tottime").print_stats(25)
    report(args, times)


def check(segment: Segment, size: int) -> None:
    """Every path wrote the same rows: size memberships, history rows, enrollments."""
    counts = (
        segment.memberships.count(),
        MembershipChange.objects.filter(segment=segment).count(),
        Enrollment.objects.filter(source_segment=segment).count(),
    )
    assert counts == (size, size, size), (segment.name, counts)


def report(args, times: dict[str, list[float]]) -> None:
    sql = statistics.median(times["SQL"])
    results, notes = [], []
    for name in ("API", "service", "SQL"):
        median = statistics.median(times[name])
        print(
            f"{name:8s}: {median * 1000:7.1f} ms median, "
            f"{args.batch / median:8,.0f} ids/s, {median / sql:.2f}x the SQL  "
            f"(runs: {', '.join(f'{t * 1000:.0f}' for t in times[name])} ms)"
        )
    for name, what in (("API", "through the API"), ("service", "by the service")):
        median = statistics.median(times[name])
        rate, ratio = args.batch / median, median / sql
        results.append(
            {
                "path": f"bulk add of {args.batch:,} ids {what}",
                "metric": "ids/s",
                "higher_is_better": True,
                "ours": round(rate),
                "runs": [round(args.batch / t) for t in times[name]],
                "baselines": {"hand-written SQL": round(args.batch / sql)},
                "target": f"≥ {IDS_PER_SECOND_TARGET:,} ids/s and ≤ "
                f"{RATIO_TARGET}x the SQL's time",
                "met": rate >= IDS_PER_SECOND_TARGET and ratio <= RATIO_TARGET,
                "extra": {
                    "ms per call": round(median * 1000, 1),
                    "SQL ms per call": round(sql * 1000, 1),
                    "x the SQL's time": round(ratio, 2),
                },
            }
        )
    notes.append(
        f"{connection.vendor}, {args.customers:,} customers, {args.repeat} rounds, "
        "each path timed with its commit, order rotated per round; the API through "
        "Django's test client (no HTTP server).",
    )
    notes.append(f"Load average at the end: {os.getloadavg()[0]:.1f}.")
    if args.json:
        write_json(args.json, results, notes)


def write_json(path: str, results: list[dict], notes: list[str]) -> None:
    write_results(
        path,
        benchmark="members_add",
        title="Bulk member add (10,000 ids per call, static segment, live campaign)",
        results=[Result(**result) for result in results],
        notes=notes,
    )


if __name__ == "__main__":
    main()
