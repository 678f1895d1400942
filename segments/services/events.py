from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from segments.models import Customer, Event

from .compute import customer_segments_refresh
from .rows import customer_lock


@dataclass(frozen=True)
class EventRecordResult:
    event: Event
    created: bool


@transaction.atomic
def event_record(
    *,
    customer: Customer,
    name: str,
    properties: dict[str, Any] | None = None,
    timestamp: datetime | None = None,
    message_id: str = "",
) -> EventRecordResult:
    """Store an event once: a repeated message_id returns the first event unchanged."""
    name = (name or "").strip()
    if not name:
        raise ValidationError({"name": "An event needs a name."})
    if properties is not None and not isinstance(properties, dict):
        raise ValidationError({"properties": "Expected an object of name: value."})
    message_id = (message_id or "").strip()
    # Erasure locks the customer too: it waits for this event, or has won and the
    # event is refused (Customer.DoesNotExist, a 404).
    customer_lock(customer)
    if message_id:
        existing = Event.objects.filter(message_id=message_id).first()
        if existing:
            return EventRecordResult(event=existing, created=False)
    now = timezone.now()
    event = Event(
        customer=customer,
        name=name,
        properties=properties or {},
        timestamp=timestamp or now,
        received_at=now,
        message_id=message_id,
    )
    try:
        with transaction.atomic():
            event.save()
    except IntegrityError:
        # The same message_id arrived concurrently; the other request stored it.
        return EventRecordResult(
            event=Event.objects.get(message_id=message_id), created=False
        )
    seen = Customer.objects.filter(
        Q(last_seen_at__isnull=True) | Q(last_seen_at__lt=event.timestamp),
        pk=customer.pk,
    ).update(last_seen_at=event.timestamp)
    if seen:
        customer.last_seen_at = event.timestamp
    customer_segments_refresh(
        customer=customer, fields={"last_seen_at"} if seen else set(), event=event
    )
    return EventRecordResult(event=event, created=True)
