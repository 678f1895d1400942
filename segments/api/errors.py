"""One error body for the whole API: {"statusCode", "error", "message", "details"}.

DRF's exceptions, Django's ValidationError (raised by the services), Http404,
ObjectDoesNotExist (a row deleted meanwhile) and PermissionDenied all end up here;
so do Django's own 400, 403 (CSRF included), 404 and 500 pages for /api/ paths, and
a database that cannot be reached (503). An integration never receives an HTML page.
"""

import logging
from http import HTTPStatus
from typing import Any

from django.core.exceptions import NON_FIELD_ERRORS, ObjectDoesNotExist
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import InterfaceError, OperationalError
from django.http import Http404, JsonResponse
from django.views import csrf, defaults
from django.views.decorators.csrf import csrf_exempt
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import set_rollback

API_PREFIX = "/api/"
NON_FIELD = "non_field_errors"
# Seconds a client should wait before retrying while the database is unreachable;
# connections are tried afresh on every request, so recovery is immediate.
RETRY_AFTER_SECONDS = 5
# A lost connection, a refused one, a pool timeout (psycopg_pool.PoolTimeout is an
# OperationalError): the request may succeed later, so 503, not 500.
DATABASE_UNAVAILABLE = (OperationalError, InterfaceError)

logger = logging.getLogger(__name__)


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


def _is_api(request) -> bool:
    return request.path.startswith(API_PREFIX)


def _json_error(status_code: int, message: str) -> JsonResponse:
    return JsonResponse(error_body(status_code, message), status=status_code)


def handler400(request, exception=None):
    if _is_api(request):
        return _json_error(400, "The request is malformed; it was not processed.")
    return defaults.bad_request(request, exception)


def handler403(request, exception=None):
    if _is_api(request):
        return _json_error(403, str(exception or "") or "Not allowed.")
    return defaults.permission_denied(request, exception)


def csrf_failure(request, reason=""):
    """CSRF_FAILURE_VIEW: API views take no cookies, so this only meets paths
    outside the API's views; under /api/ it still answers JSON."""
    if _is_api(request):
        return _json_error(403, f"Refused: {reason}")
    return csrf.csrf_failure(request, reason)


def handler404(request, exception=None):
    if request.path.startswith(API_PREFIX):
        message = f"Nothing at {request.path}; see /api/docs/ for the endpoints."
        return JsonResponse(error_body(404, message), status=404)
    return defaults.page_not_found(request, exception)


def handler500(request):
    if _is_api(request):
        message = "Something went wrong on our side; the error is logged. Retry later."
        return _json_error(500, message)
    return defaults.server_error(request)


@csrf_exempt  # a POST to an unknown path is a 404, not a CSRF page
def api_not_found(request, *args, **kwargs):
    """Unknown paths under /api/: JSON even with DEBUG on."""
    return handler404(request)


def database_unavailable() -> JsonResponse:
    response = _json_error(
        503,
        "The database is unavailable right now; nothing was changed. "
        f"Retry in {RETRY_AFTER_SECONDS} seconds.",
    )
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response


class ApiErrorMiddleware:
    """503 with Retry-After when an API request fails because the database cannot
    be reached; every other unexpected error stays a 500 (handler500)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if not (_is_api(request) and isinstance(exception, DATABASE_UNAVAILABLE)):
            return None
        logger.warning("Database unavailable: %s %s", request.method, request.path)
        return database_unavailable()
