"""The shape of a segment's condition tree.

JSON form, as stored and as the API speaks it::

    {"match": "all", "conditions": [{"field": "attributes.channel",
     "operator": "equals", "value": "Facebook"}], "rules": [ ...nested... ]}

`parse_rule` checks the shape and names the place of every fault
(``rules[0].conditions[2].operator: unknown operator "foo"``).
"""

import re
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

DEFAULT_MAX_DEPTH = 5
DEFAULT_MAX_CONDITIONS = 100

BUILTIN_FIELDS = frozenset(
    {
        "external_id",
        "email",
        "phone",
        "first_name",
        "last_name",
        "created_at",
        "last_seen_at",
    }
)
# attributes.channel, attributes.address.city, event.amount
PATH_FIELD = re.compile(r"^(attributes|event)(\.[A-Za-z0-9_\-$ ]+)+$")

OPERATORS = frozenset(
    {
        "equals",
        "not_equals",
        "contains",
        "not_contains",
        "starts_with",
        "ends_with",
        "in",
        "not_in",
        "gt",
        "gte",
        "lt",
        "lte",
        "between",
        "is_set",
        "is_not_set",
        "regex",
        "is_true",
        "is_false",
        "before",
        "after",
        "on",
        "within_last",
        "not_within_last",
    }
)
VALUELESS_OPERATORS = frozenset({"is_set", "is_not_set", "is_true", "is_false"})
LIST_OPERATORS = frozenset({"in", "not_in"})


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
class RuleSpec:
    match: Match
    conditions: tuple[ConditionSpec, ...] = ()
    rules: tuple["RuleSpec", ...] = ()

    def depth(self) -> int:
        return 1 + max((rule.depth() for rule in self.rules), default=0)


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
    errors: dict[str, str] = {}
    counter = [0]
    spec = _parse_rule(data, "", 1, errors, counter, allow_event_fields, max_depth)
    if counter[0] > max_conditions:
        errors[""] = (
            f"at most {max_conditions} conditions are allowed, got {counter[0]}"
        )
    if errors or spec is None:
        raise RuleSpecError(errors)
    return spec


def _join(prefix: str, name: str) -> str:
    return f"{prefix}.{name}" if prefix else name


def _parse_rule(data, path, depth, errors, counter, allow_event_fields, max_depth):
    if not isinstance(data, dict):
        errors[path or "rules"] = "expected an object with match, conditions and rules"
        return None
    unknown = set(data) - {"match", "conditions", "rules"}
    if unknown:
        errors[_join(path, sorted(unknown)[0])] = "unknown key"
    match = data.get("match", Match.ALL)
    if match not in set(Match):
        errors[_join(path, "match")] = 'expected one of "all", "any", "none"'
    if depth > max_depth:
        errors[path] = f"groups may be nested at most {max_depth} deep"
        return None
    raw_conditions = data.get("conditions", [])
    raw_rules = data.get("rules", [])
    for key, value in (("conditions", raw_conditions), ("rules", raw_rules)):
        if not isinstance(value, list):
            errors[_join(path, key)] = "expected a list"
    if not isinstance(raw_conditions, list) or not isinstance(raw_rules, list):
        return None
    if not raw_conditions and not raw_rules:
        errors[path or "rules"] = "a group needs at least one condition or group"
    conditions = []
    for i, raw in enumerate(raw_conditions):
        counter[0] += 1
        condition = _parse_condition(
            raw, _join(path, f"conditions[{i}]"), errors, allow_event_fields
        )
        if condition:
            conditions.append(condition)
    rules = []
    for i, raw in enumerate(raw_rules):
        rule = _parse_rule(
            raw,
            _join(path, f"rules[{i}]"),
            depth + 1,
            errors,
            counter,
            allow_event_fields,
            max_depth,
        )
        if rule:
            rules.append(rule)
    if match not in set(Match):
        return None
    return RuleSpec(Match(match), tuple(conditions), tuple(rules))


def _parse_condition(
    data: Any, path: str, errors: dict[str, str], allow_event_fields: bool
) -> ConditionSpec | None:
    if not isinstance(data, dict):
        errors[path] = "expected an object with field, operator and value"
        return None
    unknown = set(data) - {"field", "operator", "value"}
    if unknown:
        errors[_join(path, sorted(unknown)[0])] = "unknown key"
    field, operator, value = data.get("field"), data.get("operator"), data.get("value")
    if not (isinstance(field, str) and _known_field(field, allow_event_fields)):
        errors[_join(path, "field")] = _field_problem(field, allow_event_fields)
        field = None
    if operator not in OPERATORS:
        errors[_join(path, "operator")] = f"unknown operator {operator!r}"
        return None
    problem = _value_problem(operator, value)
    if problem:
        errors[_join(path, "value")] = problem
    if field is None or problem:
        return None
    return ConditionSpec(field, operator, value)


def _value_problem(operator: str, value: Any) -> str | None:
    if operator in VALUELESS_OPERATORS:
        return f"{operator} takes no value" if value is not None else None
    if value is None:
        return f"{operator} needs a value"
    if operator in LIST_OPERATORS and not isinstance(value, list):
        return "expected a list"
    if operator == "between" and not (isinstance(value, list) and len(value) == 2):
        return "expected a list of two bounds [low, high]"
    return None


def _known_field(field: str, allow_event_fields: bool) -> bool:
    if field in BUILTIN_FIELDS:
        return True
    if not PATH_FIELD.match(field):
        return False
    return allow_event_fields or not field.startswith("event.")


def _field_problem(field: Any, allow_event_fields: bool) -> str:
    if isinstance(field, str) and field.startswith("event.") and not allow_event_fields:
        return "event properties can only be used in event-triggered segments"
    return (
        "expected a customer field ("
        + ", ".join(sorted(BUILTIN_FIELDS))
        + "), attributes.<name> or event.<name>"
    )


def rule_to_dict(spec: RuleSpec) -> dict[str, Any]:
    return {
        "match": str(spec.match),
        "conditions": [
            {"field": c.field, "operator": c.operator, "value": c.value}
            for c in spec.conditions
        ],
        "rules": [rule_to_dict(rule) for rule in spec.rules],
    }
