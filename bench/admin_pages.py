"""Server time of the dashboard's pages at scale, each beside a baseline.

Data (built once with generate_series, reused unless --rebuild): --customers
customers with attributes, --segments segments, the first holding a quarter of the
customers and the others 1% each, one history row per membership, 200,000 events
over the last week, two live campaigns.

Each page is requested through Django's test client as a superuser, --repeat times,
interleaved with its baseline; the median is reported:

- segments list: ours (correlated counts for the rows of the page) beside the stock
  admin's way (one GROUP BY over all memberships), same columns;
- customer search by email: ours (exact id or email first) beside the broad search
  alone (icontains over five columns); by part of a name: ours (the trigram index)
  beside the same broad search; by an attribute's value (key:value);
- the big lists (customers, members, history, events): ours (a count capped at
  10,000 rows, then estimated; no date hierarchy) beside the stock paginator's
  exact COUNT(*) and the date hierarchy's SELECT DISTINCT.

The data is vacuumed and analyzed after it is built, as autovacuum would have
done on a live database (index-only scans need the visibility map).

It runs only on a PostgreSQL database whose name ends in "_bench":

    createdb -h 127.0.0.1 -U postgres segments_bench
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/segments_bench \\
        .venv/bin/python manage.py migrate
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/segments_bench \\
        .venv/bin/python bench/admin_pages.py [--customers 1000000] [--rebuild]
"""

import argparse
import os
import statistics
import sys
import time
from contextlib import ExitStack
from pathlib import Path
from unittest import mock

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "segments_site.settings")
os.environ.setdefault("DJANGO_SECURE", "false")

import django

django.setup()

from django.conf import settings  # noqa: E402
from django.contrib.admin import ModelAdmin  # noqa: E402
from django.contrib.auth import get_user_model  # noqa: E402
from django.core.paginator import Paginator  # noqa: E402
from django.db import connection  # noqa: E402
from django.db.models import Count, Q  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import setup_test_environment  # noqa: E402
from django.urls import reverse  # noqa: E402
from django.utils.http import urlencode  # noqa: E402

from bench.report import (  # noqa: E402
    Result,
    add_bench_args,
    quick_defaults,
    write_results,
)
from segments.admin.customers import CustomerAdmin, EventAdmin  # noqa: E402
from segments.admin.memberships import (  # noqa: E402
    MembershipAdmin,
    MembershipChangeAdmin,
)
from segments.admin.segments import SegmentAdmin  # noqa: E402
from segments.models import Customer, Membership, Segment  # noqa: E402

