"""A condition tree reduced to a few primitive tests, ready to evaluate.

`plan` turns the marketer's operators (``not_within_last``, ``between``, ``on`` ...)
and relative values (``now``, ``-7d``) into the small set of tests below, with every
value resolved against one `now`. The Python evaluator and the SQL compiler each
implement only these primitives, which is what lets them agree.

Primitive tests (`Test.kind` / `Test.op`):

- ``text``: ``in`` (a set of case-folded strings), ``contains``, ``starts``,
  ``ends`` (case-folded needle), ``regex`` (case-sensitive, ``re.search``)
- ``number``: ``in`` (a tuple of numbers), ``lt`` ``lte`` ``gt`` ``gte``
- ``bool``: ``eq``
- ``day``: ``lt`` ``lte`` ``eq`` ``gte`` ``gt`` against "YYYY-MM-DD", on the day a
  data value names (attributes and event properties)
- ``instant``: ``lt`` ``lte`` ``gte`` ``gt`` against a datetime (sign-up date, last
  seen)
- ``set``: the value is there (not null, not missing, not empty text)

A test on data of another type is false: ``gt 50`` does not match "60".
"""

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from .spec import (
    DATE_FIELDS,
    TEXT_FIELDS,
    ConditionSpec,
    EventConditionSpec,
    Match,
    RuleSpec,
    SegmentConditionSpec,
)
from .values import fold, is_number, is_relative, parse_duration, parse_when

NEGATED = {
    "not_equals": "equals",
    "not_in": "in",
    "not_contains": "contains",
    "is_not_set": "is_set",
    "not_within_last": "within_last",
}
TEXT_OPS = {"contains": "contains", "starts_with": "starts", "ends_with": "ends"}
ORDER_OPS = {
    "gt": "gt",
    "gte": "gte",
    "lt": "lt",
    "lte": "lte",
    "before": "lt",
    "after": "gt",
    "on": "eq",
}
COUNT_OPS = {"at_least": "gte", "at_most": "lte", "exactly": "eq"}


@dataclass(frozen=True)
class Ref:
    """Where a tested value comes from: a customer column (path is its name), the
    customer's attributes, the triggering event's properties ("trigger") or, inside
    a behaviour's `where`, the counted event's properties ("event")."""

    source: str
    path: tuple[str, ...]


@dataclass(frozen=True)
class Test:
    ref: Ref
    kind: str
    op: str
    value: Any = None


@dataclass(frozen=True)
class All:
    items: tuple["Node", ...]


@dataclass(frozen=True)
class AnyOf:
    items: tuple["Node", ...]


@dataclass(frozen=True)
class Not:
    item: "Node"


@dataclass(frozen=True)
class EventCount:
    """The number of the customer's `event` events since `since` (ever if None)
    whose properties match `where`, compared with `count` by `op`."""

    event: str
    op: str  # gte, lte, eq
    count: int
    since: datetime | None = None
    where: "Node | None" = None


@dataclass(frozen=True)
class InSegment:
    segment: int


Node = Test | All | AnyOf | Not | EventCount | InSegment


def plan(spec: RuleSpec, now: datetime) -> Node:
    return _plan_group(spec, now, in_where=False)


def _plan_group(spec: RuleSpec, now: datetime, in_where: bool) -> Node:
    items = tuple(
        [_plan_condition(c, now, in_where) for c in spec.conditions]
        + [_plan_group(rule, now, in_where) for rule in spec.rules]
    )
    if spec.match == Match.ALL:
        return All(items)
    if spec.match == Match.ANY:
        return AnyOf(items)
    return Not(AnyOf(items))


def _plan_condition(condition, now: datetime, in_where: bool) -> Node:
    if isinstance(condition, SegmentConditionSpec):
        inside = InSegment(condition.segment)
        return inside if condition.operator == "in" else Not(inside)
    if isinstance(condition, EventConditionSpec):
        return _plan_event(condition, now)
    return _plan_field(condition, now, in_where)


def _plan_event(condition: EventConditionSpec, now: datetime) -> Node:
    op = COUNT_OPS.get(condition.operator, "eq")
    days = condition.within_days
    return EventCount(
        event=condition.event,
        op=op,
        count=condition.value or 0,
        since=now - timedelta(days=days) if days else None,
        where=_plan_group(condition.where, now, True) if condition.where else None,
    )


