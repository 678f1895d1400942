"""Events in (scope `ingest`): one at a time, or a batch whose events are accepted or
refused each on its own."""

from django.conf import settings
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response

from segments.models import ApiKey
from segments.services import EventIngested, event_ingest, events_ingest

from ..base import ApiView, actor, valid
from ..errors import api_exception_handler
from ..serializers import AliasedSerializer, CustomerInput, IdField, JsonObjectField

INGEST = {"POST": ApiKey.Scope.INGEST}


class EventCustomerInput(CustomerInput):
    """The customer's fields an event may set; the event's user_id is the id."""

    id = None
    substitutionTags = None

    def validate(self, attrs):
        return attrs


class EventInput(AliasedSerializer):
    aliases = {"id": "user_id", "event": "name"}

    user_id = IdField(
        help_text="The customer's id (or `id`). Unknown ids create the customer."
    )
    name = serializers.CharField(max_length=200, help_text="Or `event`.")
    properties = JsonObjectField(required=False)
    timestamp = serializers.DateTimeField(
        required=False, help_text="When it happened (ISO 8601); default now."
    )
    message_id = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=255,
        help_text="Makes retries safe: a second event of the same customer with "
        "this message_id is not stored again, and gets the first answer.",
    )
    customer = EventCustomerInput(
        required=False,
        help_text="Fields set on the customer (created or updated) before the "
        "event is stored.",
    )


class EventOutput(serializers.Serializer):
    event_id = serializers.IntegerField()
    customer_created = serializers.BooleanField()
    segments_entered = serializers.ListField(child=serializers.IntegerField())
    segments_left = serializers.ListField(child=serializers.IntegerField())
    campaigns_entered = serializers.ListField(child=serializers.IntegerField())


class EventsApi(ApiView):
    scopes = INGEST

    @extend_schema(
        request=EventInput,
        responses={200: EventOutput, 201: EventOutput},
        summary="Record an event a customer performed",
        description="An unknown `user_id` creates the customer (with `customer`'s "
        "fields, if given), then the event is stored and applied, in one "
        "transaction. 201 says what it changed: the segments entered and left and "
        "the campaigns entered. 200 with the first answer when the customer's "
        "`message_id` was seen before.",
    )
    def post(self, request):
        data = valid(EventInput, request.data)
        result = event_ingest(actor=actor(request), **data)
        return event_response(result)


def event_response(result: EventIngested) -> Response:
    code = status.HTTP_201_CREATED if result.created else status.HTTP_200_OK
    return Response(EventOutput(result).data, status=code)


class BatchErrorOutput(serializers.Serializer):
    index = serializers.IntegerField(help_text="The event's place in `events`, from 0.")
    message = serializers.CharField()
    details = serializers.DictField(
        child=serializers.ListField(child=serializers.CharField()),
        help_text="Each field at fault with its problems.",
    )


class EventsBatchApi(ApiView):
    scopes = INGEST

    class InputSerializer(serializers.Serializer):
        events = serializers.ListField(
            child=serializers.JSONField(),
            allow_empty=False,
            max_length=settings.EVENTS_BATCH_MAX,
            error_messages={
                "max_length": f"At most {settings.EVENTS_BATCH_MAX:,} events per "
                "batch; split it."
            },
            help_text=f"Up to {settings.EVENTS_BATCH_MAX:,} events, each as "
            "POST /events takes it.",
        )

    class OutputSerializer(serializers.Serializer):
        received = serializers.IntegerField()
        stored = serializers.IntegerField()
        duplicates = serializers.IntegerField()
        rejected = serializers.IntegerField()
        errors = BatchErrorOutput(many=True)

    @extend_schema(
        request=InputSerializer,
        responses={200: OutputSerializer},
        summary="Record a batch of events",
        description="Each event is accepted or refused on its own: refused ones are "
        "listed in `errors` by their index, the others are stored (duplicates of a "
        "stored message_id are counted, not stored). One transaction.",
    )
    def post(self, request):
        events = valid(self.InputSerializer, request.data)["events"]
        checked, errors = batch_checked(events)
        result = events_ingest(actor=actor(request), events=list(checked.values()))
        for index, outcome in zip(checked, result.results, strict=True):
            if not isinstance(outcome, EventIngested):
                errors.append(error_item(index, outcome))
        created = sum(r.created for r in result.accepted)
        body = {
            "received": len(events),
            "stored": created,
            "duplicates": len(result.accepted) - created,
            "rejected": len(errors),
            "errors": sorted(errors, key=lambda e: e["index"]),
        }
        return Response(self.OutputSerializer(body).data)


def batch_checked(events: list) -> tuple[dict[int, dict], list[dict]]:
    """Each event through EventInput: the valid ones by index, and the errors."""
    checked: dict[int, dict] = {}
    errors: list[dict] = []
    for index, raw in enumerate(events):
        serializer = EventInput(data=raw)
        if serializer.is_valid():
            checked[index] = serializer.validated_data
        else:
            exc = serializers.ValidationError(serializer.errors)
            errors.append(error_item(index, exc))
    return checked, errors


def error_item(index: int, exc: Exception) -> dict:
    """The API's error body for one event of a batch, with its index."""
    response = api_exception_handler(exc, {})
    body = response.data if response is not None else {"message": str(exc)}
    return {
        "index": index,
        "message": f"Event {index}: {body['message']}",
        "details": body.get("details") or {},
    }
