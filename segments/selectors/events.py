"""Events: the recent ones, counts per name, and the customers a past trigger event
would have let into an event-triggered segment.

Every query here is served by an index on (name, timestamp), (customer, name,
timestamp) or received_at, and bounded in time, so they stay cheap at millions of
events."""

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
    """Per event name seen in the last 7 days: how many in the last hour, 24 hours
    and 7 days, and when the last one happened; busiest first. One query over the
    (name, timestamp) index, limited to the last 7 days."""
    now = now or timezone.now()
    counts = (
        Event.objects.filter(timestamp__gte=now - LONGEST, timestamp__lte=now)
        .values("name")
        .annotate(
            last_7d=Count("id"),
            last_at=Max("timestamp"),
            last_hour=Count("id", filter=Q(timestamp__gte=now - timedelta(hours=1))),
            last_24h=Count("id", filter=Q(timestamp__gte=now - timedelta(days=1))),
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
