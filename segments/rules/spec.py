"""The shape of a segment's condition tree.

JSON form, as stored and as the API speaks it::

    {"match": "all", "conditions": [...], "rules": [ ...nested groups... ]}

A condition is one of three kinds:

- a field test: ``{"field": "attributes.channel", "operator": "equals",
  "value": "Facebook"}``
- a behaviour: ``{"event": "purchase", "operator": "at_least", "value": 2,
  "within_days": 30, "where": {"conditions": [{"field": "event.amount",
  "operator": "gt", "value": 50}]}}``; operators ``at_least``, ``at_most``,
  ``exactly`` and ``not_performed`` (no value)
- membership of another segment: ``{"segment": 12, "operator": "in"}`` (or
  ``not_in``)

`parse_rule` checks the shape and the types, and names the place of every fault
(``rules[0].conditions[2].value: expected a number``).
"""

import re
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from .values import is_number, is_when, parse_duration

DEFAULT_MAX_DEPTH = 5
DEFAULT_MAX_CONDITIONS = 100
MAX_LIST_VALUES = 1000
MAX_WITHIN_DAYS = 3650

TEXT_FIELDS = frozenset({"external_id", "email", "phone", "first_name", "last_name"})
DATE_FIELDS = frozenset({"created_at", "last_seen_at"})
BUILTIN_FIELDS = TEXT_FIELDS | DATE_FIELDS
# attributes.channel, attributes.address.city, event.amount
PATH_FIELD = re.compile(r"^(attributes|event)(\.[A-Za-z0-9_\-$ ]+)+$")

TEXT_OPERATORS = frozenset(
    {"contains", "not_contains", "starts_with", "ends_with", "regex"}
)
EQUALITY_OPERATORS = frozenset({"equals", "not_equals", "in", "not_in"})
ORDER_OPERATORS = frozenset({"gt", "gte", "lt", "lte", "between"})
DATE_OPERATORS = frozenset({"before", "after", "on", "within_last", "not_within_last"})
PRESENCE_OPERATORS = frozenset({"is_set", "is_not_set"})
BOOLEAN_OPERATORS = frozenset({"is_true", "is_false"})
OPERATORS = (
    TEXT_OPERATORS
    | EQUALITY_OPERATORS
    | ORDER_OPERATORS
    | DATE_OPERATORS
    | PRESENCE_OPERATORS
    | BOOLEAN_OPERATORS
)
VALUELESS_OPERATORS = PRESENCE_OPERATORS | BOOLEAN_OPERATORS
OPERATORS_BY_FIELD_KIND = {
    "text": TEXT_OPERATORS | EQUALITY_OPERATORS | PRESENCE_OPERATORS,
    "date": ORDER_OPERATORS | DATE_OPERATORS | PRESENCE_OPERATORS,
    "json": OPERATORS,
}
EVENT_OPERATORS = frozenset({"at_least", "at_most", "exactly", "not_performed"})
SEGMENT_OPERATORS = frozenset({"in", "not_in"})
# Regex syntax that means the same in Python, SQLite (Python's re) and PostgreSQL.
REGEX_ESCAPES = frozenset("dDsSwW.^$*+?()[]{}|\\-/")
WHEN_EXAMPLE = '"2025-01-31", an ISO date-time, "now" or "-7d"'


class Match(StrEnum):
    ALL = "all"
    ANY = "any"
    NONE = "none"


@dataclass(frozen=True)
class ConditionSpec:
    field: str
    operator: str
    value: Any = None


@dataclass(frozen=True)
class EventConditionSpec:
    event: str
    operator: str
    value: int | None = None
    within_days: int | None = None
    where: "RuleSpec | None" = None


@dataclass(frozen=True)
class SegmentConditionSpec:
    segment: int
    operator: str


AnyCondition = ConditionSpec | EventConditionSpec | SegmentConditionSpec


@dataclass(frozen=True)
class RuleSpec:
    match: Match
    conditions: tuple[AnyCondition, ...] = ()
    rules: tuple["RuleSpec", ...] = ()

    def depth(self) -> int:
        return 1 + max((rule.depth() for rule in self.rules), default=0)

    def walk(self):
        """Every condition in the tree, behaviours' `where` included."""
        for condition in self.conditions:
            yield condition
            if isinstance(condition, EventConditionSpec) and condition.where:
                yield from condition.where.walk()
        for rule in self.rules:
            yield from rule.walk()


