"""What stored events do, a batch at a time: the rule segments that read their names
are recomputed once each for the customers concerned, and the event-triggered
segments they trigger take in the customers whose conditions hold.

Segments are found by the event's name in the database (an index on the trigger
event; a JSON containment test on what rules read), so an event costs nothing for
the segments that do not mention it.
"""

import json
from collections import defaultdict
from collections.abc import Iterable

from django.db import connection
from django.db.models import QuerySet, TextField
from django.db.models.functions import Cast
from django.utils import timezone

from segments.models import Customer, Event, Segment
from segments.rules import RuleSpec, compile_event_q, plan
from segments.selectors import rule_sources, segment_rule_specs

from .actors import Actor
from .bulk import any_of
from .compute import customer_segments_refresh, segment_recompute_locked
from .memberships import segments_members_add

SEEN_FIELD = "last_seen_at"


def events_apply(
    *, customers: dict[int, Customer], events: list[Event], seen: Iterable[int]
) -> None:
    """Apply stored `events` of `customers`; `seen` are the customers whose
    last_seen_at moved (rules may read it)."""
    work: dict[int, set[int]] = defaultdict(set)
    segments: dict[int, Segment] = {}
    for name, ids in _customers_by_name(events).items():
        for segment in segments_watching("watched_events", name):
            segments[segment.pk] = segment
            work[segment.pk] |= ids
    seen = set(seen)
    if seen:
        for segment in segments_watching("watched_fields", SEEN_FIELD):
            segments[segment.pk] = segment
            work[segment.pk] |= seen
    _recompute(work, segments)
    _trigger(customers, events)


# A recompute for many customers costs about what looking at this many customers
# one by one does.
CUSTOMERS_PER_RECOMPUTE = 3


def customers_segments_refresh(
    *, changes: list[tuple[Customer, frozenset[str] | None]]
) -> None:
    """customer_segments_refresh for the customers a pass created or changed (the
    fields of each that changed; None: a new customer), who are locked by it. Past
    a few customers, each rule segment their changes can affect is recomputed once
    for all of them, as for the pass's events; below, each is looked at alone."""
    changes = [(c, f) for c, f in changes if f is None or f]
    if not changes:
        return
    live = list(Segment.objects.filter(type=Segment.Type.RULE, archived=False))
    if len(changes) * CUSTOMERS_PER_RECOMPUTE < len(live):
        for customer, fields in changes:
            customer_segments_refresh(customer=customer, fields=fields)
        return
    work: dict[int, set[int]] = defaultdict(set)
    for segment in live:
        watched = set(segment.watched_fields)
        ids = {c.pk for c, f in changes if f is None or f & watched}
        if ids:
            work[segment.pk] = ids
    _recompute(work, {s.pk: s for s in live})


def segments_watching(column: str, value: str | int) -> list[Segment]:
    """Live rule segments whose `column` (watched_events, watched_fields,
    watched_segments: JSON lists) holds `value`, found by the database."""
    live = Segment.objects.filter(type=Segment.Type.RULE, archived=False)
    found: QuerySet[Segment]
    if connection.vendor == "postgresql":
        found = live.filter(**{f"{column}__contains": [value]})
    else:
        # SQLite has no JSON containment: match the element as JSON text, then
        # check it below.
        found = live.annotate(_text=Cast(column, TextField())).filter(
            _text__contains=json.dumps(value)
        )
    return [s for s in found.order_by("pk") if value in getattr(s, column)]


def _customers_by_name(events: list[Event]) -> dict[str, set[int]]:
    found: dict[str, set[int]] = defaultdict(set)
    for event in events:
        found[event.name].add(event.customer_id)
    return found


def _recompute(work: dict[int, set[int]], segments: dict[int, Segment]) -> None:
    """Recompute each segment for its customers, then the segments reading those
    that changed, for the same customers; each (segment, customer) once. The
    customers are locked by the pass, and the rules of the segments to do are
    read together."""
    done: dict[int, set[int]] = defaultdict(set)
    specs: dict[int, RuleSpec | None] = {}
    while work:
        segment_id = min(work)
        ids = work.pop(segment_id) - done[segment_id]
        if not ids:
            continue
        done[segment_id] |= ids
        if segment_id not in specs:
            unread = [segment_id, *(s for s in work if s not in specs)]
            specs.update(dict.fromkeys(unread))
            specs.update(segment_rule_specs(segment_ids=unread))
        result = segment_recompute_locked(
            segment=segments[segment_id],
            spec=specs[segment_id],
            customer_ids=sorted(ids),
        )
        if result.changed:
            for reader in segments_watching("watched_segments", segment_id):
                segments[reader.pk] = reader
                work[reader.pk] |= ids


def _trigger(customers: dict[int, Customer], events: list[Event]) -> None:
    names = {event.name for event in events}
    triggered = list(
        Segment.objects.filter(
            type=Segment.Type.EVENT, trigger_event__in=names, archived=False
        ).order_by("pk")
    )
    # Segments let in for the same reason (an event name, and the lone event
    # when only one fired) are written together: one history statement and one
    # announcement for all of them.
    entries: dict[tuple[str, Event | None], dict[Segment, list[Customer]]] = (
        defaultdict(dict)
    )
    specs = segment_rule_specs(segment_ids=[s.pk for s in triggered])
    for segment in triggered:
        named = [e for e in events if e.name == segment.trigger_event]
        fired = _fired(specs.get(segment.pk), named)
        if fired:
            single = fired[0] if len(fired) == 1 else None
            entries[segment.trigger_event, single][segment] = [
                customers[event.customer_id] for event in fired
            ]
    for (name, single), entering in entries.items():
        _enter(name, single, entering)


def _fired(spec: RuleSpec | None, events: list[Event]) -> list[Event]:
    """The events whose conditions hold, tested in the database in one query
    (the SQL compiler's event form, as the preview and backfill use)."""
    if spec is None or not events:
        return events
    condition = compile_event_q(plan(spec, timezone.now()), rule_sources())
    holding = set(
        Event.objects.filter(any_of("pk", [e.pk for e in events]))
        .filter(condition)
        .values_list("pk", flat=True)
    )
    return [event for event in events if event.pk in holding]


def _enter(
    name: str, single: Event | None, entering: dict[Segment, list[Customer]]
) -> None:
    """One write for every customer the events let in. A lone event is named in
    the history (its message id and time); a batch's entries carry the batch's."""
    segments_members_add(
        entries=entering,
        actor=Actor.event(name),
        reference_id=single.message_id if single else "",
        description=f'Triggered by "{name}"',
        occurred_at=single.timestamp if single else None,
    )
