"""Events: the recent ones, counts per name, and the customers a past trigger event
would have let into an event-triggered segment.

Every query here is served by an index on (name, timestamp), (customer, name,
timestamp) or (received_at, name), and bounded in time, so they stay cheap at
millions of events."""

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db.models import Count, Max, Q, QuerySet
from django.utils import timezone

from segments.models import Customer, Event, Segment
from segments.rules import compile_event_q, plan

from .rules import rule_sources, segment_rule_spec

RECENT_LIMIT = 100
LONGEST = timedelta(days=7)


def events_recent(
    *,
    name: str | None = None,
    customer: Customer | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    limit: int = RECENT_LIMIT,
) -> QuerySet[Event]:
    """The latest events received, newest first, with their customer; filtered by
    name, customer and a time range (of `timestamp`)."""
    events = Event.objects.select_related("customer")
    if name:
        events = events.filter(name=name)
    if customer is not None:
        events = events.filter(customer=customer)
    if since is not None:
        events = events.filter(timestamp__gte=since)
    if until is not None:
        events = events.filter(timestamp__lt=until)
    return events.order_by("-timestamp", "-id")[:limit]


@dataclass(frozen=True)
class EventNameCounts:
    name: str
    last_hour: int
    last_24h: int
    last_7d: int
    last_at: datetime


def event_name_counts(*, now: datetime | None = None) -> list[EventNameCounts]:
    """Per event name received in the last 7 days: how many arrived in the last
    hour, 24 hours and 7 days, and when the last one arrived; busiest first.

    By arrival (`received_at`), not by the event's own timestamp: a batch of last
    month's events sent today arrived today. One index-only scan of the last 7
    days of the (received_at, name) index."""
    now = now or timezone.now()
    counts = (
        Event.objects.filter(received_at__gte=now - LONGEST, received_at__lte=now)
        .values("name")
        .annotate(
            last_7d=Count("received_at"),
            last_at=Max("received_at"),
            last_hour=Count(
                "received_at", filter=Q(received_at__gte=now - timedelta(hours=1))
            ),
            last_24h=Count(
                "received_at", filter=Q(received_at__gte=now - timedelta(days=1))
            ),
        )
        .order_by("-last_7d", "name")
    )
    return [
        EventNameCounts(
            name=row["name"],
            last_hour=row["last_hour"],
            last_24h=row["last_24h"],
            last_7d=row["last_7d"],
            last_at=row["last_at"],
        )
        for row in counts
    ]


def event_names_recent(*, now: datetime | None = None) -> list[str]:
    """The names of the events received in the last 7 days, in order: from the
    (received_at, name) index, without reading older events."""
    now = now or timezone.now()
    names = Event.objects.filter(received_at__gte=now - LONGEST).values_list(
        "name", flat=True
    )
    return sorted(set(names.distinct().order_by()))


def event_segment_candidates(
    *, segment: Segment, since: datetime | None = None
) -> QuerySet[Customer]:
    """The customers with a past trigger event of this event-triggered segment
    (since `since`) for which its conditions hold: who a backfill lets in. The
    preview counts the same customers."""
    now = timezone.now()
    triggers = Event.objects.filter(name=segment.trigger_event).order_by()
    if since is not None:
        triggers = triggers.filter(timestamp__gte=since)
    spec = segment_rule_spec(segment=segment)
    if spec is not None:
        triggers = triggers.filter(compile_event_q(plan(spec, now), rule_sources()))
    return Customer.objects.filter(pk__in=triggers.values("customer_id"))
