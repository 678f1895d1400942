"""Erasing a customer: everything that names them goes, in one transaction.

Erasure wins over concurrent writes: it locks the customer's row first, so a write
already holding the lock finishes before (and its rows are erased with the rest),
and one arriving later finds the customer gone and is refused (404).

What names them, besides their own rows (events, memberships, enrollments):
- the membership history: kept for the segments' join and leave counts (with a
  `left` for each segment they were in), the customer, reference id, metadata and
  description removed;
- the admin's log (`django_admin_log`), whose entries about their rows carry their
  id in `object_repr`: the entries stay, saying "Erased customer";
- the API's stored answers to `Idempotency-Key` requests that hold their id or
  email (a customer, an event with its properties, a membership state): deleted,
  so that a retry cannot replay them.
"""

import json

from django.contrib.admin.models import LogEntry
from django.contrib.contenttypes.models import ContentType
from django.db import transaction
from django.db.models import CharField, Q
from django.db.models.functions import Cast

from segments.models import Customer, IdempotentRequest, Membership, MembershipChange

from .actors import Actor
from .memberships import change_context, record_changes
from .rows import customer_lock

ERASED = "Erased customer"
Action = MembershipChange.Action


@transaction.atomic
def customer_erase(*, customer: Customer, actor: Actor) -> dict[str, int]:
    """Delete the customer and everything about them. Returns the number of rows
    removed per model (the history is anonymised, not counted)."""
    customer = customer_lock(customer)
    _admin_log_scrub(customer)
    _stored_answers_delete(customer)
    # Leaving their segments is a change like any other: the counts add up.
    ctx = change_context(actor, "", None, "Erased", None)
    record_changes(
        ctx,
        Membership.objects.members().filter(customer=customer),
        Action.LEFT,
        was_member=True,
        is_member=False,
    )
    MembershipChange.objects.filter(customer=customer).update(
        customer=None, reference_id="", metadata={}, description=""
    )
    _, per_model = Customer.objects.filter(pk=customer.pk).delete()
    return {label.split(".")[-1]: count for label, count in per_model.items()}


def _admin_log_scrub(customer: Customer) -> None:
    """The admin log's entries about the customer and about each of their rows."""
    named = Q(content_type=ContentType.objects.get_for_model(Customer)) & Q(
        object_id=str(customer.pk)
    )
    for relation in Customer._meta.related_objects:
        model = relation.related_model
        # The log keeps ids as text: compare them as text, in the database.
        ids = (
            model._base_manager.filter(**{relation.field.name: customer})
            .annotate(text_id=Cast("pk", CharField()))
            .values("text_id")
        )
        named |= Q(content_type=ContentType.objects.get_for_model(model)) & Q(
            object_id__in=ids
        )
    LogEntry.objects.filter(named).update(object_repr=ERASED, change_message="")


def _stored_answers_delete(customer: Customer) -> None:
    """Stored answers are JSON text: a value equal to the id or the email appears
    in them as that JSON string, quotes included."""
    names = [customer.external_id, customer.email]
    found = Q()
    for name in filter(None, names):
        found |= Q(response_body__contains=json.dumps(name, ensure_ascii=False))
    IdempotentRequest.objects.filter(found).delete()
