"""Segment stats: totals and daily joins, leaves and size."""

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.db.models import Count, F, Q, QuerySet
from django.db.models.functions import TruncDate
from django.utils import timezone

from segments.models import (
    Membership,
    MembershipChange,
    Segment,
)

STATS_DAYS = 90


@dataclass(frozen=True)
class DayStats:
    date: date
    joins: int
    leaves: int
    total: int


@dataclass(frozen=True)
class SegmentStats:
    total: int
    new_this_week: int
    new_this_month: int
    daily: list[DayStats]


def segment_stats(*, segment: Segment, now: datetime | None = None) -> SegmentStats:
    """Members counted without test users. `new_this_week` / `new_this_month`: members
    who joined in the last 7 / 30 days. `daily`: joins, leaves and the total at the
    end of each of the last 90 days (in TIME_ZONE), from the history."""
    now = now or timezone.now()
    # One index-only scan of the counted members' (segment, joined_at) index.
    figures = (
        Membership.objects.filter(segment=segment)
        .counted()
        .aggregate(
            total=Count("joined_at"),
            week=Count("joined_at", filter=Q(joined_at__gte=now - timedelta(days=7))),
            month=Count("joined_at", filter=Q(joined_at__gte=now - timedelta(days=30))),
        )
    )
    total = figures["total"]
    today = timezone.localdate(now)
    first_day = today - timedelta(days=STATS_DAYS - 1)
    moves = _daily_moves(segment, since=_start_of(first_day))
    daily: list[DayStats] = []
    # Walk back from now: the total at the end of a day is today's total less
    # what changed after that day.
    running = total - sum(j - lv for day, (j, lv) in moves.items() if day > today)
    for offset in range(STATS_DAYS):
        day = today - timedelta(days=offset)
        joins, leaves = moves.get(day, (0, 0))
        daily.append(DayStats(day, joins, leaves, running))
        running -= joins - leaves
    daily.reverse()
    return SegmentStats(
        total=total,
        new_this_week=figures["week"],
        new_this_month=figures["month"],
        daily=daily,
    )


def counted_moves() -> QuerySet[MembershipChange]:
    """History rows where a counted member joined (is_member) or left (not
    is_member): test users left out. Written as the `change_seg_moves` index's
    condition, so that counts of them by segment and time are index-only."""
    return MembershipChange.objects.filter(is_test=False).exclude(
        was_member=F("is_member")
    )


def _daily_moves(segment: Segment, *, since: datetime) -> dict[date, tuple[int, int]]:
    """Joins and leaves per day from `since` on (later days too), in one query."""
    rows = (
        counted_moves()
        .filter(segment=segment, occurred_at__gte=since)
        .annotate(day=TruncDate("occurred_at"))
        .values("day")
        .annotate(
            joins=Count("is_member", filter=Q(is_member=True)),
            leaves=Count("is_member", filter=Q(is_member=False)),
        )
    )
    return {row["day"]: (row["joins"], row["leaves"]) for row in rows}


def _start_of(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))
