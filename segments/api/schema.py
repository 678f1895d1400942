"""The OpenAPI schema: component names from the views' nested serializers, the error
body as every operation's default answer, and the Idempotency-Key header on writes."""

from drf_spectacular.openapi import AutoSchema
from drf_spectacular.utils import OpenApiParameter
from rest_framework import serializers

from . import idempotency


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
