"""Bulk member add through the service against hand-written SQL doing the same work.

The service locks the customers, reads their memberships, inserts the new ones, one
history row each, and enrolls them in the live campaign whose audience the segment
is. The baseline is three INSERT ... SELECT statements writing the same rows with no
checks. Both run in the same process on the same throw-away database; the ratio is
what to watch.

    .venv/bin/python bench/members_add.py                      # SQLite
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/segments \\
        .venv/bin/python bench/members_add.py --customers 200000 --batch 10000
"""

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "segments_site.settings")

import django

django.setup()

from django.db import connection, transaction  # noqa: E402
from django.test.utils import setup_databases, teardown_databases  # noqa: E402
from django.utils import timezone  # noqa: E402

from campaigns.services import campaign_create  # noqa: E402
from segments.models import Customer  # noqa: E402
from segments.services import Actor, segment_create, segment_members_add  # noqa: E402

BASELINE_SQL = [
    """INSERT INTO segments_membership (segment_id, customer_id, source, override,
        is_test, joined_at, updated_at, reference_id, metadata)
       SELECT %(segment)s, id, 'api', 'none', %(false)s, %(now)s, %(now)s, '', '{}'
       FROM segments_customer WHERE id BETWEEN %(lo)s AND %(hi)s""",
    """INSERT INTO segments_membershipchange (segment_id, customer_id, action,
        was_member, is_member, source, override, is_test, actor_type, actor_label,
        reference_id, metadata, description, occurred_at, recorded_at)
       SELECT %(segment)s, id, 'entered', %(false)s, %(true)s, 'api', 'none',
        %(false)s, 'api', 'api: bench', '', '{}', '', %(now)s, %(now)s
       FROM segments_customer WHERE id BETWEEN %(lo)s AND %(hi)s""",
    """INSERT INTO campaigns_enrollment (campaign_id, customer_id, status, source,
        source_segment_id, enrolled_at, removed_by)
       SELECT %(campaign)s, id, 'active', 'segment', %(segment)s, %(now)s, ''
       FROM segments_customer WHERE id BETWEEN %(lo)s AND %(hi)s""",
]


def timed(fn) -> float:
    started = time.perf_counter()
    with transaction.atomic():
        fn()
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--customers", type=int, default=50_000)
    parser.add_argument("--batch", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    databases = setup_databases(verbosity=0, interactive=False)
    try:
        run(args)
    finally:
        teardown_databases(databases, verbosity=0)


def run(args) -> None:
    actor = Actor.system("bench")
    Customer.objects.bulk_create(
        (
            Customer(external_id=f"b{i}", attributes={"n": i})
            for i in range(args.customers)
        ),
        batch_size=5000,
    )
    ids = list(Customer.objects.order_by("pk").values_list("pk", flat=True))
    print(f"{connection.vendor}: {len(ids)} customers, batches of {args.batch}")

    service, baseline = [], []
    for round_ in range(args.repeat):
        lo = ids[(round_ * args.batch) % (len(ids) - args.batch)]
        hi = lo + args.batch - 1
        batch = list(Customer.objects.filter(pk__range=(lo, hi)))
        seg_a, seg_b = (
            segment_create(name=f"{name} {round_}", type="static", actor=actor)
            for name in ("service", "baseline")
        )
        campaign_create(
            name=f"c{round_}", status="active", segments=[seg_a], actor=actor
        )
        other = campaign_create(name=f"d{round_}", status="active", actor=actor)
        params = {
            "segment": seg_b.pk, "campaign": other.pk, "lo": lo, "hi": hi,
            "now": timezone.now(), "true": True, "false": False,
        }  # fmt: skip

        def by_service(seg_a=seg_a, batch=batch):
            segment_members_add(segment=seg_a, customers=batch, actor=actor)

        def by_sql(params=params):
            with connection.cursor() as cursor:
                for sql in BASELINE_SQL:
                    cursor.execute(sql, params)

        service.append(timed(by_service))
        baseline.append(timed(by_sql))
        assert seg_a.memberships.count() == seg_b.memberships.count() == args.batch

    s, b = statistics.median(service), statistics.median(baseline)
    print(f"service  : {s * 1000:8.1f} ms median ({s / args.batch * 1e6:.1f} µs/row)")
    print(f"baseline : {b * 1000:8.1f} ms median (INSERT ... SELECT x3)")
    print(f"ratio    : {s / b:.2f}x the hand-written SQL")


if __name__ == "__main__":
    main()
