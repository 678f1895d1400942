"""Behaviour conditions: the compiled correlated EXISTS against the IN forms.

"Performed X at least N times" can be written as `id IN (SELECT customer_id ...
GROUP BY customer_id HAVING count(*) >= N)` or as a correlated `EXISTS`. The
engine compiles EXISTS: PostgreSQL turns (NOT) EXISTS into a semi- or anti-join,
while NOT IN (subquery) degrades to a rescan per customer once the ids outgrow
work_mem, and for one customer (the incremental path, on every upsert and event)
EXISTS probes that customer's events only. Timed: a count over every customer (the
full recompute's matching) and a test of one customer (the incremental path).

Uses the customers of bench/recompute.py's database and adds 1.5M events to it once
(3 per even customer: 2 page views, 1 purchase). Statements stop after 60 s.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/segments_bench \\
        .venv/bin/python bench/behaviours.py
"""

import argparse
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "segments_site.settings")

import django

django.setup()

from django.db import OperationalError, connection  # noqa: E402
from django.db.models import Count, Q  # noqa: E402
from django.utils import timezone  # noqa: E402

from bench.report import Result, add_bench_args, write_results  # noqa: E402
from segments.models import Customer, Event  # noqa: E402
from segments.rules import compile_q, parse_rule, plan  # noqa: E402
from segments.selectors import rule_sources  # noqa: E402

CASES = {
    "at_least 2 page_view": (
        {"event": "page_view", "operator": "at_least", "value": 2},
        lambda grouped, events: Q(
            pk__in=grouped.filter(n__gte=2).values("customer_id")
        ),
    ),
    "not_performed purchase": (
        {"event": "purchase", "operator": "not_performed"},
        lambda grouped, events: ~Q(pk__in=events.values("customer_id")),
    ),
    "at_most 1 purchase": (
        {"event": "purchase", "operator": "at_most", "value": 1},
        lambda grouped, events: (
            ~Q(pk__in=grouped.filter(n__gt=1).values("customer_id"))
        ),
    ),
}
EVENTS_SQL = """
INSERT INTO segments_event (customer_id, name, properties, timestamp, received_at,
                            message_id, outcome)
SELECT c.id, CASE WHEN g % 3 = 0 THEN 'purchase' ELSE 'page_view' END,
       jsonb_build_object('amount', (c.id * 7 + g) % 200),
       now() - ((c.id + g) % 90) * interval '1 day', now(), '', '{}'
FROM segments_customer c, generate_series(1, 3) g WHERE c.id % 2 = 0
"""


TIMEOUT_S = 60


def timed(run, repeat=2):
    best = None
    for _ in range(repeat):
        started = time.perf_counter()
        try:
            with connection.cursor() as cursor:
                cursor.execute(f"SET statement_timeout = '{TIMEOUT_S}s'")
            result = run()
        except OperationalError:
            return "timeout", float(TIMEOUT_S)
        took = time.perf_counter() - started
        best = took if best is None else min(best, took)
    return result, best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_bench_args(parser)  # --quick: the same (the customers are recompute's)
    args = parser.parse_args()
    name = connection.settings_dict["NAME"]
    if connection.vendor != "postgresql" or not name.endswith("_bench"):
        sys.exit("Run on a PostgreSQL database whose name ends in _bench.")
    if not Customer.objects.exists():
        sys.exit("No customers: run bench/recompute.py first.")
    if not Event.objects.exists():
        with connection.cursor() as cursor:
            cursor.execute(EVENTS_SQL)
            cursor.execute("ANALYZE segments_event")
    print(f"{Customer.objects.count():,} customers, {Event.objects.count():,} events")
    now = timezone.now()
    one = Customer.objects.order_by("pk").values_list("pk", flat=True)[500]
    results = []
    for label, (condition, in_form) in CASES.items():
        compiled = compile_q(
            plan(parse_rule({"conditions": [condition]}), now), rule_sources()
        )
        events = Event.objects.order_by().filter(name=condition["event"])
        old = in_form(events.values("customer_id").annotate(n=Count("pk")), events)
        rows, exists_all = timed(Customer.objects.filter(compiled).count)
        in_rows, in_all = timed(Customer.objects.filter(old).count)
        _, exists_one = timed(Customer.objects.filter(compiled, pk=one).exists)
        _, in_one = timed(Customer.objects.filter(old, pk=one).exists)
        print(
            f"{label}: {rows} customers\n"
            f"  all customers: EXISTS {exists_all * 1000:,.0f} ms, "
            f"IN {in_all * 1000:,.0f} ms ({in_rows})\n"
            f"  one customer:  EXISTS {exists_one * 1000:,.1f} ms, "
            f"IN {in_one * 1000:,.1f} ms"
        )
        stopped = (
            {"IN form": f"stopped at {TIMEOUT_S} s"} if in_rows == "timeout" else {}
        )
        results += [
            Result(
                path=f"{label}: count over all customers",
                metric="ms",
                ours=exists_all * 1000,
                baselines={"IN (subquery)": in_all * 1000},
                extra={"customers": rows, **stopped},
            ),
            Result(
                path=f"{label}: one customer",
                metric="ms",
                ours=exists_one * 1000,
                baselines={"IN (subquery)": in_one * 1000},
            ),
        ]
    if args.json:
        write_results(
            args.json,
            benchmark="behaviours",
            title="Behaviour conditions: correlated EXISTS vs IN (subquery)",
            results=results,
            notes=[
                f"{Customer.objects.count():,} customers, "
                f"{Event.objects.count():,} events; best of 2 (a statement stops "
                f"after {TIMEOUT_S} s)"
            ],
        )


if __name__ == "__main__":
    main()