BUILD = [
    "TRUNCATE segments_customer, segments_segment, campaigns_campaign"
    " RESTART IDENTITY CASCADE",
    """INSERT INTO segments_customer (external_id, email, phone, first_name,
        last_name, attributes, created_at, updated_at, last_seen_at)
       SELECT 'c' || i, 'user' || i || '@example.com', '', 'First' || i %% 997,
        'Last' || i %% 991,
        jsonb_build_object('channel', (ARRAY['Facebook','Google','TikTok'])[i %% 3 + 1],
          'spend', i %% 500, 'plan', (ARRAY['free','pro'])[i %% 2 + 1]),
        now() - (i %% 700) * interval '1 day', now(),
        now() - (i %% 90) * interval '1 day'
       FROM generate_series(1, %(customers)s) i""",
    """INSERT INTO segments_segment (name, description, type, trigger_event,
        created_at, updated_at, archived, compute_state, compute_attempts,
        compute_error, watched_fields, watched_events, watched_segments, time_relative)
       SELECT 'Segment ' || s, '', 'static', '', now(), now(), false, 'idle', 0, '',
        '[]', '[]', '[]', false FROM generate_series(1, %(segments)s) s""",
    # The first segment holds a quarter of the customers, the others 1% each.
    """INSERT INTO segments_membership (segment_id, customer_id, source, override,
        is_test, joined_at, updated_at, reference_id, metadata)
       SELECT s.id, c.id, 'api', 'none', false,
        now() - (c.id %% 60) * interval '1 day', now(), '', '{}'::jsonb
       FROM segments_segment s JOIN segments_customer c
        ON s.name = 'Segment 1' AND c.id %% 4 = 0
       UNION ALL
       SELECT s.id, c.id, 'api', 'none', false,
        now() - (c.id %% 60) * interval '1 day', now(), '', '{}'::jsonb
       FROM segments_segment s JOIN segments_customer c
        ON c.id %% 100 = s.id %% 100 WHERE s.name <> 'Segment 1'""",
    """INSERT INTO segments_membershipchange (segment_id, customer_id, action,
        was_member, is_member, source, override, is_test, actor_type, actor_label,
        reference_id, metadata, description, occurred_at, recorded_at)
       SELECT segment_id, customer_id, 'entered', false, true, source, override,
        false, 'api', 'api: bench', '', '{}', '', joined_at, joined_at
       FROM segments_membership""",
    """INSERT INTO segments_event (customer_id, name, properties, timestamp,
        received_at, message_id, outcome)
       SELECT 1 + i %% %(customers)s,
        (ARRAY['Sign Up','purchase','App Opened'])[i %% 3 + 1],
        jsonb_build_object('amount', i %% 90),
        now() - (i %% 10080) * interval '1 minute',
        now() - (i %% 10080) * interval '1 minute', '', '{}'
       FROM generate_series(1, 200000) i""",
    """INSERT INTO campaigns_campaign (name, description, status, created_at,
        updated_at) VALUES ('Spring', '', 'active', now(), now()),
        ('Summer', '', 'active', now(), now())""",
    """INSERT INTO campaigns_campaign_segments (campaign_id, segment_id)
       SELECT c.id, s.id FROM campaigns_campaign c, segments_segment s
       WHERE s.name IN ('Segment 1', 'Segment 2')""",
    # Outside a transaction (autocommit): what autovacuum does on a live database.
    "VACUUM ANALYZE",
]


def build(customers: int, segments: int) -> None:
    started = time.perf_counter()
    with connection.cursor() as cursor:
        for sql in BUILD:
            cursor.execute(sql, {"customers": customers, "segments": segments})
    print(f"built in {time.perf_counter() - started:.0f} s")


def stock_segment_queryset(self, request):
    """The stock admin's way: one aggregate over all memberships for the page."""
    members = Count(
        "memberships", filter=~Q(memberships__override=Membership.Override.BLOCK)
    )
    return (
        ModelAdmin.get_queryset(self, request)
        .annotate(member_count=members, new_week=members, new_month=members)
        .annotate(campaign_count=Count("campaigns", distinct=True))
        .order_by("name")
    )


def broad_search(self, request, queryset, term):
    return ModelAdmin.get_search_results(self, request, queryset, term)


# The stock change list: Django's paginator (an exact COUNT(*)) and the date
# hierarchy (a SELECT DISTINCT of years or months over the list), per admin.
STOCK_LISTS = {
    CustomerAdmin: "created_at",
    MembershipAdmin: "joined_at",
    MembershipChangeAdmin: "occurred_at",
    EventAdmin: "timestamp",
}


def stock_list(admin_class):
    return [
        (admin_class, "paginator", Paginator),
        (admin_class, "date_hierarchy", STOCK_LISTS[admin_class]),
    ]


def timed(client: Client, url: str) -> float:
    started = time.perf_counter()
    response = client.get(url)
    elapsed = (time.perf_counter() - started) * 1000
    assert response.status_code == 200, (url, response.status_code)
    return elapsed


RESULTS: list[Result] = []
TARGET_MS = 300


