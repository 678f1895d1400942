"""What arrives: events per name over the last hour, day and week, and the latest."""

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db.models import Count, Max, Q
from django.utils import timezone

from segments.models import Event

LIVE_ROWS = 50


@dataclass(frozen=True)
class EventNameCounts:
    name: str
    last_hour: int
    last_day: int
    last_week: int
    last_received_at: datetime


def event_name_counts(*, now: datetime | None = None) -> list[EventNameCounts]:
    """Each event name received in the last 7 days, the most recent first: one
    range read on the received_at index."""
    now = now or timezone.now()
    rows = (
        Event.objects.filter(received_at__gte=now - timedelta(days=7))
        .values("name")
        .annotate(
            last_hour=Count("pk", filter=Q(received_at__gte=now - timedelta(hours=1))),
            last_day=Count("pk", filter=Q(received_at__gte=now - timedelta(days=1))),
            last_week=Count("pk"),
            last_received_at=Max("received_at"),
        )
        .order_by("-last_received_at")
    )
    return [EventNameCounts(**row) for row in rows]


def events_latest(
    *, name: str = "", customer: str = "", limit: int = LIVE_ROWS
) -> list[Event]:
    """The latest events received, by name and customer (external id) if given."""
    events = Event.objects.select_related("customer").order_by("-received_at", "-pk")
    if name:
        events = events.filter(name=name)
    if customer:
        events = events.filter(customer__external_id=customer)
    return list(events[:limit])
