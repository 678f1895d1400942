"""What the condition builder offers: fields seen in the data with their types, the
operators valid for each type, event names seen with their property keys."""

from collections import Counter, defaultdict
from typing import Any

from segments.models import Customer, Event, Segment
from segments.rules import spec as rules
from segments.rules.values import data_day, is_number

# How much recent data is read to find attribute keys and events: enough to see
# what integrations send, cheap at any table size (newest rows, by index).
SAMPLE_CUSTOMERS = 1000
SAMPLE_EVENTS = 5000
MAX_PATH_DEPTH = 3

BUILTIN_LABELS = {
    "external_id": "Customer id",
    "email": "Email",
    "phone": "Phone",
    "first_name": "First name",
    "last_name": "Last name",
    "created_at": "Sign up date",
    "last_seen_at": "Last seen",
}
OPERATOR_LABELS = {
    "equals": "is",
    "not_equals": "is not",
    "in": "is one of",
    "not_in": "is none of",
    "contains": "contains",
    "not_contains": "does not contain",
    "starts_with": "starts with",
    "ends_with": "ends with",
    "regex": "matches the pattern",
    "gt": "is greater than",
    "gte": "is at least",
    "lt": "is less than",
    "lte": "is at most",
    "between": "is between",
    "before": "is before",
    "after": "is after",
    "on": "is on",
    "within_last": "is within the last (days)",
    "not_within_last": "is not within the last (days)",
    "is_set": "is set",
    "is_not_set": "is not set",
    "is_true": "is true",
    "is_false": "is false",
    "at_least": "at least",
    "at_most": "at most",
    "exactly": "exactly",
    "not_performed": "never",
}
# Operators offered for each type of value, in the order they are listed.
_EQUALITY = ["equals", "not_equals", "in", "not_in"]
_PRESENCE = ["is_set", "is_not_set"]
_ORDER = ["gt", "gte", "lt", "lte", "between"]
_DATES = ["after", "before", "on", "within_last", "not_within_last", "between"]
_TEXT = ["contains", "not_contains", "starts_with", "ends_with", "regex"]
OPERATORS_BY_TYPE = {
    "text": [*_EQUALITY, *_TEXT, *_PRESENCE],
    "number": [*_EQUALITY, *_ORDER, *_PRESENCE],
    "date": [*_DATES, *_PRESENCE],
    "boolean": ["is_true", "is_false", *_PRESENCE],
    "any": sorted(rules.OPERATORS),
}


def value_type(value: Any) -> str:
    if isinstance(value, bool):
        return "boolean"
    if is_number(value):
        return "number"
    if isinstance(value, str):
        return "date" if data_day(value) else "text"
    return "any"


def _paths(data: Any, prefix: str, depth: int = 1):
    """(dotted path, type) for every leaf of a JSON object, nested objects walked."""
    if not isinstance(data, dict):
        return
    for key, value in data.items():
        path = f"{prefix}.{key}"
        if isinstance(value, dict) and depth < MAX_PATH_DEPTH:
            yield from _paths(value, path, depth + 1)
        elif value is not None and not isinstance(value, list | dict):
            yield path, value_type(value)


def _typed_fields(objects, prefix: str) -> list[dict[str, str]]:
    """Each path seen, with the type most of its values have."""
    seen: dict[str, Counter] = defaultdict(Counter)
    for data in objects:
        for path, kind in _paths(data, prefix):
            seen[path][kind] += 1
    return [
        {
            "field": path,
            "label": path.split(".", 1)[1],
            "type": kinds.most_common(1)[0][0],
        }
        for path, kinds in sorted(seen.items())
    ]


def rule_catalog(*, exclude_segment: Segment | None = None) -> dict[str, Any]:
    """Everything the builder lists, as JSON-ready data."""
    attributes = Customer.objects.order_by("-pk").values_list("attributes", flat=True)
    recent = list(
        Event.objects.order_by("-received_at").values_list("name", "properties")[
            :SAMPLE_EVENTS
        ]
    )
    by_name: dict[str, list] = defaultdict(list)
    for name, properties in recent:
        by_name[name].append(properties)
    segments = Segment.objects.filter(archived=False).order_by("name")
    if exclude_segment is not None:
        segments = segments.exclude(pk=exclude_segment.pk)
    return {
        "builtins": [
            {
                "field": name,
                "label": label,
                "type": "date" if name in rules.DATE_FIELDS else "text",
            }
            for name, label in BUILTIN_LABELS.items()
        ],
        "attributes": _typed_fields(attributes[:SAMPLE_CUSTOMERS], "attributes"),
        "events": [
            {"name": name, "properties": _typed_fields(props, "event")}
            for name, props in sorted(by_name.items())
        ],
        "segments": [{"id": s.pk, "name": s.name} for s in segments],
        "operators": OPERATORS_BY_TYPE,
        "labels": OPERATOR_LABELS,
        "event_operators": ["at_least", "at_most", "exactly", "not_performed"],
    }
