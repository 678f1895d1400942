"""Erasing a customer: everything that names them goes, in one transaction.

Erasure wins over concurrent writes: it locks the customer's row first, so a write
already holding the lock finishes before (and its rows are erased with the rest),
and one arriving later finds the customer gone and is refused (404).
"""

from django.db import transaction

from segments.models import Customer

from .actors import Actor
from .rows import customer_lock


@transaction.atomic
def customer_erase(*, customer: Customer, actor: Actor) -> dict[str, int]:
    """Delete the customer and everything about them: events, memberships, their
    history and enrollments. Returns the number of rows removed per model."""
    customer = customer_lock(customer)
    _, per_model = Customer.objects.filter(pk=customer.pk).delete()
    return {label.split(".")[-1]: count for label, count in per_model.items()}
