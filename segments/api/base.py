"""What every API view shares: the body size limit, idempotency, throttling's message
and lookups that answer 404 with a sentence."""

import functools
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
from .fields import TEXT_PROBLEM, bad_text
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
        # A method the path does not take is refused before anything else, so an
        # Idempotency-Key sent with it is neither checked nor stored.
        if not hasattr(self, request.method.lower()):
            raise exceptions.MethodNotAllowed(request.method)
        length = check_body_size(request, self.body_limit())
        check_text(request, kwargs)
        super().initial(request, *args, **kwargs)
        # A body past the API's own limit (an upload) is too large to hash: no replay.
        if idempotency.requested(request) and length <= settings.API_MAX_BODY_BYTES:
            self.idempotent_request = idempotency.claim(request)

    def body_limit(self) -> tuple[int, str]:
        """The largest body this view reads, and what to tell a client past it."""
        return (
            settings.API_MAX_BODY_BYTES,
            "Split the request (at most 10,000 ids per call).",
        )

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


def check_body_size(request, limit: tuple[int, str]) -> int:
    """The body's length from its Content-Length, refused (413) past `limit` before
    anything reads it."""
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        raise exceptions.ParseError("Content-Length is not a number.") from None
    most, advice = limit
    if length > most:
        raise PayloadTooLarge(
            f"The body has {length:,} bytes; the limit is {most:,} bytes. {advice}"
        )
    return length


def check_text(request, path_values: dict[str, Any]) -> None:
    """Path and query values are text the database can store: no NUL character.
    (Django decodes them as UTF-8 with replacement, so no lone surrogates.)"""
    values = {**{f"query.{k}": v for k, v in request.query_params.items()}}
    values.update({f"path.{k}": v for k, v in path_values.items()})
    errors = {
        name: [TEXT_PROBLEM] for name, value in values.items() if bad_text(str(value))
    }
    if errors:
        raise exceptions.ValidationError(errors)


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
    """The validated query. Without one, the serializer's defaults, validated once
    per serializer: a query serializer's defaults are constants."""
    if not request.query_params:
        return dict(_query_defaults(serializer_class))
    # A plain dict: from a QueryDict, DRF reads a missing boolean as false.
    return valid(serializer_class, request.query_params.dict())


@functools.cache
def _query_defaults(serializer_class) -> dict[str, Any]:
    return valid(serializer_class, {})  # a refusal is raised, not cached


class NewestFirst(CursorPagination):
    """Cursor pages, newest row first: stable while rows are added. A `limit` or
    `cursor` that is not one this API made is refused (400), not ignored."""

    ordering = "-id"
    page_size = 100
    page_size_query_param = "limit"
    max_page_size = 1000

    def get_page_size(self, request) -> int:
        given = request.query_params.get(self.page_size_query_param)
        if given is None:
            return self.page_size
        if not _digits(given) or not 1 <= int(given) <= self.max_page_size:
            raise exceptions.ValidationError(
                {"limit": [f"Expected a whole number from 1 to {self.max_page_size}."]}
            )
        return int(given)

    def decode_cursor(self, request):
        try:
            cursor = super().decode_cursor(request)
        except exceptions.NotFound:
            raise _bad_cursor() from None
        if cursor and cursor.position is not None and not _digits(cursor.position):
            raise _bad_cursor()  # positions are ids: anything else was made up
        return cursor

    def get_schema_operation_parameters(self, view):
        parameters = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            if parameter["name"] == self.page_size_query_param:
                parameter["schema"].update(minimum=1, maximum=self.max_page_size)
        return parameters


def _digits(text: str) -> bool:
    return text.isascii() and text.isdigit()  # "²".isdigit() too, but not int()


def _bad_cursor() -> exceptions.ValidationError:
    return exceptions.ValidationError(
        {"cursor": ["Not a cursor from this API: follow `next` or `previous`."]}
    )


def paginated(view, queryset, serializer_class) -> Response:
    paginator = view.pagination_class()
    page = paginator.paginate_queryset(queryset, view.request, view=view)
    return paginator.get_paginated_response(serializer_class(page, many=True).data)
