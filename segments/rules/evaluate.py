"""The Python evaluator: does one customer match a planned tree?

It reads only the facts it is handed; the caller loads them (see `Facts`).
"""

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from .plan import All, AnyOf, EventCount, InSegment, Node, Not, Ref, Test
from .values import data_day, fold, is_number

MISSING = object()


@dataclass(frozen=True)
class EventFacts:
    name: str
    timestamp: datetime
    properties: Mapping[str, Any]


@dataclass(frozen=True)
class Facts:
    """What is known of one customer: their columns (``email``, ``created_at`` ...,
    and ``attributes``), their events (those the tree counts are enough), the ids
    of the segments they are a member of, and the triggering event's properties."""

    customer: Mapping[str, Any]
    events: Sequence[EventFacts] = ()
    segments: frozenset[int] = frozenset()
    trigger: Mapping[str, Any] | None = None
    counted: Mapping[str, Any] = field(default_factory=dict)


def matches(node: Node, facts: Facts) -> bool:
    match node:
        case All(items):
            return all(matches(item, facts) for item in items)
        case AnyOf(items):
            return any(matches(item, facts) for item in items)
        case Not(item):
            return not matches(item, facts)
        case InSegment(segment):
            return segment in facts.segments
        case EventCount():
            return _count_matches(node, facts)
        case Test():
            return _test(node, _lookup(node.ref, facts))
    raise TypeError(f"not a plan node: {node!r}")


def _count_matches(node: EventCount, facts: Facts) -> bool:
    count = 0
    for event in facts.events:
        if event.name != node.event:
            continue
        if node.since is not None and event.timestamp < node.since:
            continue
        inner = Facts(customer=facts.customer, counted=event.properties)
        if node.where is None or matches(node.where, inner):
            count += 1
    if node.op == "gte":
        return count >= node.count
    if node.op == "lte":
        return count <= node.count
    return count == node.count


def _lookup(ref: Ref, facts: Facts) -> Any:
    if ref.source == "customer":
        return facts.customer[ref.path[0]]
    value: Any = {
        "attributes": facts.customer.get("attributes"),
        "trigger": facts.trigger,
        "event": facts.counted,
    }[ref.source]
    for key in ref.path:
        if not isinstance(value, Mapping) or key not in value:
            return MISSING
        value = value[key]
    return value


def _test(test: Test, value: Any) -> bool:
    kind, op, expected = test.kind, test.op, test.value
    if kind == "set":
        return value is not MISSING and value is not None and value != ""
    if kind == "text":
        if not isinstance(value, str):
            return False
        if op == "regex":
            return re.search(expected, value) is not None
        folded = fold(value)
        if op == "in":
            return folded in expected
        if op == "contains":
            return expected in folded
        return (
            folded.startswith(expected) if op == "starts" else folded.endswith(expected)
        )
    if kind == "number":
        if not is_number(value):
            return False
        return value in expected if op == "in" else _compare(op, value, expected)
    if kind == "bool":
        return isinstance(value, bool) and value is expected
    if kind == "day":
        day = data_day(value)
        return day is not None and _compare(op, day, expected)
    if kind == "instant":
        return isinstance(value, datetime) and _compare(op, value, expected)
    raise ValueError(f"unknown test kind {kind!r}")


def _compare(op: str, left: Any, right: Any) -> bool:
    if op == "lt":
        return left < right
    if op == "lte":
        return left <= right
    if op == "gt":
        return left > right
    if op == "gte":
        return left >= right
    return left == right
