"""Why a customer is (or is not) in a segment: each condition of its tree matched or
not, with the customer's value that decided it, on the Python evaluator (whose
answers the SQL compiler is proven to share)."""

import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.utils import timezone

from segments.models import Customer, Event, Membership, MembershipChange, Segment
from segments.rules import (
    AnyCondition,
    ConditionSpec,
    EventConditionSpec,
    Facts,
    Match,
    RuleSpec,
    matches,
    plan,
)
from segments.rules.plan import All, EventCount

from .customers import customer_facts
from .rules import condition_label, group_label, segment_rule_spec

NOT_SET = object()


@dataclass(frozen=True)
class ExplainedNode:
    label: str
    matched: bool
    value: str = ""  # the customer's value that decided it, as text
    children: list["ExplainedNode"] = field(default_factory=list)


@dataclass(frozen=True)
class Explanation:
    member: bool
    rules_match: bool | None  # None: a static segment has no rules
    source: str | None
    override: str
    is_test: bool
    joined_at: datetime | None
    tree: ExplainedNode | None
    trigger: Event | None  # event segments: the latest trigger event judged
    entry: MembershipChange | None  # the history row that put them in


def _shown(value: Any) -> str:
    if value is NOT_SET or value is None:
        return "not set"
    if isinstance(value, datetime):
        return value.isoformat()
    return json.dumps(value, ensure_ascii=False, default=str)


def _event_count(node: EventCount, facts: Facts) -> int:
    return sum(
        1
        for event in facts.events
        if event.name == node.event
        and (node.since is None or event.timestamp >= node.since)
        and (
            node.where is None
            or matches(
                node.where, Facts(customer=facts.customer, counted=event.properties)
            )
        )
    )


def _field_value(name: str, facts: Facts) -> Any:
    """The value a field test reads: a column, an attribute path or (event.<name>)
    the trigger event's property."""
    if "." not in name:
        return facts.customer.get(name, NOT_SET)
    source, *path = name.split(".")
    value: Any = facts.trigger if source == "event" else facts.customer["attributes"]
    for key in path:
        if not isinstance(value, dict) or key not in value:
            return NOT_SET
        value = value[key]
    return value


def _value(condition: AnyCondition, facts: Facts, now: datetime) -> str:
    if isinstance(condition, ConditionSpec):
        return _shown(_field_value(condition.field, facts))
    if isinstance(condition, EventConditionSpec):
        single = plan(RuleSpec(Match.ALL, conditions=(condition,)), now)
        assert isinstance(single, All) and isinstance(single.items[0], EventCount)
        count = _event_count(single.items[0], facts)
        return f"{count} time{'s' if count != 1 else ''}"
    return "member" if condition.segment in facts.segments else "not a member"


def _explain(spec: RuleSpec, facts: Facts, now: datetime) -> ExplainedNode:
    children = [
        ExplainedNode(
            label=condition_label(c),
            matched=matches(plan(RuleSpec(Match.ALL, conditions=(c,)), now), facts),
            value=_value(c, facts, now),
        )
        for c in spec.conditions
    ] + [_explain(rule, facts, now) for rule in spec.rules]
    return ExplainedNode(
        label=group_label(spec),
        matched=matches(plan(spec, now), facts),
        children=children,
    )


def membership_explain(
    *, segment: Segment, customer: Customer, now: datetime | None = None
) -> Explanation:
    now = now or timezone.now()
    row = Membership.objects.filter(segment=segment, customer=customer).first()
    member = row is not None and row.is_member
    spec = segment_rule_spec(segment=segment)
    trigger = None
    tree = None
    if spec is not None:
        if segment.type == Segment.Type.EVENT:
            trigger = (
                Event.objects.filter(customer=customer, name=segment.trigger_event)
                .order_by("-timestamp", "-pk")
                .first()
            )
        facts = customer_facts(
            customer=customer, trigger=trigger.properties if trigger else None
        )
        tree = _explain(spec, facts, now)
    entry = (
        MembershipChange.objects.filter(
            segment=segment, customer=customer, is_member=True, was_member=False
        )
        .order_by("-occurred_at", "-pk")
        .first()
        if member
        else None
    )
    return Explanation(
        member=member,
        rules_match=tree.matched if tree else None,
        source=row.source if member and row else None,
        override=row.override if row else Membership.Override.NONE,
        is_test=bool(row and row.is_test),
        joined_at=row.joined_at if member and row else None,
        tree=tree,
        trigger=trigger,
        entry=entry,
    )


def explanation_rows(explanation: Explanation) -> dict[str, Any]:
    """The explanation with its tree as a flat list, each node with its depth."""

    def walk(node: ExplainedNode, depth: int):
        yield {
            "depth": depth,
            "label": node.label,
            "matched": node.matched,
            "value": node.value,
        }
        for child in node.children:
            yield from walk(child, depth + 1)

    return {
        "rules_match": explanation.rules_match,
        "is_test": explanation.is_test,
        "trigger": explanation.trigger,
        "conditions": list(walk(explanation.tree, 0)) if explanation.tree else [],
        "entry": explanation.entry,
    }
