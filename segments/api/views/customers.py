"""Customers coming in from integrations (scope `ingest`)."""

from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.response import Response

from segments.models import ApiKey
from segments.services import customer_upsert

from ..base import ApiView, actor, valid
from ..serializers import CustomerInput, CustomerOutput

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
