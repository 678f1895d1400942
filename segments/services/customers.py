from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from segments.models import Customer
from segments.selectors import CUSTOMER_FIELDS

from .actors import Actor
from .compute import customer_segments_refresh
from .unset import UNSET


@dataclass(frozen=True)
class CustomerUpsertResult:
    customer: Customer
    created: bool


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
) -> CustomerUpsertResult:
    """Create or update the customer with this external id.

    Fields left out keep their value; attributes merge into the stored ones and a
    null value removes that key.
    """
    external_id = (external_id or "").strip()
    if not external_id:
        raise ValidationError({"external_id": "An id is required."})
    if attributes is not None and not isinstance(attributes, dict):
        raise ValidationError({"attributes": "Expected an object of name: value."})

    customer, created = _locked_get_or_new(external_id)
    before = _watchable(customer)
    profile = {
        "email": email,
        "phone": phone,
        "first_name": first_name,
        "last_name": last_name,
    }
    for name, value in profile.items():
        if value is not UNSET:
            setattr(customer, name, (value or "").strip())
    customer.email = customer.email.lower()
    if attributes:
        customer.attributes = _merge_attributes(customer.attributes, attributes)
    if created and created_at:
        customer.created_at = created_at
    if seen_at and (customer.last_seen_at is None or seen_at > customer.last_seen_at):
        customer.last_seen_at = seen_at

    if (
        customer.email
        and Customer.objects.filter(email=customer.email)
        .exclude(pk=customer.pk)
        .exists()
    ):
        raise ValidationError({"email": "Another customer already has this email."})
    # The email check above says the constraint's rule against the field.
    customer.full_clean(validate_constraints=False)
    try:
        with transaction.atomic():
            customer.save()
    except IntegrityError as exc:
        # Lost a race with another writer using the same id or email.
        raise ValidationError(
            "Another request changed this customer at the same time; retry."
        ) from exc
    after = _watchable(customer)
    changed = {
        name
        for name in before.keys() | after.keys()
        if before.get(name) != after.get(name)
    }
    if created or changed:
        customer_segments_refresh(
            customer=customer, fields=None if created else changed
        )
    return CustomerUpsertResult(customer=customer, created=created)


def _watchable(customer: Customer) -> dict[str, Any]:
    """The customer's values as rules name them: "email", "attributes.plan"."""
    values = {name: getattr(customer, name) for name in CUSTOMER_FIELDS}
    attributes = values.pop("attributes") or {}
    values.update({f"attributes.{key}": value for key, value in attributes.items()})
    return values


def _locked_get_or_new(external_id: str) -> tuple[Customer, bool]:
    customer = (
        Customer.objects.select_for_update().filter(external_id=external_id).first()
    )
    if customer:
        return customer, False
    return Customer(external_id=external_id), True


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


@transaction.atomic
def customer_erase(*, customer: Customer, actor: Actor) -> dict[str, int]:
    """Delete the customer and everything about them: events, memberships, their
    history and enrollments. Returns the number of rows removed per model."""
    _, per_model = Customer.objects.filter(pk=customer.pk).delete()
    return {label.split(".")[-1]: count for label, count in per_model.items()}
