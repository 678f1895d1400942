"""Updating one row safely: lock it, refuse when it is gone, write only what changed.

A service that saves the whole object it read turns an UPDATE of 0 rows (the row was
deleted meanwhile) into an INSERT, and brings the row back. Here the row is read
anew under `SELECT ... FOR UPDATE` first: a concurrent delete either happened (the
service refuses with `Model.DoesNotExist`, which the API answers with 404) or waits
for this transaction to end.
"""

from collections.abc import Iterable
from typing import Any

from django.core.exceptions import ObjectDoesNotExist, ObjectNotUpdated
from django.db.models import Model

from segments.models import Customer


def row_gone(model: type[Model], pk: Any) -> ObjectDoesNotExist:
    """The error for a row deleted meanwhile, as a sentence the API can show."""
    name = str(model._meta.verbose_name).capitalize()
    error: type[ObjectDoesNotExist] = getattr(model, "DoesNotExist")  # noqa: B009
    return error(f"{name} {pk} no longer exists.")


def row_lock[M: Model](instance: M, *, label: Any = None) -> M:
    """Lock the instance's row until the transaction ends and read it anew into the
    instance, which is returned. `label` names it in the error (default: its id)."""
    model = type(instance)
    # FOR NO KEY UPDATE: it keeps out deletes and other writers of this row, but not
    # inserts of rows referring to it (their foreign key check takes a KEY SHARE
    # lock), so that adding a member never deadlocks with changing its campaign.
    locked = model._base_manager.select_for_update(no_key=True)
    try:
        instance.refresh_from_db(from_queryset=locked)
    except ObjectDoesNotExist:
        raise row_gone(model, instance.pk if label is None else label) from None
    return instance


def customer_lock(customer: Customer) -> Customer:
    """Lock a customer named by a request. Erasure locks them too, so a write
    either runs before the erasure (and is erased with the rest) or is refused."""
    return row_lock(customer, label=customer.external_id)


def model_update(
    *, instance: Model, fields: Iterable[str], data: dict[str, Any]
) -> list[str]:
    """Set the `fields` given in `data` that differ from the instance's values;
    return their names. Nothing is written: call `row_write` once validated."""
    changed = [
        name
        for name in fields
        if name in data and getattr(instance, name) != data[name]
    ]
    for name in changed:
        setattr(instance, name, data[name])
    return changed


def row_write(instance: Model, fields: Iterable[str]) -> None:
    """UPDATE only `fields` (and auto_now timestamps); refuse if the row is gone."""
    fields = list(fields)
    if not fields:
        return
    stamps = [
        field.name
        for field in instance._meta.concrete_fields
        if getattr(field, "auto_now", False) and field.name not in fields
    ]
    try:
        instance.save(update_fields=[*fields, *stamps])
    except ObjectNotUpdated:
        raise row_gone(type(instance), instance.pk) from None
