"""One error body for the whole API: {"statusCode", "error", "message", "details"}.

DRF's exceptions, Django's ValidationError (raised by the services), Http404,
ObjectDoesNotExist (a row deleted meanwhile) and PermissionDenied all end up here;
so do Django's own 404 and 500 pages for /api/ paths. An integration never
receives an HTML page.
"""

from http import HTTPStatus
from typing import Any

from django.core.exceptions import NON_FIELD_ERRORS, ObjectDoesNotExist
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404, JsonResponse
from django.views import defaults
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import set_rollback

API_PREFIX = "/api/"
NON_FIELD = "non_field_errors"


class PayloadTooLarge(exceptions.APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_code = "payload_too_large"


class Unprocessable(exceptions.APIException):
    status_code = status.HTTP_422_UNPROCESSABLE_ENTITY
    default_code = "unprocessable"


def error_body(status_code: int, message: str, details: Any = None) -> dict[str, Any]:
    body = {
        "statusCode": status_code,
        "error": HTTPStatus(status_code).phrase,
        "message": message,
    }
    if details:
        body["details"] = details
    return body


def api_exception_handler(exc: Exception, context: dict) -> Response | None:
    """DRF's EXCEPTION_HANDLER. Returns None for unexpected errors: Django then logs
    them and answers with handler500 below."""
    exc = _as_api_exception(exc)
    if not isinstance(exc, exceptions.APIException):
        return None
    details = _flatten(exc.detail) if isinstance(exc.detail, dict | list) else None
    message = _message(exc, details)
    if details == {NON_FIELD: [message]}:
        details = None  # the message says it all
    headers = {}
    if getattr(exc, "auth_header", None):
        headers["WWW-Authenticate"] = exc.auth_header
    if getattr(exc, "wait", None):
        headers["Retry-After"] = str(int(exc.wait + 0.999))
    if exc.status_code >= 500:
        set_rollback()
    return Response(
        error_body(exc.status_code, message, details),
        status=exc.status_code,
        headers=headers,
    )


def _as_api_exception(exc: Exception) -> Exception:
    if isinstance(exc, DjangoValidationError):
        detail = exc.message_dict if hasattr(exc, "error_dict") else exc.messages
        return exceptions.ValidationError(detail)
    if isinstance(exc, Http404):
        return exceptions.NotFound(*exc.args)
    if isinstance(exc, ObjectDoesNotExist):
        # A service found its row gone (deleted by a racing request): 404, not 500.
        return exceptions.NotFound(str(exc) or "It no longer exists.")
    if isinstance(exc, DjangoPermissionDenied):
        return exceptions.PermissionDenied(*exc.args)
    return exc


def _flatten(detail: Any, path: str = "") -> dict[str, list[str]]:
    """DRF's nested errors as {"customers[2].email": ["..."]}: the path says which
    field of which row."""
    if isinstance(detail, dict):
        flat: dict[str, list[str]] = {}
        for key, value in detail.items():
            flat.update(_flatten(value, _join(path, key)))
        return flat
    if isinstance(detail, list) and any(isinstance(d, dict | list) for d in detail):
        flat = {}
        for index, value in enumerate(detail):
            if value:
                flat.update(_flatten(value, f"{path}[{index}]"))
        return flat
    messages = detail if isinstance(detail, list) else [detail]
    return {path or NON_FIELD: [str(m) for m in messages]}


def _join(path: str, key: Any) -> str:
    if isinstance(key, int):  # a list's errors come keyed by index
        return f"{path}[{key}]"
    name = NON_FIELD if key == NON_FIELD_ERRORS else str(key)
    return f"{path}.{name}" if path else name


def _message(exc: exceptions.APIException, details: dict | None) -> str:
    if not details:
        return str(exc.detail)
    field, problems = next(iter(details.items()))
    first = problems[0] if field == NON_FIELD else f"{field}: {problems[0]}"
    others = sum(len(p) for p in details.values()) - 1
    return first if not others else f"{first} (and {others} more problems)"


def handler404(request, exception=None):
    if request.path.startswith(API_PREFIX):
        message = f"Nothing at {request.path}; see /api/docs/ for the endpoints."
        return JsonResponse(error_body(404, message), status=404)
    return defaults.page_not_found(request, exception)


def handler500(request):
    if request.path.startswith(API_PREFIX):
        message = "Something went wrong on our side; the error is logged. Retry later."
        return JsonResponse(error_body(500, message), status=500)
    return defaults.server_error(request)


def api_not_found(request, *args, **kwargs):
    """Unknown paths under /api/: JSON even with DEBUG on."""
    return handler404(request)
