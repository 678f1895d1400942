"""Idempotency-Key on POST, PATCH and DELETE: the first answer is replayed for 24 hours.

No library: django-idempotency-key (last release 2023) keys on the header alone, not
on the API key, and answers in its own format; the newer DRF packages are young and
bring cache back-ends we do not need. This is the part we need, on our own table.

The request runs in one transaction that starts by inserting the key's row. A
concurrent retry inserting the same (API key, Idempotency-Key) waits on the unique
index until the first commits, then replays its answer: the work runs once. A 5xx
rolls the row back with everything else, so the client may retry.
"""

import hashlib
from datetime import timedelta

from django.db import IntegrityError, transaction
from django.http import HttpResponse
from django.utils import timezone
from rest_framework import exceptions
from rest_framework.renderers import JSONRenderer

from segments.models import IdempotentRequest

from .errors import Unprocessable

HEADER = "Idempotency-Key"
METHODS = ("POST", "PATCH", "DELETE")
REPLAY_WINDOW = timedelta(hours=24)
MAX_KEY_LENGTH = 255
# What the OpenAPI schema declares: visible ASCII, spaces only inside.
KEY_PATTERN = r"^[\x21-\x7e]([\x20-\x7e]*[\x21-\x7e])?$"


class Replay(Exception):
    """Raised when the key was seen: the view answers with the stored response."""

    def __init__(self, record: IdempotentRequest):
        self.record = record

    def response(self) -> HttpResponse:
        record = self.record
        response = HttpResponse(
            record.response_body,
            status=record.status_code,
            content_type="application/json" if record.response_body else None,
        )
        response["Idempotent-Replayed"] = "true"
        return response


def requested(request) -> bool:
    return request.method in METHODS and HEADER in request.headers


def valid_key(key: str) -> bool:
    return 0 < len(key) <= MAX_KEY_LENGTH and key.isascii() and key.isprintable()


def claim(request) -> IdempotentRequest:
    """Take the key for this request, or raise Replay or a 422 when it was used
    for another request."""
    key = request.headers[HEADER].strip()
    if not valid_key(key):
        raise exceptions.ValidationError(
            {
                HEADER: [
                    f"Expected 1 to {MAX_KEY_LENGTH} printable ASCII characters, "
                    "e.g. a UUID."
                ]
            }
        )
    fields = {
        "method": request.method,
        # Hashed like the body: a path may name a customer, and erasure must leave
        # nothing that does (the stored answers are scrubbed by the erasure itself).
        "path": _sha256(request.get_full_path().encode()),
        "body_hash": _sha256(request.body),
    }
    expired = timezone.now() - REPLAY_WINDOW
    mine = IdempotentRequest.objects.filter(api_key=request.auth, key=key)
    mine.filter(created_at__lt=expired).delete()
    try:
        with transaction.atomic():
            return IdempotentRequest.objects.create(
                api_key=request.auth, key=key, **fields
            )
    except IntegrityError:
        first = mine.get()
    if any(getattr(first, name) != value for name, value in fields.items()):
        raise Unprocessable(
            f"This {HEADER} was first used for another request; a retry must send "
            "the same method, path and body. Use a new key for a new request."
        )
    raise Replay(first)


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def store(record: IdempotentRequest, response) -> None:
    data = getattr(response, "data", None)
    record.status_code = response.status_code
    record.response_body = (
        JSONRenderer().render(data).decode() if data is not None else ""
    )
    record.save(update_fields=["status_code", "response_body"])


def purge_expired() -> int:
    """Delete records past the replay window; returns how many."""
    expired = timezone.now() - REPLAY_WINDOW
    deleted, _ = IdempotentRequest.objects.filter(created_at__lt=expired).delete()
    return deleted
