"""What every API view shares: the body size limit, idempotency, throttling's message
and lookups that answer 404 with a sentence."""

from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Model, QuerySet
from rest_framework import exceptions
from rest_framework.pagination import CursorPagination
from rest_framework.response import Response
from rest_framework.views import APIView

from segments.models import Customer, Segment
from segments.selectors import IdType, customer_by_id
from segments.services import Actor

from . import idempotency
from .errors import PayloadTooLarge
from .serializers import IdTypeQuery


class ApiView(APIView):
    idempotent_request = None

    def dispatch(self, request, *args, **kwargs):
        if idempotency.requested(request):
            # The key's row and the work commit together, or not at all.
            with transaction.atomic():
                return super().dispatch(request, *args, **kwargs)
        return super().dispatch(request, *args, **kwargs)

    def initial(self, request, *args, **kwargs):
        check_body_size(request)
        super().initial(request, *args, **kwargs)
        if idempotency.requested(request):
            self.idempotent_request = idempotency.claim(request)

    def handle_exception(self, exc):
        if isinstance(exc, idempotency.Replay):
            return exc.response()
        return super().handle_exception(exc)

    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        if self.idempotent_request is not None:
            idempotency.store(self.idempotent_request, response)
        return response

    def throttled(self, request, wait):
        raise exceptions.Throttled(
            wait,
            detail=f"Too many requests for this API key (limit "
            f"{settings.API_THROTTLE_RATE}).",
        )


def check_body_size(request) -> None:
    """Refuse large bodies from their Content-Length, before anything reads them."""
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        raise exceptions.ParseError("Content-Length is not a number.") from None
    limit = settings.API_MAX_BODY_BYTES
    if length > limit:
        raise PayloadTooLarge(
            f"The body has {length} bytes; the limit is {limit} bytes. "
            "Split the request (at most 10,000 ids per call)."
        )


def get_or_404[M: Model](queryset: QuerySet[M], what: str, **lookup) -> M:
    """The one object matching `lookup`, or a 404 saying which was not found."""
    found = queryset.filter(**lookup).first()
    if found is None:
        value = next(iter(lookup.values()))
        raise exceptions.NotFound(f"No {what} with id {value!r}.")
    return found


def customer_or_404(*, value: str, id_type: str = IdType.ID) -> Customer:
    customer = customer_by_id(value=value, id_type=id_type)
    if customer is None:
        label = IdType(id_type).label.lower()
        raise exceptions.NotFound(f"No customer with {label} {value!r}.")
    return customer


def segment_or_404(segment_id: int) -> Segment:
    return get_or_404(Segment.objects, "segment", pk=segment_id)


def customer_in_path(request, value: str) -> Customer:
    """The customer a URL names, read with the query's `id_type` (default id)."""
    id_type = valid_query(IdTypeQuery, request)["id_type"]
    return customer_or_404(value=value, id_type=id_type)


def actor(request) -> Actor:
    return Actor.api(request.auth)


def valid(serializer_class, data, **context) -> dict[str, Any]:
    """The validated data, or a 400 naming each field at fault."""
    serializer = serializer_class(data=data, context=context)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


def valid_query(serializer_class, request) -> dict[str, Any]:
    # A plain dict: from a QueryDict, DRF reads a missing boolean as false.
    return valid(serializer_class, request.query_params.dict())


class NewestFirst(CursorPagination):
    """Cursor pages, newest row first: stable while rows are added."""

    ordering = "-id"
    page_size = 100
    page_size_query_param = "limit"
    max_page_size = 1000


def paginated(view, queryset, serializer_class) -> Response:
    paginator = view.pagination_class()
    page = paginator.paginate_queryset(queryset, view.request, view=view)
    return paginator.get_paginated_response(serializer_class(page, many=True).data)
