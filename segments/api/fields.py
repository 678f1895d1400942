"""What a request body may hold, said once for the parser, the serializers and the
OpenAPI schema: text the databases can store, JSON of a bounded shape, ids, and
JSON types taken as they are declared (no "12" for 12)."""

import re
from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

MAX_ID_LENGTH = 255
# attributes, properties, metadata: JSON objects of a bounded shape (docs/api.md).
JSON_MAX_DEPTH = 10
JSON_MAX_KEYS = 500
JSON_MAX_KEY_LENGTH = 255

# Text neither the databases nor the JSON renderer can take back.
_BAD_TEXT = re.compile("[\x00\ud800-\udfff]")
TEXT_PROBLEM = (
    "Text may not contain NUL (\\u0000) or unpaired surrogate "
    "(\\ud800-\\udfff) characters."
)
# The same rules as schema patterns, for Python's and the validators' (Rust) regex
# engines alike. Unpaired surrogates are left out: Rust's regex cannot name them,
# and the fuzzers' text never holds them; the parser refuses them all the same.
# Non-blank text has a character that str.strip() keeps (DRF trims what it reads).
_SPACE = r"\t-\r\x1c- \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000"
TEXT_PATTERN = r"^[^\x00]*$"
NON_BLANK_PATTERN = rf"^[^\x00]*[^\x00{_SPACE}][^\x00]*$"
# Customer ids are path segments: no "/" either.
CUSTOMER_ID_PATTERN = rf"^[^/\x00]*[^/\x00{_SPACE}][^/\x00]*$"


def bad_text(text: str) -> bool:
    return _BAD_TEXT.search(text) is not None


def json_shape_problem(value: Any) -> str | None:
    """Why this JSON value is too deep or too wide, or None. Iterative: a value
    can be as deep as the parser lets through."""
    stack = [(value, 1)]
    while stack:
        node, depth = stack.pop()
        if not isinstance(node, dict | list):
            continue
        if depth > JSON_MAX_DEPTH:
            return f"Nested deeper than {JSON_MAX_DEPTH} levels; flatten it."
        if isinstance(node, dict):
            if len(node) > JSON_MAX_KEYS:
                return f"More than {JSON_MAX_KEYS} keys in one object."
            if any(len(key) > JSON_MAX_KEY_LENGTH for key in node):
                return f"A key is longer than {JSON_MAX_KEY_LENGTH} characters."
            node = list(node.values())
        stack.extend((child, depth + 1) for child in node)
    return None


class BoundedJsonMixin:
    def to_internal_value(self, data):
        data = super().to_internal_value(data)  # type: ignore[misc]
        problem = json_shape_problem(data)
        if problem:
            raise serializers.ValidationError(problem)
        return data


# The components are written by segments.api.schema.add_json_components.
@extend_schema_field({"$ref": "#/components/schemas/JsonObject"})
class JsonObjectField(BoundedJsonMixin, serializers.DictField):
    """A JSON object of at most JSON_MAX_DEPTH levels and JSON_MAX_KEYS keys each."""


@extend_schema_field({"$ref": "#/components/schemas/JsonValue"})
class JsonValueField(BoundedJsonMixin, serializers.JSONField):
    """Any JSON value, bounded as JsonObjectField."""


@extend_schema_field({"type": "object", "additionalProperties": {}})
class RulesField(serializers.JSONField):
    """A condition tree: an object, checked by the rule engine with its own limits
    (SEGMENT_RULES_MAX_DEPTH, SEGMENT_RULES_MAX_CONDITIONS)."""


ID_SCHEMA = {
    "oneOf": [
        {
            "type": "string",
            "minLength": 1,
            "maxLength": MAX_ID_LENGTH,
            "pattern": NON_BLANK_PATTERN,
        },
        {"type": "integer"},  # taken as its digits
    ]
}


@extend_schema_field(ID_SCHEMA)
class IdField(serializers.CharField):
    """A customer id as integrations send it: text, or a number taken as text."""

    def __init__(self, **kwargs):
        kwargs.setdefault("max_length", MAX_ID_LENGTH)
        super().__init__(**kwargs)

    def to_internal_value(self, data):
        if isinstance(data, bool) or not isinstance(data, str | int):
            self.fail("invalid")
        return super().to_internal_value(data)


@extend_schema_field(
    {
        "oneOf": [
            {**ID_SCHEMA["oneOf"][0], "pattern": CUSTOMER_ID_PATTERN},
            ID_SCHEMA["oneOf"][1],
        ]
    }
)
class CustomerIdField(IdField):
    """The id a customer is created with: no "/", since it names them in paths."""


def type_problem(field: serializers.Field, value: Any) -> str | None:
    """Why `value` is not of the JSON type `field` declares, or None. DRF would
    coerce "12" to 12, 1 to "1" and "yes" to true; the schema says otherwise."""
    if value is None or isinstance(field, IdField | serializers.JSONField):
        return None  # null: the field's own allow_null decides
    if isinstance(field, serializers.BooleanField):
        expected, ok = "true or false", isinstance(value, bool)
    elif isinstance(field, serializers.IntegerField):
        expected = "a whole number"
        ok = (isinstance(value, int) and not isinstance(value, bool)) or (
            isinstance(value, float) and value.is_integer()
        )
    elif isinstance(field, serializers.CharField | serializers.ChoiceField):
        expected, ok = "text", isinstance(value, str)
    elif isinstance(field, serializers.DateTimeField):
        expected, ok = "an ISO 8601 date and time", isinstance(value, str)
    elif isinstance(field, serializers.ListField) and isinstance(value, list):
        problems = (type_problem(field.child, item) for item in value)
        return next((p for p in problems if p), None)
    else:
        return None
    return None if ok else f"Expected {expected}."


class JsonInput(serializers.Serializer):
    """A request body's serializer: each field takes the JSON type it declares."""

    def to_internal_value(self, data):
        if isinstance(data, dict):
            errors = {
                name: [problem]
                for name, field in self.fields.items()
                if name in data and (problem := type_problem(field, data[name]))
            }
            if errors:
                raise serializers.ValidationError(errors)
        return super().to_internal_value(data)
