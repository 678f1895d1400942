"""Customers: lookups by any id type, their facts for the evaluator."""

import json
import math
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, NamedTuple

from django.db import connections, models
from django.db.models import F, Func, Q, QuerySet, TextField
from django.utils.text import smart_split, unescape_string_literal

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
class CustomerLookup[C]:
    found: dict[str, C]  # each id as given -> its customer, in order given
    unknown: list[str]


class CustomerKey(NamedTuple):
    """A customer's ids without the rest of their row."""

    pk: int
    external_id: str


def customers_by_ids(
    *, ids: Iterable[str], id_type: str = IdType.ID
) -> CustomerLookup[Customer]:
    """Find customers by the ids an integration sends; ids matching nobody are
    returned as unknown."""
    ids, field, customers = _named(ids, id_type)
    return _lookup(ids, id_type, {str(getattr(c, field)): c for c in customers})


def customer_keys_by_ids(
    *, ids: Iterable[str], id_type: str = IdType.ID
) -> CustomerLookup[CustomerKey]:
    """customers_by_ids for writes naming thousands: each customer's ids only, no
    model instance (10,000 of them took longer to build than to read)."""
    ids, field, customers = _named(ids, id_type)
    rows = customers.values_list("pk", "external_id", "email")
    at = ("pk", "external_id", "email").index(field)
    return _lookup(
        ids, id_type, {str(row[at]): CustomerKey(row[0], row[1]) for row in rows}
    )


def _named(
    ids: Iterable[str], id_type: str
) -> tuple[list[str], str, QuerySet[Customer]]:
    """The ids once each, the field they name, and the customers they name."""
    # Imported here: segments.services imports the selectors.
    from segments.services.bulk import any_of

    ids = list(dict.fromkeys(ids))
    field = _LOOKUP_FIELD[IdType(id_type)]
    keys = [_normalize(value, id_type) for value in ids]
    if id_type == IdType.INTERNAL_ID:
        keys = [k for k in keys if _internal_id(k)]
    return ids, field, Customer.objects.filter(any_of(field, keys))


def _lookup[C](ids: list[str], id_type: str, by_key: dict[str, C]) -> CustomerLookup[C]:
    found = {
        value: by_key[key]
        for value in ids
        if (key := _normalize(value, id_type)) in by_key
    }
    return CustomerLookup(
        found=found, unknown=[value for value in ids if value not in found]
    )


def customer_filter(*, value: str, id_type: str = IdType.ID) -> dict[str, Any] | None:
    """The filter finding the customer a caller names, as customers_by_ids reads
    it; None when the value cannot name anyone (an internal id that is no number)."""
    key = _normalize(value, id_type)
    if id_type == IdType.INTERNAL_ID and not _internal_id(key):
        return None
    return {_LOOKUP_FIELD[IdType(id_type)]: key}


def _internal_id(key: str) -> bool:
    # ASCII digits only: "²".isdigit() is true, but int("²") fails.
    return key.isascii() and key.isdigit() and len(key) < 19


def customer_by_id(*, value: str, id_type: str = IdType.ID) -> Customer | None:
    return customers_by_ids(ids=[value], id_type=id_type).found.get(value)


def customer_by_user(*, user: str) -> Customer | None:
    """Village's `user`: an external id or, failing that, an email."""
    return customer_by_id(value=user) or customer_by_id(
        value=user, id_type=IdType.EMAIL
    )


def _normalize(value: str, id_type: str) -> str:
    return value.strip().lower() if id_type == IdType.EMAIL else value.strip()


SEARCH_HELP = (
    "An exact id or email; or words found in the id, email, name or phone "
    '(all of them: "Ann Smith"); or key:value for an attribute\'s exact value '
    '(channel:Facebook, spend:42, address.city:"New York").'
)
# The customer's texts searched by words, in this order: the PostgreSQL trigram
# index of migration 0007 is built on the same expression (keep them alike).
SEARCHED_FIELDS = ("external_id", "email", "first_name", "last_name", "phone")
_ATTRIBUTE_TERM = re.compile(r"^(?P<key>[\w-]+(?:\.[\w-]+)*):(?P<value>.+)$")


class SearchText(Func):
    """The searched fields in one text: `external_id || ' ' || email || ...`."""

    template = "(%(expressions)s)"
    arg_joiner = " || ' ' || "
    output_field = TextField()

    def __init__(self) -> None:
        super().__init__(*(F(name) for name in SEARCHED_FIELDS))


def customers_search(*, customers: QuerySet[Customer], term: str) -> QuerySet[Customer]:
    """Customers matching the admin's search box (SEARCH_HELP). An exact external
    id, email or internal id first: one index lookup. Otherwise every word must
    match: `key:value` an attribute (on PostgreSQL by containment, which its GIN
    index serves), any other word a part of the searched fields (its trigram
    index)."""
    term = _clean(term)
    if not term:
        return customers
    exact = customers.filter(_exact_q(term))
    if exact.exists():
        return exact
    customers = customers.alias(search_text=SearchText())
    for word in smart_split(term):
        attribute = _ATTRIBUTE_TERM.match(word)
        if attribute:
            path = attribute["key"].split(".")
            customers = customers.filter(
                _attribute_q(path, _unquote(attribute["value"]), customers.db)
            )
        else:
            customers = customers.filter(search_text__icontains=_unquote(word))
    return customers


def customers_named(*, term: str) -> QuerySet[Customer]:
    """The customer whose external id, email (any case) or internal id is `term`:
    unique index lookups."""
    return Customer.objects.filter(_exact_q(_clean(term)))


def _clean(term: str) -> str:
    return term.replace("\x00", "").strip()  # PostgreSQL text cannot hold NUL


def _exact_q(term: str) -> Q:
    exact = Q(external_id=term) | Q(email=term.lower())
    if term.isascii() and term.isdigit() and len(term) < 19:
        exact |= Q(pk=int(term))
    return exact


def _storable_number(value: Any) -> bool:
    """A number both databases take as a parameter: no NaN, no infinity, an
    integer that fits in 64 bits."""
    if isinstance(value, int):
        return -(2**63) <= value < 2**63
    return isinstance(value, float) and math.isfinite(value)


def _unquote(text: str) -> str:
    if len(text) > 1 and text[0] == text[-1] and text[0] in "\"'":
        return unescape_string_literal(text)
    return text


def _attribute_q(path: list[str], text: str, using: str) -> Q:
    """The attribute at `path` equals `text` as typed, or as the number, boolean
    or null it spells (spend:42 finds 42 and "42")."""
    values: list[Any] = [text]
    try:
        typed = json.loads(text)
    except ValueError:
        typed = text
    if typed is None or isinstance(typed, bool) or _storable_number(typed):
        values.append(typed)
    found = Q()
    for value in values:
        if connections[using].vendor == "postgresql":
            # attributes @> {"a": {"b": value}}: served by the jsonb_path_ops index.
            nested = value
            for key in reversed(path):
                nested = {key: nested}
            found |= Q(attributes__contains=nested)
        else:
            found |= Q(**{"__".join(["attributes", *path]): value})
    return found
