"""Reads for the admin home: counts, growth, computations in trouble, activity."""

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import F, Q, QuerySet
from django.utils import timezone

from segments.models import Customer, Event, MembershipChange, Segment

from .counts import count_estimated
from .overview import count_per_segment
from .stats import counted_moves

GROWTH_DAYS = 7
TOP_GROWING = 5
RECENT_ACTIVITY = 10


@dataclass(frozen=True)
class Growth:
    segment: Segment
    joins: int
    leaves: int

    @property
    def net(self) -> int:
        return self.joins - self.leaves


def dashboard_counts(*, now: datetime | None = None) -> dict[str, int]:
    """Customers, live segments and events received in the last 24 hours. The big
    ones are exact while small and an `Estimate` past that (shown "about N"): no
    scan of a million customers on every view of the home page."""
    now = now or timezone.now()
    return {
        "customers": count_estimated(Customer.objects.all()),
        "segments": Segment.objects.filter(archived=False).count(),
        "events_24h": count_estimated(
            Event.objects.filter(received_at__gte=now - timedelta(hours=24))
        ),
    }


def segments_growing(
    *, now: datetime | None = None, limit: int = TOP_GROWING
) -> list[Growth]:
    """The segments with the largest net gain of counted members this week. Each
    segment's joins and leaves are counted on its own part of the history's
    moves index (index-only), never over the whole week's history."""
    now = now or timezone.now()
    week = counted_moves().filter(occurred_at__gte=now - timedelta(days=GROWTH_DAYS))
    segments = (
        Segment.objects.annotate(
            joins=count_per_segment(week.filter(is_member=True)),
            leaves=count_per_segment(week.filter(is_member=False)),
        )
        .alias(net=F("joins") - F("leaves"))
        .filter(net__gt=0)
        .order_by("-net", "name")[:limit]
    )
    return [Growth(s, s.joins, s.leaves) for s in segments]


def computations_in_trouble(*, now: datetime | None = None) -> QuerySet[Segment]:
    """Rule segments whose last computation failed, or that have waited or run
    longer than a computation may take."""
    now = now or timezone.now()
    stuck_before = now - timedelta(seconds=settings.SEGMENTS_COMPUTE_TIMEOUT_SECONDS)
    State = Segment.ComputeState
    return Segment.objects.filter(
        Q(compute_state=State.FAILED)
        | Q(compute_state=State.QUEUED, compute_requested_at__lt=stuck_before)
        | Q(compute_state=State.RUNNING, compute_started_at__lt=stuck_before),
        archived=False,
    ).order_by("name")


def recent_activity(*, limit: int = RECENT_ACTIVITY) -> list[MembershipChange]:
    """The latest membership changes, whoever made them."""
    return list(
        MembershipChange.objects.select_related("segment", "customer").order_by("-id")[
            :limit
        ]
    )
