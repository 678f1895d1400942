"""Rule trees as specs, their validation against the data, and previews."""

import json
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.utils import timezone

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
    EventConditionSpec,
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
    return segment_rule_specs(segment_ids=[segment.pk]).get(segment.pk)


def segment_rule_specs(*, segment_ids: Iterable[int]) -> dict[int, RuleSpec]:
    """The condition trees of several segments, read in two queries; segments
    without rules are left out."""
    ids = list(segment_ids)
    rules = list(
        SegmentRule.objects.filter(segment_id__in=ids).order_by("position", "id")
    )
    if not rules:
        return {}
    conditions: dict[int, list[AnyCondition]] = defaultdict(list)
    for c in Condition.objects.filter(rule__segment_id__in=ids).order_by(
        "position", "id"
    ):
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

    specs: dict[int, RuleSpec] = {}
    for root in children[None]:
        specs.setdefault(root.segment_id, build(root))
    return specs


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
