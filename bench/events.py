"""Event ingestion: batches through events_ingest beside a bare multi-row INSERT of
the same events, single events from 8 concurrent clients, and the cost of segments
that do not mention the event.

Setup: 100 segments, of which 5 are triggered by the benchmark's event (and are the
audience of a live campaign) and 5 are rule segments with a behaviour on it; a
webhook endpoint takes every change (rows queued, not sent). Every batch event
enters its (new to the segment) customer: memberships, history, enrollments and
webhook rows are written. Then 900 more segments that do not mention the event are
added and the batch run again.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/segments \\
        .venv/bin/python bench/events.py [--quick] [--json results.json]

The statements of one batch and of one single event are counted too (Django's
CaptureQueriesContext around one untimed call each).
"""

import argparse
import multiprocessing
import os
import statistics
import sys
import threading
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "segments_site.settings")
os.environ.setdefault("WEBHOOKS_DELIVERY", "off")

import django

django.setup()

from django.db import (  # noqa: E402
    close_old_connections,
    connection,
    connections,
    transaction,
)
from django.test.utils import (  # noqa: E402
    CaptureQueriesContext,
    setup_databases,
    teardown_databases,
)
from django.utils import timezone  # noqa: E402

from bench.report import Result, write_results  # noqa: E402
from campaigns.services import campaign_create  # noqa: E402
from segments.models import Customer, Event, Membership  # noqa: E402
from segments.services import (  # noqa: E402
    Actor,
    event_ingest,
    events_ingest,
    segment_create,
)
from webhooks.models import WebhookEndpoint, WebhookMessage  # noqa: E402

ACTOR = Actor.system("bench")
NAME = "Sign Up"
CLIENTS = 8


TITLE = "Event ingestion (events_ingest beside a bare INSERT; single events)"
QUICK = {"batch": 200, "rounds": 2, "singles": 5, "signups": 50, "more": 200}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--batch", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--singles", type=int, default=50, help="per client")
    parser.add_argument("--signups", type=int, default=200, help="one batch")
    parser.add_argument("--more", type=int, default=900, help="unrelated, added")
    parser.add_argument("--quick", action="store_true", help="small, under a minute")
    parser.add_argument("--json", help="write the results there (bench format)")
    args = parser.parse_args()
    if args.quick:
        for name, value in QUICK.items():
            setattr(args, name, value)
    databases = setup_databases(verbosity=0, interactive=False)
    try:
        figures = run(args)
    finally:
        teardown_databases(databases, verbosity=0)
    if args.json:
        write_json(args.json, figures, args)


def run(args) -> dict:
    figures: dict = {"load": os.getloadavg()[0]}
    audience = make_segments(unrelated=90)
    campaign_create(name="Welcome", status="active", segments=audience, actor=ACTOR)
    WebhookEndpoint.objects.create(
        url="http://127.0.0.1:9/", event_types=["segment.entered", "segment.left"]
    )
    print(f"{connection.vendor}: batches of {args.batch}, {args.rounds} rounds")
    ingest_100, insert = batch_rounds(args, "a")
    figures["batch"] = (ingest_100, insert)
    report_batch("100 segments", ingest_100, insert, args.batch)
    figures["statements"] = statements(args.batch)
    print(
        "statements: {batch} per batch of {size}, {single} per single event".format(
            size=args.batch, **figures["statements"]
        )
    )
    signups = signup_batch(args.signups)
    figures["signups"] = signups
    known = statistics.median(ingest_100) / args.batch
    print(
        f"sign-ups (unknown customers, created by their event), batch of "
        f"{args.signups}: {signups * 1000:,.0f} ms "
        f"({args.signups / signups:,.0f} events/s), "
        f"{signups / args.signups / known:.1f}x the time per known customer's event"
    )
    alone = figures["alone"] = singles(1, args.singles)
    print(f"1 client, single events: {percentiles(alone)} event -> committed")
    together = figures["threads"] = singles(CLIENTS, args.singles)
    print(f"8 clients, single events: {percentiles(together)} event -> committed")
    apart = figures["processes"] = singles_in_processes(CLIENTS, args.singles)
    print(f"8 client processes, single events: {percentiles(apart)} event -> committed")
    make_segments(unrelated=args.more, prefix="more")
    ingest_1000, _ = batch_rounds(args, "b")
    figures["batch_1000"] = ingest_1000
    report_batch(f"{100 + args.more:,} segments", ingest_1000, insert, args.batch)
    change = statistics.median(ingest_1000) / statistics.median(ingest_100) - 1
    print(f"100 -> {100 + args.more:,} segments: batch time {change:+.1%}")
    print(
        f"rows: {Event.objects.count()} events, {Membership.objects.count()} "
        f"memberships, {WebhookMessage.objects.count()} webhook messages"
    )
    return figures


