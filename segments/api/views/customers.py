"""Customers and events coming in from integrations (scope `ingest`)."""

from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response

from segments.models import ApiKey
from segments.services import customer_upsert, event_record

from ..base import ApiView, actor, customer_or_404, valid
from ..serializers import (
    AliasedSerializer,
    CustomerInput,
    CustomerOutput,
    IdField,
    JsonObjectField,
)

INGEST = {"POST": ApiKey.Scope.INGEST}


class CustomersApi(ApiView):
    scopes = INGEST

    @extend_schema(
        request=CustomerInput,
        responses={200: CustomerOutput, 201: CustomerOutput},
        summary="Create or update a customer by id",
        description="Fields left out keep their value; `attributes` merge into the "
        "stored ones and a null value removes that key. 201 when created, 200 when "
        "updated.",
    )
    def post(self, request):
        data = valid(CustomerInput, request.data)
        result = customer_upsert(actor=actor(request), **data)
        code = status.HTTP_201_CREATED if result.created else status.HTTP_200_OK
        return Response(CustomerOutput(result.customer).data, status=code)


class EventsApi(ApiView):
    scopes = INGEST

    class InputSerializer(AliasedSerializer):
        aliases = {"id": "user_id", "event": "name"}

        user_id = IdField(help_text="The customer's id (or `id`).")
        name = serializers.CharField(max_length=200, help_text="Or `event`.")
        properties = JsonObjectField(required=False)
        timestamp = serializers.DateTimeField(
            required=False, help_text="When it happened (ISO 8601); default now."
        )
        message_id = serializers.CharField(
            required=False,
            allow_blank=True,
            max_length=255,
            help_text="Makes retries safe: an event with a message_id already "
            "stored is not stored again.",
        )

    class OutputSerializer(serializers.Serializer):
        id = serializers.IntegerField()
        user_id = serializers.CharField(source="customer.external_id")
        name = serializers.CharField()
        properties = serializers.DictField()
        timestamp = serializers.DateTimeField()
        received_at = serializers.DateTimeField()
        message_id = serializers.CharField()

    @extend_schema(
        request=InputSerializer,
        responses={200: OutputSerializer, 201: OutputSerializer},
        summary="Record an event a customer performed",
        description="201 when stored, 200 with the stored event when its "
        "`message_id` was seen before. The customer must exist (POST /customers).",
    )
    def post(self, request):
        data = valid(self.InputSerializer, request.data)
        customer = customer_or_404(value=data.pop("user_id"))
        result = event_record(customer=customer, **data)
        code = status.HTTP_201_CREATED if result.created else status.HTTP_200_OK
        return Response(self.OutputSerializer(result.event).data, status=code)
