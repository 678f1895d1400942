"""Reads with more to them than a filter."""

from collections import defaultdict
from collections.abc import Iterable
from typing import Any

from django.db.models import QuerySet

from segments.models import (
    Condition,
    Customer,
    Event,
    Membership,
    Segment,
    SegmentRule,
)
from segments.rules import (
    AnyCondition,
    EventFacts,
    Facts,
    Match,
    RuleSpec,
    Sources,
    condition_from_row,
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
