"""Reads with more to them than a filter."""

from collections import defaultdict

from django.db.models import QuerySet

from segments.models import Condition, Customer, Membership, Segment, SegmentRule
from segments.rules import AnyCondition, Match, RuleSpec, condition_from_row


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
