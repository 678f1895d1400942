"""Segment / RudderStack compatible intake: point their Webhook destination at
POST /api/v1/messages. One message per request, or {"batch": [...]}. The API key
goes in a header (X-API-Key, Authorization: Bearer) or as the HTTP Basic user,
Segment's own convention (password empty)."""

import base64
import binascii

from django.conf import settings
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.utils import PolymorphicProxySerializer, extend_schema
from rest_framework import exceptions, serializers, status
from rest_framework.response import Response

from segments.services import EventIngested
from segments.services.customers import CustomerUpsertResult
from segments.services.messages import Ignored, messages_ingest

from ..auth import ApiKeyAuthentication
from ..base import ApiView, actor, valid
from ..fields import JsonInput
from .events import INGEST, BatchErrorOutput, error_item


class BasicUserKeyAuthentication(ApiKeyAuthentication):
    """The API key as the HTTP Basic user name."""

    def sent_key(self, request) -> str | None:
        return _basic_user(request)


def _basic_user(request) -> str | None:
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        user = base64.b64decode(token, validate=True).decode().partition(":")[0]
    except (binascii.Error, UnicodeDecodeError):
        raise exceptions.AuthenticationFailed(
            "Authorization: Basic must carry base64 of '<api key>:'."
        ) from None
    return user.strip()


class BasicUserKeyScheme(OpenApiAuthenticationExtension):
    target_class = BasicUserKeyAuthentication
    name = "BasicUserKey"

    def get_security_definition(self, auto_schema):
        return {
            "type": "http",
            "scheme": "basic",
            "description": "The API key as the user name, password empty.",
        }


class MessageOutput(serializers.Serializer):
    type = serializers.CharField()
    user_id = serializers.CharField(allow_null=True)
    customer_created = serializers.BooleanField()
    event_id = serializers.IntegerField(allow_null=True)
    segments_entered = serializers.ListField(child=serializers.IntegerField())
    segments_left = serializers.ListField(child=serializers.IntegerField())
    campaigns_entered = serializers.ListField(child=serializers.IntegerField())


class MessagesBatchOutput(serializers.Serializer):
    received = serializers.IntegerField()
    events_stored = serializers.IntegerField()
    duplicates = serializers.IntegerField()
    identified = serializers.IntegerField()
    ignored = serializers.IntegerField()
    rejected = serializers.IntegerField()
    errors = BatchErrorOutput(many=True)


class MessagesInput(JsonInput):
    batch = serializers.ListField(
        child=serializers.JSONField(),
        allow_empty=False,
        max_length=settings.EVENTS_BATCH_MAX,
        required=False,
        help_text="Several messages at once (Segment's and RudderStack's batch).",
    )
    type = serializers.CharField(
        required=False, help_text="identify, track, page, screen; group, alias: ignored"
    )


class MessagesApi(ApiView):
    scopes = INGEST
    authentication_classes = [ApiKeyAuthentication, BasicUserKeyAuthentication]

    @extend_schema(
        request=MessagesInput,
        responses={
            200: PolymorphicProxySerializer(
                component_name="MessagesAnswer",
                serializers=[MessageOutput, MessagesBatchOutput],
                resource_type_field_name=None,
            ),
            201: MessageOutput,
        },
        summary="Segment / RudderStack messages (identify, track, page, screen)",
        description="One message answers like POST /events (201, or 200 for a "
        "repeated messageId or an identify of a known user); a batch answers 200 "
        "with counts and the errors by index. See docs/events.md.",
    )
    def post(self, request):
        data = request.data
        if isinstance(data, dict) and "batch" in data:
            messages = valid(MessagesInput, data)["batch"]
            results = messages_ingest(actor=actor(request), messages=messages)
            body = batch_summary(results)
            return Response(MessagesBatchOutput(body).data)
        (result,) = messages_ingest(actor=actor(request), messages=[data])
        if isinstance(result, Exception):
            raise result
        return single_answer(data, result)


def single_answer(message, result) -> Response:
    created = not isinstance(result, Ignored) and result.created
    answer = {
        "type": message.get("type"),
        "user_id": message.get("userId") or message.get("anonymousId"),
        "customer_created": bool(getattr(result, "customer_created", created)),
        "event_id": result.event_id if isinstance(result, EventIngested) else None,
        "segments_entered": getattr(result, "segments_entered", []),
        "segments_left": getattr(result, "segments_left", []),
        "campaigns_entered": getattr(result, "campaigns_entered", []),
    }
    code = status.HTTP_201_CREATED if created else status.HTTP_200_OK
    return Response(MessageOutput(answer).data, status=code)


def batch_summary(results) -> dict:
    events = [r for r in results if isinstance(r, EventIngested)]
    stored = sum(r.created for r in events)
    errors = [
        error_item(index, r)
        for index, r in enumerate(results)
        if isinstance(r, Exception)
    ]
    return {
        "received": len(results),
        "events_stored": stored,
        "duplicates": len(events) - stored,
        "identified": sum(isinstance(r, CustomerUpsertResult) for r in results),
        "ignored": sum(isinstance(r, Ignored) for r in results),
        "rejected": len(errors),
        "errors": errors,
    }
