import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from segments.models import Customer
from segments.selectors import CUSTOMER_FIELDS

from .actors import Actor
from .compute import customer_segments_refresh
from .rows import model_update, row_write
from .unset import UNSET


@dataclass(frozen=True)
class CustomerUpsertResult:
    customer: Customer
    created: bool
    # What rules may read that changed: None for a new customer (everything).
    changed_fields: frozenset[str] | None = frozenset()


MAX_ID_LENGTH: int = Customer._meta.get_field("external_id").max_length or 255
PROFILE_FIELDS = ("email", "phone", "first_name", "last_name")
WRITABLE_FIELDS = (*PROFILE_FIELDS, "attributes", "created_at", "last_seen_at")
# "/" would make the id unreachable in a URL path (/customers/{id}); control
# characters (NUL above all) cannot be stored or typed.
_UNUSABLE_CHARACTERS = re.compile(r"[/\x00-\x1f\x7f-\x9f\ud800-\udfff]")


@transaction.atomic
def customer_upsert(
    *,
    external_id: str,
    actor: Actor,
    email: str | None = UNSET,
    phone: str | None = UNSET,
    first_name: str | None = UNSET,
    last_name: str | None = UNSET,
    attributes: dict[str, Any] | None = None,
    created_at: datetime | None = None,
    seen_at: datetime | None = None,
    refresh: bool = True,
) -> CustomerUpsertResult:
    """Create or update the customer with this external id.

    Fields left out keep their value; attributes merge into the stored ones and a
    null value removes that key. Concurrent first upserts of one id all succeed: one
    creates the customer, the others update it. With `refresh=False` the caller
    refreshes the customer's segments itself (customers_segments_refresh, with the
    result's changed_fields), in the same transaction.
    """
    external_id = customer_external_id_clean(external_id)
    if attributes is not None and not isinstance(attributes, dict):
        raise ValidationError({"attributes": "Expected an object of name: value."})
    customer, created = _locked_get_or_create(external_id)
    before = _watchable(customer)
    data: dict[str, Any] = {
        name: (value or "").strip()
        for name, value in zip(
            PROFILE_FIELDS, (email, phone, first_name, last_name), strict=True
        )
        if value is not UNSET
    }
    if "email" in data:
        data["email"] = data["email"].lower()
    if attributes:
        data["attributes"] = _merge_attributes(customer.attributes, attributes)
    if created and created_at:
        data["created_at"] = created_at
    if seen_at and (customer.last_seen_at is None or seen_at > customer.last_seen_at):
        data["last_seen_at"] = seen_at
    changed = model_update(instance=customer, fields=WRITABLE_FIELDS, data=data)
    _validate(customer)
    _write(customer, changed)
    after = _watchable(customer)
    watched = {
        name
        for name in before.keys() | after.keys()
        if before.get(name) != after.get(name)
    }
    fields = None if created else frozenset(watched)
    if refresh and (fields is None or fields):
        customer_segments_refresh(customer=customer, fields=fields)
    return CustomerUpsertResult(
        customer=customer, created=created, changed_fields=fields
    )


def customer_external_id_clean(external_id: Any) -> str:
    """The id stripped, or a ValidationError saying what is wrong with it."""
    external_id = (external_id if isinstance(external_id, str) else "").strip()
    if not external_id:
        raise ValidationError({"external_id": "An id is required."})
    if len(external_id) > MAX_ID_LENGTH:
        raise ValidationError(
            {"external_id": f"An id has at most {MAX_ID_LENGTH} characters."}
        )
    if _UNUSABLE_CHARACTERS.search(external_id):
        raise ValidationError(
            {
                "external_id": 'An id cannot contain "/" or control characters '
                "(such as NUL or a line break): it is used in URLs."
            }
        )
    return external_id


def _validate(customer: Customer) -> None:
    if (
        customer.email
        and Customer.objects.filter(email=customer.email)
        .exclude(pk=customer.pk)
        .exists()
    ):
        raise ValidationError({"email": "Another customer already has this email."})
    # The email check above says the constraint's rule against the field.
    customer.full_clean(validate_constraints=False)


def _write(customer: Customer, changed: list[str]) -> None:
    try:
        with transaction.atomic():
            row_write(customer, changed)
    except IntegrityError as exc:
        # Lost a race with another customer taking the same email.
        raise ValidationError(
            {"email": "Another customer already has this email."}
        ) from exc


def _watchable(customer: Customer) -> dict[str, Any]:
    """The customer's values as rules name them: "email", "attributes.plan"."""
    values = {name: getattr(customer, name) for name in CUSTOMER_FIELDS}
    attributes = values.pop("attributes") or {}
    values.update({f"attributes.{key}": value for key, value in attributes.items()})
    return values


def _locked_get_or_create(external_id: str) -> tuple[Customer, bool]:
    """The customer with this id, locked; created (bare, filled in by the caller)
    when there is none. A concurrent creator of the same id makes our INSERT wait
    for it and fail: we then take and lock the row it made."""
    customer = _locked(external_id)
    if customer:
        return customer, False
    try:
        with transaction.atomic():
            return Customer.objects.create(external_id=external_id), True
    except IntegrityError:
        customer = _locked(external_id)
        if customer is None:
            raise
        return customer, False


def _locked(external_id: str) -> Customer | None:
    locked = Customer.objects.select_for_update(no_key=True)
    return locked.filter(external_id=external_id).first()


def _merge_attributes(
    stored: dict[str, Any], changes: dict[str, Any]
) -> dict[str, Any]:
    merged = dict(stored)
    for key, value in changes.items():
        if not isinstance(key, str) or not key:
            raise ValidationError(
                {"attributes": "Attribute names must be non-empty text."}
            )
        if value is None:
            merged.pop(key, None)
        else:
            merged[key] = value
    return merged