def statements(size: int) -> dict[str, int]:
    """The statements of one batch of `size` events and of one single event, each
    entering its customers as the timed ones do (untimed: counting slows it)."""
    ids = new_customers(size + 1, "q")
    events = [
        {"user_id": i, "name": NAME, "properties": {"plan": "pro"}} for i in ids[:-1]
    ]
    with CaptureQueriesContext(connection) as batch:
        events_ingest(actor=ACTOR, events=events)
    with CaptureQueriesContext(connection) as single:
        event_ingest(
            actor=ACTOR, user_id=ids[-1], name=NAME, properties={"plan": "pro"}
        )
    return {
        "batch": len(batch.captured_queries),
        "single": len(single.captured_queries),
    }


def make_segments(*, unrelated: int, prefix: str = "seg") -> list:
    """5 triggered + 5 behaviour segments (first call), and unrelated ones."""
    made = []
    if prefix == "seg":
        for i in range(5):
            made.append(
                segment_create(
                    name=f"trigger {i}",
                    type="event",
                    trigger_event=NAME,
                    rules={
                        "conditions": [
                            {
                                "field": "event.plan",
                                "operator": "equals",
                                "value": "pro",
                            }
                        ]
                    },
                    actor=ACTOR,
                )
            )
            rules = {
                "conditions": [{"event": NAME, "operator": "at_least", "value": 1}]
            }
            segment_create(name=f"behaviour {i}", type="rule", rules=rules, actor=ACTOR)
    for i in range(unrelated):
        rules = {
            "match": "any",
            "conditions": [
                {"field": "attributes.plan", "operator": "equals", "value": f"p{i}"},
                {"event": f"other {i}", "operator": "at_least", "value": 2},
            ],
        }
        segment_create(name=f"{prefix} {i}", type="rule", rules=rules, actor=ACTOR)
    return made


def new_customers(count: int, tag: str) -> list[str]:
    ids = [f"{tag}-{uuid.uuid4().hex[:12]}" for _ in range(count)]
    Customer.objects.bulk_create(
        [Customer(external_id=i, attributes={"plan": "free"}) for i in ids],
        batch_size=5000,
    )
    return ids


def batch_rounds(args, tag: str) -> tuple[list[float], list[tuple[float, float]]]:
    ingest: list[float] = []
    insert: list[tuple[float, float]] = []
    for _ in range(args.rounds):
        ids = new_customers(args.batch, tag)
        events = [
            {"user_id": i, "name": NAME, "properties": {"plan": "pro"},
             "message_id": f"m-{i}"}
            for i in ids
        ]  # fmt: skip
        started = time.perf_counter()
        result = events_ingest(actor=ACTOR, events=events)
        ingest.append(time.perf_counter() - started)
        assert len(result.accepted) == args.batch, result.rejected
        insert.append(bare_insert(ids))
    return ingest, insert


def signup_batch(count: int) -> float:
    """One batch of events naming customers never seen: each creates its customer
    (who is looked at by every rule segment) before the event is stored."""
    events = [
        {"user_id": f"new-{uuid.uuid4().hex[:12]}", "name": NAME,
         "properties": {"plan": "pro"}, "customer": {"attributes": {"plan": "free"}}}
        for _ in range(count)
    ]  # fmt: skip
    started = time.perf_counter()
    result = events_ingest(actor=ACTOR, events=events)
    elapsed = time.perf_counter() - started
    assert len(result.accepted) == count, result.rejected
    return elapsed


def bare_insert(ids: list[str]) -> tuple[float, float]:
    """The same events, one multi-row INSERT, no checks: its time to the end of
    the statement in a rolled-back transaction (the first baseline), and its
    time to COMMIT, as events_ingest is timed; the committed rows are then
    deleted, so the next rounds see the same table."""
    pks = dict(
        Customer.objects.filter(external_id__in=ids).values_list("external_id", "pk")
    )
    now = timezone.now()
    rows = [(pks[i], NAME, '{"plan": "pro"}', now, now, f"x-{i}", "{}") for i in ids]
    sql = (
        "INSERT INTO segments_event (customer_id, name, properties, timestamp, "
        "received_at, message_id, outcome) VALUES "
        + ", ".join(["(%s, %s, %s, %s, %s, %s, %s)"] * len(rows))
    )
    params = [value for row in rows for value in row]
    started = time.perf_counter()
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
        rolled_back = time.perf_counter() - started
        transaction.set_rollback(True)
    started = time.perf_counter()
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql, params)
    committed = time.perf_counter() - started
    Event.objects.filter(message_id__in=[f"x-{i}" for i in ids]).delete()
    return rolled_back, committed


