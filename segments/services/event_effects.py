"""What stored events do, a batch at a time: the rule segments that read their names
are recomputed once each for the customers concerned, and the event-triggered
segments they trigger take in the customers whose conditions hold.

Segments are found by the event's name in the database (an index on the trigger
event; a JSON containment test on what rules read), so an event costs nothing for
the segments that do not mention it.
"""

import json
from collections import defaultdict
from collections.abc import Iterable, Sequence

from django.db import connection
from django.db.models import BooleanField, Case, Q, QuerySet, TextField, When
from django.db.models.functions import Cast
from django.utils import timezone

from segments.models import Customer, Event, Segment
from segments.rules import RuleSpec, compile_event_q, plan
from segments.selectors import rule_sources, segment_rule_specs

from .actors import Actor
from .bulk import any_of
from .compute import customer_segments_refresh, segments_recompute_locked
from .memberships import segments_members_add

SEEN_FIELD = "last_seen_at"


def events_apply(
    *, customers: dict[int, Customer], events: list[Event], seen: Iterable[int]
) -> None:
    """Apply stored `events` of `customers`; `seen` are the customers whose
    last_seen_at moved (rules may read it). The segments concerned (reading the
    events' names or last_seen_at, or triggered by a name) are found in one
    query and their rules read together."""
    by_name = _customers_by_name(events)
    seen = set(seen)
    found = _segments_concerned(set(by_name), bool(seen))
    specs: dict[int, RuleSpec | None] = dict.fromkeys(s.pk for s in found)
    specs.update(segment_rule_specs(segment_ids=list(specs)))
    work: dict[int, set[int]] = defaultdict(set)
    segments: dict[int, Segment] = {}
    triggered: list[Segment] = []
    for segment in found:
        if segment.type == Segment.Type.EVENT:
            triggered.append(segment)
            continue
        for name in segment.watched_events:
            if name in by_name:
                segments[segment.pk] = segment
                work[segment.pk] |= by_name[name]
        if seen and SEEN_FIELD in segment.watched_fields:
            segments[segment.pk] = segment
            work[segment.pk] |= seen
    _recompute(work, segments, specs)
    _trigger(customers, events, triggered, specs)


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


def segments_watching(column: str, values: Iterable[str | int]) -> list[Segment]:
    """Live rule segments whose `column` (watched_events, watched_fields,
    watched_segments: JSON lists) holds one of `values`, found by the database."""
    values = list(values)
    live = Segment.objects.filter(type=Segment.Type.RULE, archived=False)
    if not values:
        return []
    return _holding(live, [(column, v) for v in values])


def _segments_concerned(names: set[str], seen: bool) -> list[Segment]:
    """The live segments the events' names (and last_seen_at, when it moved)
    concern: rule segments reading them, event-triggered segments they trigger."""
    tests = [("watched_events", name) for name in sorted(names)]
    if seen:
        tests.append(("watched_fields", SEEN_FIELD))
    rules = Segment.objects.filter(type=Segment.Type.RULE, archived=False)
    triggered = Q(type=Segment.Type.EVENT, trigger_event__in=names, archived=False)
    return _holding(rules, tests, also=triggered)


def _holding(
    segments: QuerySet[Segment],
    tests: Sequence[tuple[str, str | int]],
    also: Q | None = None,
) -> list[Segment]:
    """`segments` whose JSON list `column` holds `value` for one of the (column,
    value) `tests`, and the segments `also` selects, in one query by id."""
    matched = Q(pk__in=segments.values("pk"))
    if connection.vendor == "postgresql":
        holds = Q(pk__in=[])
        for column, value in tests:
            holds |= Q(**{f"{column}__contains": [value]})
        query = Segment.objects.filter(matched & holds)
    else:
        # SQLite has no JSON containment: match the element as JSON text, then
        # check it below.
        columns = sorted({column for column, _ in tests})
        annotated = Segment.objects.annotate(
            **{f"_{c}": Cast(c, TextField()) for c in columns}
        )
        holds = Q(pk__in=[])
        for column, value in tests:
            holds |= Q(**{f"_{column}__contains": json.dumps(value)})
        query = annotated.filter(matched & holds)
    if also is not None:
        query = query | Segment.objects.filter(also)
    return [
        s
        for s in query.order_by("pk")
        if (also is not None and s.type == Segment.Type.EVENT)
        or any(value in getattr(s, column) for column, value in tests)
    ]


def _customers_by_name(events: list[Event]) -> dict[str, set[int]]:
    found: dict[str, set[int]] = defaultdict(set)
    for event in events:
        found[event.name].add(event.customer_id)
    return found


