"""Reads with more to them than a filter."""

import json
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Count, F, Q, QuerySet
from django.db.models.functions import TruncDate
from django.utils import timezone

from segments.models import (
    Condition,
    Customer,
    Event,
    Membership,
    MembershipChange,
    Segment,
    SegmentRule,
)
from segments.rules import (
    AnyCondition,
    EventConditionSpec,
    EventFacts,
    Facts,
    Match,
    RuleSpec,
    RuleSpecError,
    SegmentConditionSpec,
    Sources,
    compile_event_q,
    compile_q,
    condition_from_row,
    dependencies,
    parse_rule,
    plan,
)


def segment_rule_spec(*, segment: Segment) -> RuleSpec | None:
    """The segment's condition tree, read in two queries."""
    rules = list(SegmentRule.objects.filter(segment=segment).order_by("position", "id"))
    if not rules:
        return None
    conditions: dict[int, list[AnyCondition]] = defaultdict(list)
    for c in Condition.objects.filter(rule__segment=segment).order_by("position", "id"):
        conditions[c.rule_id].append(condition_from_row(c.field, c.operator, c.value))
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


CUSTOMER_FIELDS = (
    "external_id",
    "email",
    "phone",
    "first_name",
    "last_name",
    "created_at",
    "last_seen_at",
    "attributes",
)


def customer_facts(
    *,
    customer: Customer,
    event_names: Iterable[str] | None = None,
    trigger: dict[str, Any] | None = None,
) -> Facts:
    """What the Python evaluator needs to know of one customer: their fields, their
    events (only those named, when `event_names` is given) and their segments."""
    events = Event.objects.filter(customer=customer).order_by()
    if event_names is not None:
        events = events.filter(name__in=list(event_names))
    return Facts(
        customer={name: getattr(customer, name) for name in CUSTOMER_FIELDS},
        events=[
            EventFacts(name, timestamp, properties)
            for name, timestamp, properties in events.values_list(
                "name", "timestamp", "properties"
            )
        ],
        segments=frozenset(
            Membership.objects.members()
            .filter(customer=customer)
            .values_list("segment_id", flat=True)
        ),
        trigger=trigger,
    )


def rule_sources() -> Sources:
    """The tables the SQL compiler reads behaviours and segment tests from."""
    return Sources(
        events=Event.objects.order_by(),
        members=lambda segment_id: (
            Membership.objects.members()
            .filter(segment_id=segment_id)
            .order_by()
            .values("customer_id")
        ),
    )


def segment_rules_parse(
    *, rules: Any, type: str, segment: Segment | None = None
) -> RuleSpec:
    """Check a condition tree for a segment of this type: its shape and types
    (within the configured limits), and that the segments it tests exist and do not
    lead back to `segment`. Raises ValidationError on "rules"."""
    try:
        spec = parse_rule(
            rules,
            allow_event_fields=type == Segment.Type.EVENT,
            max_depth=settings.SEGMENT_RULES_MAX_DEPTH,
            max_conditions=settings.SEGMENT_RULES_MAX_CONDITIONS,
        )
    except RuleSpecError as exc:
        raise ValidationError({"rules": exc.messages()}) from exc
    problem = _reference_problem(spec, segment.pk if segment else None)
    if problem:
        raise ValidationError({"rules": [problem]})
    return spec


def _reference_problem(spec: RuleSpec, segment_id: int | None) -> str | None:
    wanted = dependencies(spec).segments
    graph = dict(Segment.objects.values_list("pk", "watched_segments"))
    missing = sorted(wanted - set(graph))
    if missing:
        return f"No segment has id {missing[0]}."
    seen, stack = set(), list(wanted)
    while stack:
        pk = stack.pop()
        if pk == segment_id:
            return (
                "These rules would make the segment depend on itself "
                "(through the segments they test)."
            )
        if pk not in seen:
            seen.add(pk)
            stack.extend(graph.get(pk) or [])
    return None


@dataclass(frozen=True)
class ConditionCount:
    label: str
    count: int


@dataclass(frozen=True)
class SegmentPreview:
    count: int
    sample: list[Customer]
    conditions: list[ConditionCount]


def segment_preview(
    *,
    rules: Any,
    type: str = Segment.Type.RULE,
    trigger_event: str = "",
    segment: Segment | None = None,
    sample_size: int = 10,
) -> SegmentPreview:
    """For a tree not saved yet: how many customers match it now, a sample of them,
    and how many each top-level condition or group matches on its own.

    For an event-triggered segment: the customers with a past `trigger_event` event
    for which the conditions hold, as if it arrived now."""
    spec = segment_rules_parse(rules=rules, type=type, segment=segment)
    trigger_event = (trigger_event or "").strip()
    if type == Segment.Type.EVENT and not trigger_event:
        raise ValidationError(
            {"trigger_event": "Name the event that triggers this segment."}
        )
    now = timezone.now()
    sources = rule_sources()

    def matching(part: RuleSpec) -> QuerySet[Customer]:
        if type != Segment.Type.EVENT:
            return Customer.objects.filter(compile_q(plan(part, now), sources))
        triggers = Event.objects.filter(name=trigger_event).filter(
            compile_event_q(plan(part, now), sources)
        )
        return Customer.objects.filter(pk__in=triggers.values("customer_id"))

    parts = [
        (condition_label(c), RuleSpec(Match.ALL, conditions=(c,)))
        for c in spec.conditions
    ] + [(group_label(r), r) for r in spec.rules]
    return SegmentPreview(
        count=matching(spec).count(),
        sample=list(matching(spec).order_by("-created_at", "-pk")[:sample_size]),
        conditions=[
            ConditionCount(label, matching(part).count()) for label, part in parts
        ],
    )


def condition_label(condition: AnyCondition) -> str:
    if isinstance(condition, SegmentConditionSpec):
        name = (
            Segment.objects.filter(pk=condition.segment)
            .values_list("name", flat=True)
            .first()
        )
        verb = "in" if condition.operator == "in" else "not in"
        return f'{verb} segment "{name}"'
    if isinstance(condition, EventConditionSpec):
        window = (
            f" in the last {condition.within_days} days"
            if condition.within_days
            else ""
        )
        where = " (with conditions on it)" if condition.where else ""
        if condition.operator == "not_performed":
            return f'did not perform "{condition.event}"{window}{where}'
        times = f"{condition.operator.replace('_', ' ')} {condition.value} times"
        return f'performed "{condition.event}" {times}{window}{where}'
    value = "" if condition.value is None else f" {json.dumps(condition.value)}"
    return f"{condition.field} {condition.operator.replace('_', ' ')}{value}"


def group_label(rule: RuleSpec) -> str:
    size = len(rule.conditions) + len(rule.rules)
    return f"{rule.match.upper()} of a group of {size}"


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