def singles(clients: int, per_client: int) -> list[float]:
    """Each client (a thread with its own connection) sends its events one at a
    time; latency is the call's time, which ends with the commit of the event,
    memberships and enrollments."""
    ids = new_customers(clients * per_client, "s")
    latencies: list[float] = []
    lock = threading.Lock()
    barrier = threading.Barrier(clients)

    def client(mine: list[str]) -> None:
        try:
            barrier.wait()
            for user_id in mine:
                started = time.perf_counter()
                event_ingest(
                    actor=ACTOR, user_id=user_id, name=NAME, properties={"plan": "pro"}
                )
                with lock:
                    latencies.append(time.perf_counter() - started)
        finally:
            close_old_connections()
            connection.close()

    threads = [
        threading.Thread(target=client, args=(ids[c::clients],)) for c in range(clients)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return latencies


def singles_in_processes(clients: int, per_client: int) -> list[float]:
    """The same with each client a process of its own, as separate server
    workers would be: no interpreter lock shared between the clients."""
    ids = new_customers(clients * per_client, "p")
    connections.close_all()  # each forked process opens its own
    context = multiprocessing.get_context("fork")
    barrier = context.Barrier(clients)
    results = context.Queue()
    processes = [
        context.Process(
            target=_process_client, args=(ids[c::clients], barrier, results)
        )
        for c in range(clients)
    ]
    for process in processes:
        process.start()
    latencies = [latency for _ in processes for latency in results.get()]
    for process in processes:
        process.join()
    return latencies


def _process_client(mine: list[str], barrier, results) -> None:
    latencies = []
    barrier.wait()
    for user_id in mine:
        started = time.perf_counter()
        event_ingest(
            actor=ACTOR, user_id=user_id, name=NAME, properties={"plan": "pro"}
        )
        latencies.append(time.perf_counter() - started)
    connection.close()
    results.put(latencies)


def percentiles(latencies: list[float]) -> str:
    p50, p99 = at(latencies, 0.5) * 1000, at(latencies, 0.99) * 1000
    return f"p50 {p50:.1f} ms, p99 {p99:.1f} ms"


def at(latencies: list[float], share: float) -> float:
    ordered = sorted(latencies)
    return ordered[max(0, min(len(ordered) - 1, round(len(ordered) * share) - 1))]


def report_batch(label: str, ingest: list[float], insert: list, n: int):
    i = statistics.median(ingest)
    b = statistics.median(rolled_back for rolled_back, _ in insert)
    c = statistics.median(committed for _, committed in insert)
    print(
        f"{label}: events_ingest {i * 1000:.0f} ms ({n / i:,.0f} events/s); "
        f"bare INSERT {b * 1000:.0f} ms ({n / b:,.0f} events/s), ratio {i / b:.1f}x; "
        f"bare INSERT committed {c * 1000:.0f} ms, ratio {i / c:.1f}x"
    )


def write_json(path: str, figures: dict, args) -> None:
    """The results in the shared bench format (bench/report.py)."""
    n = args.batch
    ingest, insert = figures["batch"]
    rate = [n / t for t in ingest]
    committed = statistics.median(c for _, c in insert)
    rolled_back = statistics.median(b for b, _ in insert)
    ours = statistics.median(rate)
    ratio = statistics.median(ingest) / committed
    counts = figures["statements"]
    ms = 1000

    def latency(path: str, key: str, target: str | None, limit: float | None):
        values = figures[key]
        p99 = at(values, 0.99) * ms
        return {
            "path": path,
            "metric": "ms p99",
            "higher_is_better": False,
            "ours": round(p99, 1),
            "runs": [round(p99, 1)],
            "baselines": {},
            "target": target,
            "met": None if limit is None else p99 < limit,
            "extra": {
                "p50 ms": round(at(values, 0.5) * ms, 1),
                "events": len(values),
                "statements per event": counts["single"],
            },
        }

    change = statistics.median(figures["batch_1000"]) / statistics.median(ingest) - 1
    results = [
        {
            "path": f"batch of {n:,} events, 100 segments",
            "metric": "events/s",
            "higher_is_better": True,
            "ours": round(ours, 1),
            "runs": [round(r, 1) for r in rate],
            "baselines": {
                "bare INSERT, committed": round(n / committed, 1),
                "bare INSERT, rolled back": round(n / rolled_back, 1),
            },
            "target": ">= 3,000 events/s and within 3x of the committed bare INSERT",
            "met": ours >= 3000 and ratio <= 3,
            "extra": {
                "ratio to committed bare INSERT": round(ratio, 1),
                "statements per batch": counts["batch"],
            },
        },
        latency("single event, 1 client", "alone", None, None),
        latency("single events, 8 client processes", "processes", "< 50 ms", 50),
        latency("single events, 8 client threads", "threads", "< 50 ms", 50),
        {
            "path": f"batch time, 100 -> {100 + args.more:,} segments",
            "metric": "% change",
            "higher_is_better": False,
            "ours": round(change * 100, 1),
            "runs": [round(change * 100, 1)],
            "baselines": {},
            "target": "< 20%",
            "met": change < 0.2,
            "extra": {},
        },
        {
            "path": f"sign-ups: a batch of {args.signups:,} unknown customers",
            "metric": "events/s",
            "higher_is_better": True,
            "ours": round(args.signups / figures["signups"], 1),
            "runs": [round(args.signups / figures["signups"], 1)],
            "baselines": {},
            "target": None,
            "met": None,
            "extra": {},
        },
    ]
    notes = [
        f"load average {figures['load']:.1f} at the start; {connection.vendor}",
        f"statements: {counts['batch']} per batch of {n:,}, "
        f"{counts['single']} per single event",
    ]
    write_results(
        path,
        benchmark="events",
        title=TITLE,
        results=[Result(**result) for result in results],
        notes=notes,
    )


if __name__ == "__main__":
    main()