def compare(client, name, url, baseline_url=None, patch=(), repeat=5):
    """`patch`: (object, attribute, value) triples that make the baseline."""
    ours, base = [], []
    for _ in range(repeat):
        ours.append(timed(client, url))
        if patch:
            with ExitStack() as stack:
                for target in patch:
                    stack.enter_context(mock.patch.object(*target))
                base.append(timed(client, baseline_url or url))
        elif baseline_url:
            base.append(timed(client, baseline_url))
    mine = statistics.median(ours)
    line = f"| {name} | {mine:,.0f} ms |"
    baselines = {}
    if base:
        theirs = statistics.median(base)
        line += f" {theirs:,.0f} ms | {theirs / mine:.1f}x |"
        baselines["stock admin"] = theirs
    else:
        line += " | |"
    print(line)
    RESULTS.append(
        Result(
            path=name,
            metric="ms",
            ours=mine,
            runs=ours,
            baselines=baselines,
            target=f"median < {TARGET_MS} ms",
            met=mine < TARGET_MS,
        )
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--customers", type=int, help="1,000,000; --quick 20,000")
    parser.add_argument("--segments", type=int, default=100)
    parser.add_argument("--repeat", type=int, help="5; --quick 3")
    parser.add_argument("--rebuild", action="store_true")
    add_bench_args(parser)
    args = parser.parse_args()
    quick_defaults(args, customers=(1_000_000, 20_000), repeat=(5, 3))
    if not settings.DATABASES["default"]["NAME"].endswith("_bench"):
        sys.exit("Run on a PostgreSQL database whose name ends in _bench.")
    if args.rebuild or Customer.objects.count() != args.customers:
        build(args.customers, args.segments)
    setup_test_environment()
    settings.ALLOWED_HOSTS = ["testserver"]
    user, _ = get_user_model().objects.get_or_create(
        username="bench", defaults={"is_staff": True, "is_superuser": True}
    )
    client = Client()
    client.force_login(user)
    big = Segment.objects.get(name="Segment 1")
    customer = Customer.objects.get(external_id="c4")

    def url(name, *a):
        return reverse(f"admin:{name}", args=a)

    members = url("segments_membership_changelist") + f"?segment__id__exact={big.pk}"
    customers = url("segments_customer_changelist")
    history = url("segments_membershipchange_changelist")
    events = url("segments_event_changelist")
    n = args.repeat
    print("| page | ours (median) | baseline | ratio |")
    print("|---|---|---|---|")
    compare(client, "home (dashboard)", url("index"), repeat=n)
    compare(
        client,
        "segments list vs one GROUP BY",
        url("segments_segment_changelist"),
        patch=[(SegmentAdmin, "get_queryset", stock_segment_queryset)],
        repeat=n,
    )
    compare(
        client,
        f"segment page ({big.memberships.count():,} members)",
        url("segments_segment_change", big.pk),
        repeat=n,
    )
    compare(
        client,
        "members of that segment vs stock list",
        members,
        patch=stock_list(MembershipAdmin),
        repeat=n,
    )
    compare(
        client,
        "customers list vs stock list",
        customers,
        patch=stock_list(CustomerAdmin),
        repeat=n,
    )
    for what, term in [
        ("by email", "user123457@example.com"),
        ("by part of a name", "First123 Last45"),
        ("by part of an email", "user12345"),
    ]:
        compare(
            client,
            f"customer search {what} vs broad search",
            f"{customers}?{urlencode({'q': term})}",
            patch=[(CustomerAdmin, "get_search_results", broad_search)],
            repeat=n,
        )
    compare(
        client,
        "customer search by attribute (plan:pro spend:42)",
        f"{customers}?{urlencode({'q': 'plan:pro spend:42'})}",
        repeat=n,
    )
    compare(
        client, "customer page", url("segments_customer_change", customer.pk), repeat=n
    )
    compare(
        client, "why page", url("segments_segment_why", big.pk, customer.pk), repeat=n
    )
    compare(client, "ingestion page", url("segments_event_live"), repeat=n)
    compare(
        client,
        "membership history vs stock list",
        history,
        patch=stock_list(MembershipChangeAdmin),
        repeat=n,
    )
    compare(client, "one customer's history (search)", f"{history}?q=c400", repeat=n)
    compare(
        client,
        "events list vs stock list",
        events,
        patch=stock_list(EventAdmin),
        repeat=n,
    )
    if args.json:
        write_results(
            args.json,
            benchmark="admin_pages",
            title=f"Dashboard pages, {args.customers:,} customers, "
            f"{args.segments} segments (server time, test client)",
            results=RESULTS,
            notes=[
                f"median of {n}, each page interleaved with its baseline: the "
                "stock admin's way (one GROUP BY for the segments list, exact "
                "COUNT(*) and date hierarchy for the big lists, broad icontains "
                "search)"
            ],
        )


if __name__ == "__main__":
    main()
