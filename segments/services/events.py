"""Events in: one or a batch, stored once per (customer, message_id), with what they
changed. A batch is one transaction and one pass (customers locked and read
together, events inserted together, each segment recomputed once); an event that
is refused is reported by its position and the others are stored."""

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import OuterRef, Subquery
from django.utils import timezone

from segments.models import Customer, Event

from .actors import Actor
from .bulk import any_of
from .customers import customer_upsert
from .event_effects import customers_segments_refresh, events_apply
from .event_input import EventInput, event_input_clean
from .outcomes import Outcome, outcome_of, snapshot
from .passes import events_pass
from .rows import customer_lock

NO_OUTCOME = Outcome(segments_entered=[], segments_left=[], campaigns_entered=[])


@dataclass(frozen=True)
class EventIngested:
    """An event accepted: `created` is False when its message_id was stored
    before for this customer; then the rest is the first answer, unchanged."""

    event: Event
    created: bool
    customer_created: bool
    segments_entered: list[int]
    segments_left: list[int]
    campaigns_entered: list[int]

    @property
    def event_id(self) -> int:
        return self.event.pk


@dataclass(frozen=True)
class EventsIngestResult:
    """One entry per event given, in order: what was done, or why it was refused."""

    results: list[EventIngested | ValidationError]

    @property
    def accepted(self) -> list[EventIngested]:
        return [r for r in self.results if isinstance(r, EventIngested)]

    @property
    def rejected(self) -> dict[int, ValidationError]:
        return {
            i: r for i, r in enumerate(self.results) if isinstance(r, ValidationError)
        }


@dataclass(frozen=True)
class EventRecordResult:
    event: Event
    created: bool


def event_ingest(*, actor: Actor, **event: Any) -> EventIngested:
    """Store one event (event_input_clean's arguments), creating its customer when
    unknown. Raises ValidationError when it is refused."""
    result = events_ingest(actor=actor, events=[event]).results[0]
    if isinstance(result, ValidationError):
        raise result
    return result


@transaction.atomic
def event_record(
    *,
    customer: Customer,
    name: str,
    properties: dict[str, Any] | None = None,
    timestamp: datetime | None = None,
    message_id: str = "",
) -> EventRecordResult:
    """Store an event of a known customer once: a repeated message_id returns the
    first event unchanged. A customer erased meanwhile: Customer.DoesNotExist."""
    customer_lock(customer)
    result = event_ingest(
        actor=Actor.event(name or "event"),
        user_id=customer.external_id,
        name=name,
        properties=properties,
        timestamp=timestamp,
        message_id=message_id,
    )
    return EventRecordResult(event=result.event, created=result.created)


@transaction.atomic
def events_ingest(
    *, actor: Actor, events: Sequence[Mapping[str, Any]]
) -> EventsIngestResult:
    """Store a batch of events (each event_input_clean's arguments) as one pass."""
    with events_pass():
        return _ingest(actor, events)


def _ingest(actor: Actor, events: Sequence[Mapping[str, Any]]) -> EventsIngestResult:
    now = timezone.now()
    results: list[EventIngested | ValidationError | None] = [None] * len(events)
    items: dict[int, EventInput] = {}
    for index, raw in enumerate(events):
        try:
            items[index] = event_input_clean(**raw, now=now)
        except ValidationError as exc:
            results[index] = exc
    batch = _Batch(actor=actor, now=now)
    batch.resolve_customers(items, results)
    batch.store(items, results)
    return EventsIngestResult(results=[r for r in results if r is not None])


