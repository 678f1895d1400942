"""The OpenAPI schema: component names from the views' nested serializers, the error
body as every operation's default answer, the Idempotency-Key header on writes, and
the bounded JSON that attributes, properties and metadata take."""

from typing import Any

from drf_spectacular.openapi import AutoSchema
from drf_spectacular.utils import OpenApiParameter
from rest_framework import serializers

from . import idempotency
from .fields import (
    JSON_MAX_DEPTH,
    JSON_MAX_KEY_LENGTH,
    JSON_MAX_KEYS,
    NON_BLANK_PATTERN,
    TEXT_PATTERN,
)


class ErrorSerializer(serializers.Serializer):
    statusCode = serializers.IntegerField(help_text="The HTTP status, repeated.")
    error = serializers.CharField(help_text='The status phrase, e.g. "Bad Request".')
    message = serializers.CharField(help_text="What went wrong, in one sentence.")
    details = serializers.DictField(
        child=serializers.ListField(child=serializers.CharField()),
        required=False,
        help_text='Problems per field, e.g. {"ids[3]": ["..."]}.',
    )


IDEMPOTENCY_KEY = OpenApiParameter(
    idempotency.HEADER,
    location=OpenApiParameter.HEADER,
    type={
        "type": "string",
        "minLength": 1,
        "maxLength": idempotency.MAX_KEY_LENGTH,
        "pattern": idempotency.KEY_PATTERN,
    },
    required=False,
    description="Any unique string: a retry with the same key, method, path and "
    "body replays the first answer for 24 hours; another body gets 422.",
)


class ApiSchema(AutoSchema):
    def get_serializer_name(self, serializer, direction) -> str:
        # SegmentDetailApi.OutputSerializer -> SegmentDetailOutput: the nested
        # Input/Output classes of every view would otherwise share two names.
        outer, _, inner = type(serializer).__qualname__.rpartition(".")
        if not outer:
            return inner
        return outer.removesuffix("Api") + inner.removesuffix("Serializer")

    def get_override_parameters(self):
        parameters = super().get_override_parameters()
        if self.method in idempotency.METHODS:
            parameters = [*parameters, IDEMPOTENCY_KEY]
        return parameters

    def _get_response_bodies(self, direction="response"):
        responses = super()._get_response_bodies(direction)
        responses.setdefault(
            "default", self._get_response_for_code(ErrorSerializer, "default")
        )
        return responses


JSON_VALUE = {"$ref": "#/components/schemas/JsonValue"}


def _object(values: dict[str, Any]) -> dict[str, Any]:
    return {
        "type": "object",
        "maxProperties": JSON_MAX_KEYS,
        "propertyNames": {"maxLength": JSON_MAX_KEY_LENGTH, "pattern": TEXT_PATTERN},
        "additionalProperties": values,
    }


def add_json_components(result, generator, request, public):
    """POSTPROCESSING_HOOK: JsonObject and JsonValue, recursive. The depth limit is
    in the description only: spelled out level by level, ten levels of choices make
    a schema no generator walks in time."""
    schemas = result.setdefault("components", {}).setdefault("schemas", {})
    limits = (
        f"At most {JSON_MAX_DEPTH} levels deep, {JSON_MAX_KEYS} keys per object, "
        f"{JSON_MAX_KEY_LENGTH} characters per key; no NUL or unpaired surrogate in "
        "any text."
    )
    schemas["JsonValue"] = {
        "description": f"Any JSON value. {limits}",
        "anyOf": [
            {"type": "string", "pattern": TEXT_PATTERN},
            {"type": ["number", "boolean", "null"]},
            {"type": "array", "items": JSON_VALUE},
            _object(JSON_VALUE),
        ],
    }
    schemas["JsonObject"] = {**_object(JSON_VALUE), "description": f"{limits}"}
    return result


def add_text_patterns(result, generator, request, public):
    """POSTPROCESSING_HOOK: what the server refuses in any text it reads (NUL, and
    blank where a value is required) as patterns on request bodies and parameters,
    so the schema says what the server takes."""
    for name, schema in result.get("components", {}).get("schemas", {}).items():
        if name.endswith("Request"):
            _pattern_strings(schema)
    for operations in result.get("paths", {}).values():
        for operation in operations.values():
            for parameter in operation.get("parameters", []):
                if parameter["in"] in ("path", "query"):
                    _pattern_strings(parameter["schema"])
    return result


def _pattern_strings(schema: dict[str, Any]) -> None:
    if schema.get("type") == "string" and not {"enum", "format", "pattern"} & set(
        schema
    ):
        blank_allowed = not schema.get("minLength")
        schema["pattern"] = TEXT_PATTERN if blank_allowed else NON_BLANK_PATTERN
    for child in schema.get("properties", {}).values():
        _pattern_strings(child)
    for key in ("items", "additionalProperties"):
        if isinstance(schema.get(key), dict):
            _pattern_strings(schema[key])
    for child in schema.get("oneOf", []) + schema.get("anyOf", []):
        _pattern_strings(child)
