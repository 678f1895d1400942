"""Reads for the admin home: counts, growth, computations in trouble, activity."""

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Count, F, Q, QuerySet
from django.utils import timezone

from segments.models import Customer, Event, MembershipChange, Segment

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
    """Customers, live segments and events received in the last 24 hours."""
    now = now or timezone.now()
    return {
        "customers": Customer.objects.count(),
        "segments": Segment.objects.filter(archived=False).count(),
        "events_24h": Event.objects.filter(
            received_at__gte=now - timedelta(hours=24)
        ).count(),
    }


def segments_growing(
    *, now: datetime | None = None, limit: int = TOP_GROWING
) -> list[Growth]:
    """The segments with the largest net gain of counted members this week."""
    now = now or timezone.now()
    rows = (
        MembershipChange.objects.filter(
            occurred_at__gte=now - timedelta(days=GROWTH_DAYS), is_test=False
        )
        .exclude(was_member=F("is_member"))
        .values("segment")
        .annotate(
            joins=Count("pk", filter=Q(is_member=True)),
            leaves=Count("pk", filter=Q(was_member=True)),
        )
    )
    ranked = sorted(rows, key=lambda r: r["joins"] - r["leaves"], reverse=True)
    ranked = [r for r in ranked if r["joins"] > r["leaves"]][:limit]
    segments = Segment.objects.in_bulk([r["segment"] for r in ranked])
    return [Growth(segments[r["segment"]], r["joins"], r["leaves"]) for r in ranked]


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