def _ref(name: str, in_where: bool) -> Ref:
    if name in TEXT_FIELDS or name in DATE_FIELDS:
        return Ref("customer", (name,))
    source, *path = name.split(".")
    if source == "event" and not in_where:
        source = "trigger"
    return Ref(source, tuple(path))


def _plan_field(condition: ConditionSpec, now: datetime, in_where: bool) -> Node:
    op, value = condition.operator, condition.value
    if op in NEGATED:
        positive = ConditionSpec(condition.field, NEGATED[op], value)
        return Not(_plan_field(positive, now, in_where))
    ref = _ref(condition.field, in_where)
    is_date_field = condition.field in DATE_FIELDS
    if op == "is_set":
        return Test(ref, "set", "set")
    if op in ("is_true", "is_false"):
        return Test(ref, "bool", "eq", op == "is_true")
    if op in ("equals", "in"):
        return _equal(ref, value if op == "in" else [value])
    if op in TEXT_OPS:
        return Test(ref, "text", TEXT_OPS[op], fold(value))
    if op == "regex":
        return Test(ref, "text", "regex", value)
    if op == "within_last":
        start = _earlier(now, parse_duration(value))  # type: ignore[arg-type]
        return All(
            (
                _order(ref, is_date_field, "gte", start.isoformat(), now),
                _order(ref, is_date_field, "lte", "now", now),
            )
        )
    if op == "between":
        low, high = value
        return All(
            (
                _order(ref, is_date_field, "gte", low, now),
                _order(ref, is_date_field, "lte", high, now),
            )
        )
    return _order(ref, is_date_field, ORDER_OPS[op], value, now)


def _equal(ref: Ref, values: list[Any]) -> Node:
    tests: list[Node] = []
    texts = frozenset(fold(v) for v in values if isinstance(v, str))
    numbers = tuple(sorted({v for v in values if is_number(v)}))
    if texts:
        tests.append(Test(ref, "text", "in", texts))
    if numbers:
        tests.append(Test(ref, "number", "in", numbers))
    for flag in sorted({v for v in values if isinstance(v, bool)}):
        tests.append(Test(ref, "bool", "eq", flag))
    return tests[0] if len(tests) == 1 else AnyOf(tuple(tests))


def _order(ref: Ref, is_date_field: bool, op: str, value: Any, now: datetime) -> Node:
    if is_number(value):
        return Test(ref, "number", op, value)
    when = parse_when(value, now)
    assert when is not None, "parse_rule accepts only dates here"
    if not is_date_field:
        return Test(ref, "day", op, when.date_text)
    if not when.day and op != "eq":
        return Test(ref, "instant", op, when.at)
    day = when.at.astimezone(UTC)
    start = day.replace(hour=0, minute=0, second=0, microsecond=0)
    # The day's last microsecond, not the next day's start: 9999-12-31 has none.
    last = start + (timedelta(days=1) - timedelta(microseconds=1))
    if op == "eq":
        return All(
            (Test(ref, "instant", "gte", start), Test(ref, "instant", "lte", last))
        )
    if op in ("lt", "gte"):
        return Test(ref, "instant", op, start)
    return Test(ref, "instant", op, last)


def _earlier(now: datetime, duration: timedelta) -> datetime:
    """`duration` before `now`, or the earliest time there is."""
    try:
        return now - duration
    except OverflowError:
        return datetime.min.replace(tzinfo=UTC)


@dataclass
class Dependencies:
    """What a tree reads, so that only the segments a change can affect are looked
    at again: customer fields (attributes by their top-level name), event names,
    other segments, and whether the answer changes with time alone."""

    fields: set[str] = field(default_factory=set)
    events: set[str] = field(default_factory=set)
    segments: set[int] = field(default_factory=set)
    time_relative: bool = False


def dependencies(spec: RuleSpec) -> Dependencies:
    found = Dependencies()
    for condition in spec.walk():
        if isinstance(condition, SegmentConditionSpec):
            found.segments.add(condition.segment)
        elif isinstance(condition, EventConditionSpec):
            found.events.add(condition.event)
            found.time_relative |= condition.within_days is not None
        elif not condition.field.startswith("event."):
            found.fields.add(".".join(condition.field.split(".")[:2]))
            values = (
                condition.value
                if isinstance(condition.value, list)
                else [condition.value]
            )
            found.time_relative |= condition.operator.endswith("within_last") or any(
                is_relative(v) for v in values
            )
    return found
