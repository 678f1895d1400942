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
from segments.rules import compile_event_q, plan
from segments.selectors import rule_sources, segment_rule_spec

from .actors import Actor
from .bulk import any_of
from .compute import segment_recompute
from .memberships import segment_members_add

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
    that changed, for the same customers; each (segment, customer) once."""
    done: dict[int, set[int]] = defaultdict(set)
    while work:
        segment_id = min(work)
        ids = work.pop(segment_id) - done[segment_id]
        if not ids:
            continue
        done[segment_id] |= ids
        result = segment_recompute(
            segment=segments[segment_id], customer_ids=sorted(ids)
        )
        if result.changed:
            for reader in segments_watching("watched_segments", segment_id):
                segments[reader.pk] = reader
                work[reader.pk] |= ids


def _trigger(customers: dict[int, Customer], events: list[Event]) -> None:
    names = {event.name for event in events}
    triggered = Segment.objects.filter(
        type=Segment.Type.EVENT, trigger_event__in=names, archived=False
    ).order_by("pk")
    for segment in triggered:
        fired = _fired(segment, [e for e in events if e.name == segment.trigger_event])
        if fired:
            _enter(segment, customers, fired)


def _fired(segment: Segment, events: list[Event]) -> list[Event]:
    """The events whose conditions hold, tested in the database in one query
    (the SQL compiler's event form, as the preview and backfill use)."""
    spec = segment_rule_spec(segment=segment)
    if spec is None or not events:
        return events
    condition = compile_event_q(plan(spec, timezone.now()), rule_sources())
    holding = set(
        Event.objects.filter(any_of("pk", [e.pk for e in events]))
        .filter(condition)
        .values_list("pk", flat=True)
    )
    return [event for event in events if event.pk in holding]


def _enter(segment: Segment, customers: dict[int, Customer], fired: list[Event]):
    """One write for every customer the events let in. A lone event is named in
    the history (its message id and time); a batch's entries carry the batch's."""
    single = fired[0] if len(fired) == 1 else None
    segment_members_add(
        segment=segment,
        customers=[customers[event.customer_id] for event in fired],
        actor=Actor.event(segment.trigger_event),
        reference_id=single.message_id if single else "",
        description=f'Triggered by "{segment.trigger_event}"',
        occurred_at=single.timestamp if single else None,
    )
