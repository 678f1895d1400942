"""Customers: lookups by any id type, their facts for the evaluator."""

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.db import models
from django.db.models import QuerySet

from segments.models import (
    Customer,
    Event,
    Membership,
    Segment,
)
from segments.rules import (
    EventFacts,
    Facts,
)


def customer_segments(*, customer: Customer) -> QuerySet[Segment]:
    return Segment.objects.filter(
        memberships__in=Membership.objects.members().filter(customer=customer)
    )


CUSTOMER_FIELDS = (
    "external_id",
    "email",
    "phone",
    "first_name",
    "last_name",
    "created_at",
    "last_seen_at",
    "attributes",
)


def customer_facts(
    *,
    customer: Customer,
    event_names: Iterable[str] | None = None,
    trigger: dict[str, Any] | None = None,
) -> Facts:
    """What the Python evaluator needs to know of one customer: their fields, their
    events (only those named, when `event_names` is given) and their segments."""
    events = Event.objects.filter(customer=customer).order_by()
    if event_names is not None:
        events = events.filter(name__in=list(event_names))
    return Facts(
        customer={name: getattr(customer, name) for name in CUSTOMER_FIELDS},
        events=[
            EventFacts(name, timestamp, properties)
            for name, timestamp, properties in events.values_list(
                "name", "timestamp", "properties"
            )
        ],
        segments=frozenset(
            Membership.objects.members()
            .filter(customer=customer)
            .values_list("segment_id", flat=True)
        ),
        trigger=trigger,
    )


class IdType(models.TextChoices):
    """How an API call names customers: their external id, email or integer id."""

    ID = "id", "External id"
    EMAIL = "email", "Email"
    INTERNAL_ID = "internal_id", "Internal id"


_LOOKUP_FIELD = {
    IdType.ID: "external_id",
    IdType.EMAIL: "email",
    IdType.INTERNAL_ID: "pk",
}


@dataclass(frozen=True)
class CustomerLookup:
    found: dict[str, Customer]  # each id as given -> its customer, in order given
    unknown: list[str]


def customers_by_ids(*, ids: Iterable[str], id_type: str = IdType.ID) -> CustomerLookup:
    """Find customers by the ids an integration sends; ids matching nobody are
    returned as unknown."""
    ids = list(dict.fromkeys(ids))
    field = _LOOKUP_FIELD[IdType(id_type)]
    keys = [_normalize(value, id_type) for value in ids]
    if id_type == IdType.INTERNAL_ID:
        # ASCII digits only: "²".isdigit() is true, but int("²") fails.
        keys = [k for k in keys if k.isascii() and k.isdigit() and len(k) < 19]
    customers = Customer.objects.filter(**{f"{field}__in": keys})
    by_key = {str(getattr(c, field)): c for c in customers}
    found = {
        value: by_key[key]
        for value in ids
        if (key := _normalize(value, id_type)) in by_key
    }
    return CustomerLookup(
        found=found, unknown=[value for value in ids if value not in found]
    )


def customer_by_id(*, value: str, id_type: str = IdType.ID) -> Customer | None:
    return customers_by_ids(ids=[value], id_type=id_type).found.get(value)


def customer_by_user(*, user: str) -> Customer | None:
    """Village's `user`: an external id or, failing that, an email."""
    return customer_by_id(value=user) or customer_by_id(
        value=user, id_type=IdType.EMAIL
    )


def _normalize(value: str, id_type: str) -> str:
    return value.strip().lower() if id_type == IdType.EMAIL else value.strip()