# Segments recomputed by one statement per step: past a few dozen, one statement
# testing each segment's rows costs more than separate ones (a batch of sign-ups
# recomputes every rule segment, 1.5x slower in one wave of 95 than one by one).
SEGMENTS_PER_STATEMENT = 16


def _recompute(
    work: dict[int, set[int]],
    segments: dict[int, Segment],
    specs: dict[int, RuleSpec | None] | None = None,
) -> None:
    """Recompute each segment for its customers, then the segments reading those
    that changed, for the same customers; each (segment, customer) once. The
    customers are locked by the pass. Segments not reading another one still to
    do are recomputed together (one statement per step for all of them), their
    rules read together."""
    done: dict[int, set[int]] = defaultdict(set)
    specs = dict(specs or {})
    while work:
        wave: dict[int, list[int]] = {}
        for segment_id in _ready(work, segments):
            ids = work.pop(segment_id) - done[segment_id]
            if ids:
                done[segment_id] |= ids
                wave[segment_id] = sorted(ids)
        if not wave:
            continue
        unread = [s for s in (*wave, *work) if s not in specs]
        if unread:
            specs.update(dict.fromkeys(unread))
            specs.update(segment_rule_specs(segment_ids=unread))
        changed = False
        chunks = sorted(wave)
        for start in range(0, len(chunks), SEGMENTS_PER_STATEMENT):
            chunk = {
                pk: wave[pk] for pk in chunks[start : start + SEGMENTS_PER_STATEMENT]
            }
            result = segments_recompute_locked(
                specs={pk: specs[pk] for pk in chunk}, customer_ids=chunk
            )
            changed = changed or result.changed
        if changed:
            for reader in segments_watching("watched_segments", list(wave)):
                segments[reader.pk] = reader
                for segment_id in set(reader.watched_segments) & set(wave):
                    work[reader.pk] |= set(wave[segment_id])


def _ready(work: dict[int, set[int]], segments: dict[int, Segment]) -> list[int]:
    """The segments of `work` whose rules read no other segment of it (those
    wait for it to be done); the first by id when they all do (a loop)."""
    ready = [
        pk
        for pk in sorted(work)
        if not set(segments[pk].watched_segments) & (set(work) - {pk})
    ]
    return ready or [min(work)]


def _trigger(
    customers: dict[int, Customer],
    events: list[Event],
    triggered: list[Segment],
    specs: dict[int, RuleSpec | None],
) -> None:
    # Segments let in for the same reason (an event name, and the lone event
    # when only one fired) are written together: one history statement and one
    # announcement for all of them.
    entries: dict[tuple[str, Event | None], dict[Segment, list[Customer]]] = (
        defaultdict(dict)
    )
    fired_by = _fired(triggered, specs, events)
    for segment in triggered:
        fired = fired_by[segment.pk]
        if fired:
            single = fired[0] if len(fired) == 1 else None
            entries[segment.trigger_event, single][segment] = [
                customers[event.customer_id] for event in fired
            ]
    for (name, single), entering in entries.items():
        _enter(name, single, entering)


def _fired(
    triggered: list[Segment],
    specs: dict[int, RuleSpec | None],
    events: list[Event],
) -> dict[int, list[Event]]:
    """The events that let their customer in each triggered segment: those of
    its trigger name whose conditions hold, tested in the database in one query
    for all the segments (the SQL compiler's event form, as the preview and
    backfill use)."""
    fired: dict[int, list[Event]] = {}
    tests: dict[str, tuple[int, Q]] = {}
    now = timezone.now()
    for segment in triggered:
        named = [e for e in events if e.name == segment.trigger_event]
        spec = specs.get(segment.pk)
        fired[segment.pk] = named
        if spec is not None and named:
            condition = compile_event_q(plan(spec, now), rule_sources())
            tests[f"holds_{segment.pk}"] = (segment.pk, condition)
    if not tests:
        return fired
    tested = {e.pk for segment_id, _ in tests.values() for e in fired[segment_id]}
    holding = Event.objects.filter(any_of("pk", sorted(tested))).annotate(
        **{
            alias: Case(
                When(condition, then=True), default=False, output_field=BooleanField()
            )
            for alias, (_, condition) in tests.items()
        }
    )
    rows = holding.values_list("pk", *tests)
    holds: dict[str, set[int]] = {alias: set() for alias in tests}
    for pk, *answers in rows:
        for alias, answer in zip(tests, answers, strict=True):
            if answer:
                holds[alias].add(pk)
    for alias, (segment_id, _) in tests.items():
        fired[segment_id] = [e for e in fired[segment_id] if e.pk in holds[alias]]
    return fired


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