class RuleSpecError(ValueError):
    """Every fault found in a tree, keyed by its place in it."""

    def __init__(self, errors: dict[str, str]):
        self.errors = errors
        super().__init__("; ".join(f"{path}: {msg}" for path, msg in errors.items()))

    def messages(self) -> list[str]:
        return [f"{path}: {msg}" if path else msg for path, msg in self.errors.items()]


def parse_rule(
    data: Any,
    *,
    allow_event_fields: bool = False,
    max_depth: int = DEFAULT_MAX_DEPTH,
    max_conditions: int = DEFAULT_MAX_CONDITIONS,
) -> RuleSpec:
    parser = _Parser(allow_event_fields, max_depth)
    spec = parser.rule(data, "", 1)
    if parser.count > max_conditions:
        parser.errors[""] = (
            f"at most {max_conditions} conditions are allowed, got {parser.count}"
        )
    if parser.errors or spec is None:
        raise RuleSpecError(parser.errors)
    return spec


def _join(prefix: str, name: str) -> str:
    return f"{prefix}.{name}" if prefix else name


class _Parser:
    def __init__(self, allow_event_fields: bool, max_depth: int):
        self.allow_event_fields = allow_event_fields
        self.max_depth = max_depth
        self.errors: dict[str, str] = {}
        self.count = 0
        self.in_where = False

    def fault(self, path: str, message: str) -> None:
        self.errors.setdefault(path, message)

    def rule(self, data: Any, path: str, depth: int) -> RuleSpec | None:
        if not isinstance(data, dict):
            self.fault(
                path or "rules", "expected an object with match, conditions and rules"
            )
            return None
        for key in sorted(set(data) - {"match", "conditions", "rules"})[:1]:
            self.fault(_join(path, key), "unknown key")
        match = data.get("match", Match.ALL)
        if match not in set(Match):
            self.fault(_join(path, "match"), 'expected one of "all", "any", "none"')
        if depth > self.max_depth:
            self.fault(path, f"groups may be nested at most {self.max_depth} deep")
            return None
        raw_conditions = data.get("conditions", [])
        raw_rules = data.get("rules", [])
        for key, value in (("conditions", raw_conditions), ("rules", raw_rules)):
            if not isinstance(value, list):
                self.fault(_join(path, key), "expected a list")
        if not isinstance(raw_conditions, list) or not isinstance(raw_rules, list):
            return None
        if not raw_conditions and not raw_rules:
            self.fault(path or "rules", "a group needs at least one condition or group")
        conditions = [
            self.condition(raw, _join(path, f"conditions[{i}]"), depth)
            for i, raw in enumerate(raw_conditions)
        ]
        rules = [
            self.rule(raw, _join(path, f"rules[{i}]"), depth + 1)
            for i, raw in enumerate(raw_rules)
        ]
        if match not in set(Match) or None in conditions or None in rules:
            return None
        return RuleSpec(Match(match), tuple(conditions), tuple(rules))  # type: ignore[arg-type]

    def condition(self, data: Any, path: str, depth: int) -> AnyCondition | None:
        self.count += 1
        if not isinstance(data, dict):
            self.fault(path, "expected an object with field, operator and value")
            return None
        if "event" in data and not self.in_where:
            return self.event_condition(data, path, depth)
        if "segment" in data and not self.in_where:
            return self.segment_condition(data, path)
        return self.field_condition(data, path)

    def field_condition(self, data: dict, path: str) -> ConditionSpec | None:
        self.unknown_keys(data, path, {"field", "operator", "value"})
        field, operator, value = _get(data, "field", "operator", "value")
        kind = self.field_kind(field, _join(path, "field"))
        if operator not in OPERATORS:
            self.fault(_join(path, "operator"), f"unknown operator {operator!r}")
            return None
        if kind is None:
            return None
        if operator not in OPERATORS_BY_FIELD_KIND[kind]:
            self.fault(
                _join(path, "operator"),
                f"{operator} does not apply to {field}, a {kind} field",
            )
            return None
        problem = _value_problem(kind, operator, value)
        if problem:
            self.fault(_join(path, "value"), problem)
            return None
        return ConditionSpec(field, operator, value)

    def field_kind(self, field: Any, path: str) -> str | None:
        if field in TEXT_FIELDS:
            return "text"
        if field in DATE_FIELDS:
            return "date"
        if isinstance(field, str) and PATH_FIELD.match(field):
            is_event = field.startswith("event.")
            if is_event == self.in_where or (is_event and self.allow_event_fields):
                return "json"
        self.fault(path, self.field_problem(field))
        return None

    def field_problem(self, field: Any) -> str:
        if self.in_where:
            return "expected event.<property>: a where tests the event's properties"
        if isinstance(field, str) and field.startswith("event."):
            return "event properties can only be used in event-triggered segments"
        return (
            "expected a customer field ("
            + ", ".join(sorted(BUILTIN_FIELDS))
            + "), attributes.<name> or event.<name>"
        )

    def event_condition(
        self, data: dict, path: str, depth: int
    ) -> EventConditionSpec | None:
        self.unknown_keys(
            data, path, {"event", "operator", "value", "within_days", "where"}
        )
        event, operator, value, within, where = _get(
            data, "event", "operator", "value", "within_days", "where"
        )
        ok = True
        if not (isinstance(event, str) and event.strip() and len(event) <= 200):
            self.fault(_join(path, "event"), "expected the event's name")
            ok = False
        if operator not in EVENT_OPERATORS:
            self.fault(
                _join(path, "operator"),
                "expected at_least, at_most, exactly or not_performed",
            )
            return None
        if operator == "not_performed" and value is not None:
            self.fault(_join(path, "value"), "not_performed takes no value")
            ok = False
        if operator != "not_performed" and not _count(value):
            self.fault(
                _join(path, "value"), "expected a whole number of times, 0 or more"
            )
            ok = False
        if within is not None and not (
            _count(within) and 0 < within <= MAX_WITHIN_DAYS
        ):
            self.fault(
                _join(path, "within_days"),
                f"expected a whole number of days from 1 to {MAX_WITHIN_DAYS}",
            )
            ok = False
        where_spec = None
        if where is not None:
            self.in_where = True
            where_spec = self.rule(where, _join(path, "where"), depth + 1)
            self.in_where = False
            ok = ok and where_spec is not None
        if not ok:
            return None
        return EventConditionSpec(event.strip(), operator, value, within, where_spec)

    def segment_condition(self, data: dict, path: str) -> SegmentConditionSpec | None:
        self.unknown_keys(data, path, {"segment", "operator"})
        segment, operator = _get(data, "segment", "operator")
        ok = True
        if not (_count(segment) and segment > 0):
            self.fault(_join(path, "segment"), "expected a segment id")
            ok = False
        if operator not in SEGMENT_OPERATORS:
            self.fault(_join(path, "operator"), 'expected "in" or "not_in"')
            ok = False
        return SegmentConditionSpec(segment, operator) if ok else None

    def unknown_keys(self, data: dict, path: str, known: set[str]) -> None:
        for key in sorted(set(data) - known)[:1]:
            self.fault(_join(path, key), "unknown key")


