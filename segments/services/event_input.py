"""What an incoming event may carry: the limits every face (API, batch, Segment /
RudderStack intake) shares, checked before anything is written."""

import json
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils import timezone

from segments.models import Event

NAME_MAX_LENGTH = Event._meta.get_field("name").max_length or 200
ID_MAX_LENGTH = 255
# What an event may set on its customer (customer_upsert's arguments).
CUSTOMER_KEYS = ("email", "phone", "first_name", "last_name", "attributes")


@dataclass(frozen=True)
class EventInput:
    """One event, checked: `customer` holds customer_upsert's keyword arguments
    (fields to set on the customer before the event is stored), or None."""

    user_id: str
    name: str
    properties: dict[str, Any] = field(default_factory=dict)
    timestamp: datetime | None = None
    message_id: str = ""
    customer: dict[str, Any] | None = None


def event_input_clean(
    *,
    user_id: str,
    name: str,
    properties: dict[str, Any] | None = None,
    timestamp: datetime | None = None,
    message_id: str | None = "",
    customer: dict[str, Any] | None = None,
    now: datetime | None = None,
) -> EventInput:
    """The event with its text trimmed, or a ValidationError naming each field at
    fault and the limit it broke."""
    errors: dict[str, str] = {}
    user_id = str(user_id or "").strip()
    name = (name or "").strip()
    message_id = (message_id or "").strip()
    if not user_id:
        errors["user_id"] = "An event needs the customer's id."
    elif len(user_id) > ID_MAX_LENGTH:
        errors["user_id"] = f"At most {ID_MAX_LENGTH} characters."
    if not name:
        errors["name"] = "An event needs a name."
    elif len(name) > NAME_MAX_LENGTH:
        errors["name"] = (
            f"At most {NAME_MAX_LENGTH} characters; this name has {len(name)}."
        )
    if len(message_id) > ID_MAX_LENGTH:
        errors["message_id"] = f"At most {ID_MAX_LENGTH} characters."
    problem = _properties_problem(properties)
    if problem:
        errors["properties"] = problem
    problem = _timestamp_problem(timestamp, now or timezone.now())
    if problem:
        errors["timestamp"] = problem
    problem = _customer_problem(customer)
    if problem:
        errors["customer"] = problem
    if errors:
        raise ValidationError(errors)
    return EventInput(
        user_id=user_id,
        name=name,
        properties=properties or {},
        timestamp=timestamp,
        message_id=message_id,
        customer=customer,
    )


def _customer_problem(customer: Any) -> str:
    if customer is None:
        return ""
    if not isinstance(customer, dict):
        return "Expected an object of customer fields."
    unknown = sorted(set(customer) - set(CUSTOMER_KEYS))
    if unknown:
        return f"Unknown field {unknown[0]!r}; expected {', '.join(CUSTOMER_KEYS)}."
    return ""


def _properties_problem(properties: Any) -> str:
    if properties is None:
        return ""
    if not isinstance(properties, dict):
        return "Expected an object of name: value."
    limit = settings.EVENT_PROPERTIES_MAX_DEPTH
    if _depth(properties) > limit:
        return f"Nested more than {limit} levels deep; flatten them."
    size = len(json.dumps(properties, separators=(",", ":"), default=str))
    if size > settings.EVENT_PROPERTIES_MAX_BYTES:
        return (
            f"{size} bytes as JSON; the limit is "
            f"{settings.EVENT_PROPERTIES_MAX_BYTES} bytes."
        )
    return ""


def _depth(value: Any) -> int:
    if isinstance(value, dict):
        return 1 + max((_depth(v) for v in value.values()), default=0)
    if isinstance(value, list):
        return 1 + max((_depth(v) for v in value), default=0)
    return 0


def _timestamp_problem(timestamp: datetime | None, now: datetime) -> str:
    if timestamp is None:
        return ""
    if timezone.is_naive(timestamp):
        return "Give a time zone (e.g. 2025-05-01T10:00:00Z)."
    ahead = timedelta(seconds=settings.EVENT_MAX_FUTURE_SECONDS)
    if timestamp > now + ahead:
        return (
            f"{timestamp.isoformat()} is in the future; at most "
            f"{settings.EVENT_MAX_FUTURE_SECONDS} seconds ahead of the server's "
            "clock are accepted."
        )
    return ""