class _Batch:
    """The state of one pass: the customers (locked), the events it stores."""

    def __init__(self, *, actor: Actor, now: datetime) -> None:
        self.actor = actor
        self.now = now
        self.customers: dict[str, Customer] = {}
        self.created: set[int] = set()
        # The customers created or changed, and what changed: their segments are
        # refreshed together once all are known (None: a new customer).
        self.changed: dict[int, tuple[Customer, frozenset[str] | None]] = {}
        self.before: dict = {}

    def resolve_customers(self, items: dict[int, EventInput], results: list) -> None:
        """Lock the known customers (in id order: concurrent batches cannot
        deadlock; an erasure in progress is waited for; FOR NO KEY UPDATE as every
        writer but erasure takes it), then create or update
        those the events name with a profile or do not know."""
        ids = {item.user_id for item in items.values()}
        known = Customer.objects.select_for_update(no_key=True).filter(
            any_of("external_id", ids)
        )
        self.customers = {c.external_id: c for c in known.order_by("pk")}
        self.before = snapshot([c.pk for c in self.customers.values()])
        for index, item in list(items.items()):
            if item.user_id in self.customers and item.customer is None:
                continue
            try:
                self._upsert(item)
            except ValidationError as exc:
                results[index] = _under("customer", exc)
                del items[index]
        customers_segments_refresh(changes=list(self.changed.values()))

    def _upsert(self, item: EventInput) -> None:
        with transaction.atomic():
            result = customer_upsert(
                external_id=item.user_id,
                actor=self.actor,
                refresh=False,
                **(item.customer or {}),
            )
        customer = self.customers[item.user_id] = result.customer
        if result.created:
            self.created.add(customer.pk)
        _, before = self.changed.get(customer.pk, (customer, frozenset()))
        fields = result.changed_fields
        self.changed[customer.pk] = (
            customer,
            None if before is None or fields is None else before | fields,
        )

    def store(self, items: dict[int, EventInput], results: list) -> None:
        stored = self._stored(items.values())
        new: dict[int, Event] = {}
        repeats: dict[int, Event] = {}
        for index, item in items.items():
            customer = self.customers[item.user_id]
            key = (customer.pk, item.message_id)
            if item.message_id and key in stored:
                repeats[index] = stored[key]
                continue
            new[index] = stored[key] = self._event(customer, item)
        Event.objects.bulk_create(new.values())
        by_pk = {c.pk: c for c in self.customers.values()}
        events_apply(customers=by_pk, events=list(new.values()), seen=self._seen(new))
        self._record_outcomes(list(new.values()))
        for index, event in new.items():
            results[index] = _answer(event, created=True)
        for index, event in repeats.items():
            results[index] = _answer(event, created=False)

    def _stored(self, items) -> dict[tuple[int, str], Event]:
        pairs = {
            (self.customers[i.user_id].pk, i.message_id) for i in items if i.message_id
        }
        if not pairs:
            return {}
        found = Event.objects.filter(
            any_of("customer_id", {c for c, _ in pairs}),
            any_of("message_id", {m for _, m in pairs}),
        )
        return {
            (e.customer_id, e.message_id): e
            for e in found
            if (e.customer_id, e.message_id) in pairs
        }

    def _event(self, customer: Customer, item: EventInput) -> Event:
        return Event(
            customer=customer,
            name=item.name,
            properties=item.properties,
            timestamp=item.timestamp or self.now,
            received_at=self.now,
            message_id=item.message_id,
        )

    def _seen(self, new: dict[int, Event]) -> set[int]:
        """Move each customer's last_seen_at to their latest new event (never
        back), in one UPDATE reading the events just stored."""
        latest: dict[int, datetime] = {}
        for event in new.values():
            latest[event.customer_id] = max(
                event.timestamp, latest.get(event.customer_id, event.timestamp)
            )
        moved = {
            c.pk
            for c in self.customers.values()
            if c.pk in latest
            and (c.last_seen_at is None or latest[c.pk] > c.last_seen_at)
        }
        newest = (
            Event.objects.filter(
                any_of("pk", [e.pk for e in new.values()]), customer=OuterRef("pk")
            )
            .order_by("-timestamp")
            .values("timestamp")[:1]
        )
        Customer.objects.filter(any_of("pk", moved)).update(
            last_seen_at=Subquery(newest)
        )
        for customer in self.customers.values():
            if customer.pk in moved:
                customer.last_seen_at = latest[customer.pk]
        return moved

    def _record_outcomes(self, new: list[Event]) -> None:
        """What each customer's first new event changed, stored with it; their
        later events in the batch changed nothing more of their own. One UPDATE
        per distinct answer (most events of a batch share theirs)."""
        after = snapshot([c.pk for c in self.customers.values()])
        answered: set[int] = set()
        same: dict[tuple, list[Event]] = defaultdict(list)
        for event in new:
            first = event.customer_id not in answered
            answered.add(event.customer_id)
            outcome = (
                outcome_of(self.before, after, event.customer_id)
                if first
                else NO_OUTCOME
            )
            created = first and event.customer_id in self.created
            key = (
                created,
                tuple(outcome.segments_entered),
                tuple(outcome.segments_left),
                tuple(outcome.campaigns_entered),
            )
            same[key].append(event)
        for (created, entered, left, campaigns), events in same.items():
            answer = {
                "customer_created": created,
                "segments_entered": list(entered),
                "segments_left": list(left),
                "campaigns_entered": list(campaigns),
            }
            for event in events:
                event.outcome = answer
            Event.objects.filter(any_of("pk", [e.pk for e in events])).update(
                outcome=answer
            )


def _answer(event: Event, *, created: bool) -> EventIngested:
    """The answer stored with the event: a repeat gets the first one unchanged."""
    outcome = event.outcome or {}
    return EventIngested(
        event=event,
        created=created,
        customer_created=bool(outcome.get("customer_created")),
        segments_entered=list(outcome.get("segments_entered", [])),
        segments_left=list(outcome.get("segments_left", [])),
        campaigns_entered=list(outcome.get("campaigns_entered", [])),
    )


def _under(prefix: str, exc: ValidationError) -> ValidationError:
    """The customer's errors named as the event's fields: customer.email."""
    if hasattr(exc, "error_dict"):
        return ValidationError(
            {f"{prefix}.{name}": errors for name, errors in exc.message_dict.items()}
        )
    return ValidationError({prefix: exc.messages})
