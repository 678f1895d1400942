"""Reads with more to them than a filter."""

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.db import models
from django.db.models import Count, F, Q, QuerySet
from django.db.models.functions import TruncDate
from django.utils import timezone

from segments.models import (
    Condition,
    Customer,
    Membership,
    MembershipChange,
    Segment,
    SegmentRule,
)
from segments.rules import ConditionSpec, Match, RuleSpec


def segment_rule_spec(*, segment: Segment) -> RuleSpec | None:
    """The segment's condition tree, read in two queries."""
    rules = list(SegmentRule.objects.filter(segment=segment).order_by("position", "id"))
    if not rules:
        return None
    conditions: dict[int, list[ConditionSpec]] = defaultdict(list)
    for c in Condition.objects.filter(rule__segment=segment).order_by("position", "id"):
        conditions[c.rule_id].append(ConditionSpec(c.field, c.operator, c.value))
    children: dict[int | None, list[SegmentRule]] = defaultdict(list)
    for rule in rules:
        children[rule.parent_id].append(rule)

    def build(rule: SegmentRule) -> RuleSpec:
        return RuleSpec(
            match=Match(rule.match),
            conditions=tuple(conditions[rule.pk]),
            rules=tuple(build(child) for child in children[rule.pk]),
        )

    return build(children[None][0])


def customer_segments(*, customer: Customer) -> QuerySet[Segment]:
    return Segment.objects.filter(
        memberships__in=Membership.objects.members().filter(customer=customer)
    )


class IdType(models.TextChoices):
    """How an API call names customers: their external id, email or integer id."""

    ID = "id", "External id"
    EMAIL = "email", "Email"
    INTERNAL_ID = "internal_id", "Internal id"


_LOOKUP_FIELD = {
    IdType.ID: "external_id",
    IdType.EMAIL: "email",
    IdType.INTERNAL_ID: "pk",
}


@dataclass(frozen=True)
class CustomerLookup:
    found: dict[str, Customer]  # each id as given -> its customer, in order given
    unknown: list[str]


def customers_by_ids(*, ids: Iterable[str], id_type: str = IdType.ID) -> CustomerLookup:
    """Find customers by the ids an integration sends; ids matching nobody are
    returned as unknown."""
    ids = list(dict.fromkeys(ids))
    field = _LOOKUP_FIELD[IdType(id_type)]
    keys = [_normalize(value, id_type) for value in ids]
    if id_type == IdType.INTERNAL_ID:
        keys = [key for key in keys if key.isdigit() and len(key) < 19]
    customers = Customer.objects.filter(**{f"{field}__in": keys})
    by_key = {str(getattr(c, field)): c for c in customers}
    found = {
        value: by_key[key]
        for value in ids
        if (key := _normalize(value, id_type)) in by_key
    }
    return CustomerLookup(
        found=found, unknown=[value for value in ids if value not in found]
    )


def customer_by_id(*, value: str, id_type: str = IdType.ID) -> Customer | None:
    return customers_by_ids(ids=[value], id_type=id_type).found.get(value)


def customer_by_user(*, user: str) -> Customer | None:
    """Village's `user`: an external id or, failing that, an email."""
    return customer_by_id(value=user) or customer_by_id(
        value=user, id_type=IdType.EMAIL
    )


def _normalize(value: str, id_type: str) -> str:
    return value.strip().lower() if id_type == IdType.EMAIL else value.strip()


def segment_list() -> QuerySet[Segment]:
    return Segment.objects.annotate(
        member_count=Count(
            "memberships", filter=~Q(memberships__override=Membership.Override.BLOCK)
        )
    ).order_by("name")


def segment_members(
    *,
    segment: Segment,
    source: str | None = None,
    is_test: bool | None = None,
    override: str | None = None,
) -> QuerySet[Membership]:
    """The segment's members, or with override="block" the customers it blocks."""
    rows = Membership.objects.filter(segment=segment).select_related("customer")
    rows = rows.members() if override is None else rows.filter(override=override)
    if source is not None:
        rows = rows.filter(source=source)
    if is_test is not None:
        rows = rows.filter(is_test=is_test)
    return rows


@dataclass(frozen=True)
class MemberStatus:
    member: bool
    source: str | None
    override: str
    joined_at: datetime | None


def segment_member(*, segment: Segment, customer: Customer) -> MemberStatus:
    row = Membership.objects.filter(segment=segment, customer=customer).first()
    if row is None:
        return MemberStatus(False, None, Membership.Override.NONE, None)
    member = row.is_member
    return MemberStatus(
        member, row.source, row.override, row.joined_at if member else None
    )


def segment_history(*, segment: Segment) -> QuerySet[MembershipChange]:
    return MembershipChange.objects.filter(segment=segment).select_related("customer")


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
    counted = Membership.objects.filter(segment=segment).counted()
    total = counted.count()
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
        new_this_week=counted.filter(joined_at__gte=now - timedelta(days=7)).count(),
        new_this_month=counted.filter(joined_at__gte=now - timedelta(days=30)).count(),
        daily=daily,
    )


def _daily_moves(segment: Segment, *, since: datetime) -> dict[date, tuple[int, int]]:
    """Joins and leaves per day from `since` on (later days too), in one query."""
    rows = (
        MembershipChange.objects.filter(
            segment=segment, occurred_at__gte=since, is_test=False
        )
        .exclude(was_member=F("is_member"))
        .annotate(day=TruncDate("occurred_at"))
        .values("day")
        .annotate(
            joins=Count("pk", filter=Q(is_member=True)),
            leaves=Count("pk", filter=Q(was_member=True)),
        )
    )
    return {row["day"]: (row["joins"], row["leaves"]) for row in rows}


def _start_of(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))