def _get(data: dict, *keys: str) -> tuple[Any, ...]:
    return tuple(data.get(key) for key in keys)


def _count(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def _value_problem(kind: str, operator: str, value: Any) -> str | None:
    if operator in VALUELESS_OPERATORS:
        return f"{operator} takes no value" if value is not None else None
    if value is None:
        return f"{operator} needs a value"
    if operator in ("in", "not_in"):
        if not isinstance(value, list) or not value:
            return "expected a list of values"
        if len(value) > MAX_LIST_VALUES:
            return f"at most {MAX_LIST_VALUES} values"
        problems = (_scalar_problem(kind, item) for item in value)
        return next((f"{p} in the list" for p in problems if p), None)
    if operator in ("equals", "not_equals"):
        return _scalar_problem(kind, value)
    if operator in TEXT_OPERATORS:
        if not isinstance(value, str) or not value:
            return "expected some text"
        return _regex_problem(value) if operator == "regex" else None
    if operator in ("within_last", "not_within_last"):
        if parse_duration(value) is None:
            return 'expected a duration: a number of days, or "7d", "12h", "2w", "30m"'
        return None
    if operator in ("before", "after", "on") or kind == "date":
        return _bounds_problem(
            operator, value, is_when, f"expected a date: {WHEN_EXAMPLE}"
        )
    return _bounds_problem(
        operator,
        value,
        lambda v: is_number(v) or is_when(v),
        f"expected a number or a date ({WHEN_EXAMPLE})",
    )


def _scalar_problem(kind: str, value: Any) -> str | None:
    if kind == "text":
        return None if isinstance(value, str) else "expected text"
    if isinstance(value, str | bool) or is_number(value):
        return None
    return "expected text, a number or true/false"


def _bounds_problem(operator, value, valid, message) -> str | None:
    if operator != "between":
        return None if valid(value) else message
    if not (isinstance(value, list) and len(value) == 2):
        return "expected a list of two bounds [low, high]"
    low, high = value
    if not (valid(low) and valid(high)):
        return message.replace("expected", "expected bounds that are each")
    if is_number(low) != is_number(high):
        return "expected two numbers or two dates"
    if is_number(low) and low > high:
        return "the low bound is above the high bound"
    return None


def _regex_problem(pattern: str) -> str | None:
    if len(pattern) > 200:
        return "a pattern may be at most 200 characters"
    body = pattern[4:] if pattern.startswith("(?i)") else pattern
    for i, char in enumerate(body):
        after = body[i + 1 : i + 2]
        if (
            char == "\\"
            and (i == 0 or body[i - 1] != "\\")
            and after not in REGEX_ESCAPES
        ):
            return f"\\{after} is not supported; use \\d \\s \\w or escape punctuation"
        if char == "(" and after == "?" and body[i + 2 : i + 3] != ":":
            return "only (?:...) groups and a leading (?i) are supported"
    try:
        re.compile(pattern)
    except re.error as exc:
        return f"not a valid pattern: {exc}"
    return None


def rule_to_dict(spec: RuleSpec) -> dict[str, Any]:
    return {
        "match": str(spec.match),
        "conditions": [condition_to_dict(c) for c in spec.conditions],
        "rules": [rule_to_dict(rule) for rule in spec.rules],
    }


def condition_to_dict(condition: AnyCondition) -> dict[str, Any]:
    if isinstance(condition, EventConditionSpec):
        data: dict[str, Any] = {
            "event": condition.event,
            "operator": condition.operator,
        }
        if condition.value is not None:
            data["value"] = condition.value
        if condition.within_days is not None:
            data["within_days"] = condition.within_days
        if condition.where is not None:
            data["where"] = rule_to_dict(condition.where)
        return data
    if isinstance(condition, SegmentConditionSpec):
        return {"segment": condition.segment, "operator": condition.operator}
    return {
        "field": condition.field,
        "operator": condition.operator,
        "value": condition.value,
    }


# Stored in the Condition table as (field, operator, value): behaviours as
# field "event:<name>", segment tests as "segment:<id>", so a search by field finds
# where an event or a segment is used.
def condition_to_row(condition: AnyCondition) -> tuple[str, str, Any]:
    data = condition_to_dict(condition)
    if isinstance(condition, EventConditionSpec):
        rest = {k: v for k, v in data.items() if k not in ("event", "operator")}
        return f"event:{condition.event}", condition.operator, rest or None
    if isinstance(condition, SegmentConditionSpec):
        return f"segment:{condition.segment}", condition.operator, None
    return condition.field, condition.operator, condition.value


def condition_from_row(field: str, operator: str, value: Any) -> AnyCondition:
    if field.startswith("event:"):
        rest = value or {}
        where = rest.get("where")
        return EventConditionSpec(
            field.removeprefix("event:"),
            operator,
            rest.get("value"),
            rest.get("within_days"),
            _parse_where(where) if where else None,
        )
    if field.startswith("segment:"):
        return SegmentConditionSpec(int(field.removeprefix("segment:")), operator)
    return ConditionSpec(field, operator, value)


def _parse_where(data: Any) -> RuleSpec:
    parser = _Parser(allow_event_fields=False, max_depth=DEFAULT_MAX_DEPTH)
    parser.in_where = True
    spec = parser.rule(data, "where", 1)
    if parser.errors or spec is None:
        raise RuleSpecError(parser.errors)
    return spec
