"""Segment's and RudderStack's message spec, taken as they send it to a webhook:
`identify` updates the customer (traits -> fields and attributes), `track`,
`page` and `screen` record events. `group` and `alias` are accepted and ignored.

Identifies are applied first, then every event in one events_ingest pass, so a
batch that identifies a user and tracks them sees the traits set."""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.dateparse import parse_datetime

from .actors import Actor
from .customers import CustomerUpsertResult, customer_upsert
from .events import EventIngested, events_ingest

EVENT_TYPES = ("track", "page", "screen")
IGNORED_TYPES = ("group", "alias")
# Traits that are customer fields; every other trait becomes an attribute.
TRAIT_FIELDS = {
    "email": "email",
    "phone": "phone",
    "firstName": "first_name",
    "first_name": "first_name",
    "lastName": "last_name",
    "last_name": "last_name",
}
VIEWED = {"page": "Page Viewed", "screen": "Screen Viewed"}


@dataclass(frozen=True)
class Ignored:
    type: str


MessageResult = EventIngested | CustomerUpsertResult | Ignored | ValidationError


@transaction.atomic
def messages_ingest(
    *, actor: Actor, messages: Sequence[Mapping[str, Any]]
) -> list[MessageResult]:
    """Apply each message; one entry per message, in order: what was done or why
    it was refused."""
    results: list[MessageResult | None] = [None] * len(messages)
    events: dict[int, dict[str, Any]] = {}
    for index, message in enumerate(messages):
        try:
            kind = _type(message)
            if kind in IGNORED_TYPES:
                results[index] = Ignored(type=kind)
            elif kind == "identify":
                results[index] = _identify(actor, message)
            else:
                events[index] = message_event(message, kind)
        except ValidationError as exc:
            results[index] = exc
    ingested = events_ingest(actor=actor, events=list(events.values())).results
    for index, result in zip(events, ingested, strict=True):
        results[index] = result
    return [r for r in results if r is not None]


def _type(message: Mapping[str, Any]) -> str:
    kind = message.get("type") if isinstance(message, Mapping) else None
    known = ("identify", *EVENT_TYPES, *IGNORED_TYPES)
    if kind not in known:
        raise ValidationError(
            {"type": f"Expected one of {', '.join(known)}; got {kind!r}."}
        )
    return str(kind)


def _identify(actor: Actor, message: Mapping[str, Any]) -> CustomerUpsertResult:
    fields = _customer_fields(_traits(message, top_level=True))
    with transaction.atomic():
        return customer_upsert(
            external_id=_user_id(message),
            actor=actor,
            seen_at=_time(message),
            **fields,
        )


def message_event(message: Mapping[str, Any], kind: str) -> dict[str, Any]:
    """events_ingest's arguments for a track, page or screen message."""
    properties = message.get("properties")
    if kind == "track":
        name = message.get("event")
        if not isinstance(name, str) or not name.strip():
            raise ValidationError({"event": "A track message needs the event's name."})
    else:
        name = VIEWED[kind]
        if isinstance(properties, dict) and message.get("name"):
            properties = {"name": message["name"], **properties}
    traits = _traits(message, top_level=False)
    return {
        "user_id": _user_id(message),
        "name": name,
        "properties": properties,
        "timestamp": _time(message),
        "message_id": str(message.get("messageId") or ""),
        "customer": _customer_fields(traits) if traits else None,
    }


def _user_id(message: Mapping[str, Any]) -> str:
    user = message.get("userId") or message.get("anonymousId")
    if isinstance(user, int | float) and not isinstance(user, bool):
        user = str(user)
    if not isinstance(user, str) or not user.strip():
        raise ValidationError({"userId": "Give userId or anonymousId."})
    return user


def _traits(message: Mapping[str, Any], *, top_level: bool) -> dict[str, Any]:
    """RudderStack sends identify's traits in context.traits, Segment at the top."""
    context = message.get("context")
    traits = dict(context.get("traits") or {}) if isinstance(context, dict) else {}
    if top_level and isinstance(message.get("traits"), dict):
        traits.update(message["traits"])
    return traits


def _customer_fields(traits: dict[str, Any]) -> dict[str, Any]:
    fields: dict[str, Any] = {}
    attributes: dict[str, Any] = {}
    for name, value in traits.items():
        if name in TRAIT_FIELDS and (value is None or isinstance(value, str)):
            fields[TRAIT_FIELDS[name]] = value
        else:
            attributes[name] = value
    full_name = traits.get("name")
    if isinstance(full_name, str) and not {"first_name", "last_name"} & set(fields):
        fields["first_name"], _, fields["last_name"] = full_name.strip().partition(" ")
    if attributes:
        fields["attributes"] = attributes
    return fields


def _time(message: Mapping[str, Any]) -> datetime | None:
    """When it happened: `timestamp`, or the client's `originalTimestamp`."""
    value = message.get("timestamp") or message.get("originalTimestamp")
    if value in (None, ""):
        return None
    parsed = parse_datetime(value) if isinstance(value, str) else None
    if parsed is None:
        raise ValidationError(
            {"timestamp": f"Expected an ISO 8601 time; got {value!r}."}
        )
    return parsed
