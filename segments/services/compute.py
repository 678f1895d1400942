"""Keeping rule segments' members equal to what their rules say.

`segment_recompute` is set-based: a handful of INSERT ... SELECT and DELETE
statements, whatever the number of customers. The same function serves a full
recompute and the incremental one (limited to the customers who changed).
Overrides win: `add` rows never leave, `block` rows never become members.
"""

import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from django.conf import settings
from django.db import connection, transaction
from django.db.models import (
    BigIntegerField,
    Case,
    CharField,
    Exists,
    F,
    OuterRef,
    Q,
    QuerySet,
    Value,
    When,
)
from django.utils import timezone

from segments.models import Customer, Event, Membership, MembershipChange, Segment
from segments.rules import RuleSpec, compile_q, matches, plan
from segments.selectors import (
    customer_facts,
    rule_sources,
    segment_rule_spec,
    segment_rule_specs,
)
from segments.signals import members_changed, members_entered

from .actors import Actor
from .bulk import any_of, insert_from_select
from .memberships import (
    ChangeContext,
    announce_entered,
    change_values,
    record_changes,
    segment_members_add,
)

logger = logging.getLogger(__name__)
State = Segment.ComputeState
Override = Membership.Override
Action = MembershipChange.Action


@dataclass(frozen=True)
class RecomputeResult:
    entered: int
    left: int

    @property
    def changed(self) -> bool:
        return bool(self.entered or self.left)


@transaction.atomic
def segment_recompute(
    *,
    segment: Segment,
    customer_ids: Iterable[int] | None = None,
    now: datetime | None = None,
) -> RecomputeResult:
    """Make the rule segment's members those its rules match now: everyone, or only
    the customers in `customer_ids`. Writes memberships, history and (through the
    members_entered signal) campaign enrollments in bulk."""
    ids = None if customer_ids is None else list(customer_ids)
    segment = _segment_lock(segment, ids)
    return _recompute(segment, segment_rule_spec(segment=segment), ids, now)


def segments_recompute_locked(
    *, specs: Mapping[int, RuleSpec | None], customer_ids: Mapping[int, list[int]]
) -> RecomputeResult:
    """segment_recompute of some customers in several segments at once, each for
    its customers (by segment id), none reading another, for a caller inside a
    transaction that holds the customers' row locks and has read the segments'
    rules (the events pass). No savepoint is taken; a rules edit committed since
    the rules were read asks for a full recompute, which waits for this one and
    corrects it. The segments are locked FOR SHARE together, then one statement
    per step for all of them (leavers' history, their removal, newcomers, their
    history) and one announcement of each kind. The totals are returned: whether
    any segment changed."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("segments_recompute_locked runs inside a transaction.")
    segments = [
        s
        for s in _segments_share(sorted(customer_ids))
        if s.type == Segment.Type.RULE
        and not s.archived
        and specs.get(s.pk) is not None
    ]
    if not segments:
        return RecomputeResult(entered=0, left=0)
    now = timezone.now()
    sources = rule_sources()
    actors = {s.pk: Actor.rule(s) for s in segments}
    matching, scope, leaving = {}, Q(), Q()
    for segment in segments:
        ids = customer_ids[segment.pk]
        spec = specs[segment.pk]
        assert spec is not None
        matching[segment.pk] = Customer.objects.filter(any_of("pk", ids)).filter(
            compile_q(plan(spec, now), sources)
        )
        mine = Q(any_of("customer_id", ids), segment_id=segment.pk)
        scope |= mine
        gone = ~Exists(matching[segment.pk].filter(pk=OuterRef("customer_id")))
        leaving |= mine & Q(gone)
    ctx = ChangeContext(actor=actors[segments[0].pk], occurred_at=now)
    rows = Membership.objects.filter(scope).order_by()
    leavers = Membership.objects.filter(leaving, override=Override.NONE).order_by()
    left = _record_rule_changes(
        _described(ctx, "Left: the rules no longer match"), leavers, actors, False
    )
    if left:
        leavers.delete()
    parts = [
        matching[pk]
        .order_by()
        .filter(
            ~Exists(
                Membership.objects.filter(segment_id=pk, customer_id=OuterRef("pk"))
            )
        )
        .annotate(rule_segment=Value(pk, output_field=BigIntegerField()))
        .values("pk", "rule_segment")
        for pk in matching
    ]
    entered = insert_from_select(
        Membership,
        parts[0].union(*parts[1:], all=True) if len(parts) > 1 else parts[0],
        columns={"customer": "pk", "segment": "rule_segment"},
        constants={
            "source": Membership.Source.RULE,
            "override": Override.NONE,
            "joined_at": now,
        },
        ignore_conflicts=True,
    )
    if entered:
        # Rows joined at this very instant by the rules are the ones just written.
        new_rows = rows.filter(joined_at=now, source=Membership.Source.RULE)
        _record_rule_changes(
            _described(ctx, "Entered: the rules match"), new_rows, actors, True
        )
        members_entered.send(
            sender=Segment,
            segments=segments,
            memberships=new_rows,
            actor=ctx.actor,
            actors=actors,
        )
    return RecomputeResult(entered=entered, left=left)


def _record_rule_changes(
    ctx: ChangeContext,
    rows: QuerySet[Membership],
    actors: dict[int, Actor],
    entered: bool,
) -> int:
    """record_changes for rows of several rule segments: each row's history
    names its own segment's rules as the actor, and the announcement carries
    the actor of each segment."""
    label = Case(
        *(When(segment_id=pk, then=Value(a.label)) for pk, a in actors.items()),
        output_field=CharField(),
    )
    constants = {
        **change_values(ctx),
        "action": Action.ENTERED if entered else Action.LEFT,
    }
    del constants["actor_label"]
    recorded = insert_from_select(
        MembershipChange,
        rows.annotate(rule_label=label),
        columns={
            "segment": "segment_id",
            "customer": "customer_id",
            "source": "source",
            "override": "override",
            "is_test": "is_test",
            "actor_label": "rule_label",
        },
        constants={**constants, "was_member": not entered, "is_member": entered},
    )
    if recorded:
        members_changed.send(
            sender=Membership,
            memberships=rows,
            entered=entered,
            context=ctx,
            actors=actors,
        )
    return recorded


def _recompute(
    segment: Segment,
    spec: RuleSpec | None,
    ids: list[int] | None,
    now: datetime | None,
) -> RecomputeResult:
    if segment.type != Segment.Type.RULE or segment.archived or spec is None:
        return RecomputeResult(entered=0, left=0)
    now = now or timezone.now()
    ctx = ChangeContext(actor=Actor.rule(segment), occurred_at=now)
    scope = Q() if ids is None else any_of("pk", ids)
    matching = Customer.objects.filter(scope).filter(
        compile_q(plan(spec, now), rule_sources())
    )
    rows = Membership.objects.filter(segment=segment)
    if ids is not None:
        rows = rows.filter(any_of("customer_id", ids))

    # NOT EXISTS, not NOT IN: PostgreSQL runs NOT IN (subquery) as a hashed subplan
    # only while the ids fit in work_mem, and otherwise rescans the subquery for every
    # row (minutes to hours at 1M customers); NOT EXISTS is an anti-join. No ORDER
    # BY (the models' default ordering) in these INSERT ... SELECTs either.
    rows = rows.order_by()
    leaving = rows.filter(override=Override.NONE).filter(
        ~Exists(matching.filter(pk=OuterRef("customer_id")))
    )
    left = record_changes(
        _described(ctx, "Left: the rules no longer match"),
        leaving,
        Action.LEFT,
        was_member=True,
        is_member=False,
    )
    if left:
        leaving.delete()

    entering = matching.order_by().filter(
        ~Exists(Membership.objects.filter(segment=segment, customer_id=OuterRef("pk")))
    )
    entered = insert_from_select(
        Membership,
        entering,
        columns={"customer": "pk"},
        constants={
            "segment": segment,
            "source": Membership.Source.RULE,
            "override": Override.NONE,
            "joined_at": now,
        },
        ignore_conflicts=True,
    )
    if entered:
        # Rows joined at this very instant by the rules are the ones just written.
        new_rows = rows.filter(joined_at=now, source=Membership.Source.RULE)
        record_changes(
            _described(ctx, "Entered: the rules match"),
            new_rows,
            Action.ENTERED,
            was_member=False,
            is_member=True,
        )
        announce_entered(segment, new_rows, ctx.actor)
    return RecomputeResult(entered=entered, left=left)


def _segment_lock(segment: Segment, customer_ids: list[int] | None) -> Segment:
    """Lock the segment for a recompute and read it anew.

    A full recompute takes it FOR NO KEY UPDATE: full recomputes queue, and members
    added meanwhile (whose foreign key check takes a KEY SHARE lock on the segment)
    do not deadlock with it. An incremental one takes it FOR SHARE, which waits for
    a full recompute (and a rules edit) but not for other incremental ones: those
    for other customers touch other rows (memberships are unique per segment and
    customer), and those for the same customers queue on the customers' row locks,
    taken here in id order (the events path holds them already). Before, every
    event touching a behaviour segment waited for the previous one to commit."""
    if customer_ids is None:
        return Segment.objects.select_for_update(no_key=True).get(pk=segment.pk)
    segment = _segment_share(segment)
    locked = Customer.objects.select_for_update(no_key=True).filter(
        any_of("pk", customer_ids)
    )
    list(locked.order_by("pk").values_list("pk", flat=True))
    return segment


def _segments_share(segment_ids: list[int]) -> list[Segment]:
    """The segments read anew, locked FOR SHARE in id order (PostgreSQL)."""
    if connection.vendor != "postgresql":
        return list(Segment.objects.filter(pk__in=segment_ids).order_by("pk"))
    return list(
        Segment.objects.raw(
            "SELECT * FROM segments_segment WHERE id = ANY(CAST(%s AS bigint[])) "
            "ORDER BY id FOR SHARE",
            [segment_ids],
        )
    )


def _segment_share(segment: Segment) -> Segment:
    """The segment read anew, locked FOR SHARE (PostgreSQL; Django's
    select_for_update has no shared mode)."""
    if connection.vendor != "postgresql":
        return Segment.objects.get(pk=segment.pk)
    shared = list(
        Segment.objects.raw(
            "SELECT * FROM segments_segment WHERE id = %s FOR SHARE", [segment.pk]
        )
    )
    if not shared:
        raise Segment.DoesNotExist(f"Segment {segment.pk} no longer exists.")
    return shared[0]


def _described(ctx: ChangeContext, description: str) -> ChangeContext:
    return replace(ctx, description=description)


def segment_compute_request(*, segment: Segment) -> None:
    """Ask for a full recompute in the background, once the current transaction
    commits (so the worker sees the new rules)."""
    if segment.type != Segment.Type.RULE or segment.archived:
        return
    Segment.objects.filter(pk=segment.pk).update(
        compute_state=State.QUEUED, compute_requested_at=timezone.now()
    )
    from segments.tasks import recompute_segment  # tasks import services

    transaction.on_commit(lambda: recompute_segment.delay(segment.pk))


def segment_compute_run(*, segment_id: int) -> RecomputeResult | None:
    """A full recompute as a background job: marks the segment computing, then up
    to date or failed (with the error, for the admin to show and the periodic job
    to retry). Never raises. Segments whose rules read this one follow."""
    started = timezone.now()
    if not Segment.objects.filter(pk=segment_id, type=Segment.Type.RULE).update(
        compute_state=State.RUNNING, compute_started_at=started
    ):
        return None
    try:
        segment = Segment.objects.get(pk=segment_id)
        result = segment_recompute(segment=segment)
    except Exception as exc:
        logger.exception("Computing segment %s failed", segment_id)
        Segment.objects.filter(pk=segment_id).update(
            compute_state=State.FAILED,
            compute_error=f"{type(exc).__name__}: {exc}"[:2000],
            compute_attempts=F("compute_attempts") + 1,
        )
        return None
    Segment.objects.filter(pk=segment_id).update(
        compute_state=State.IDLE,
        computed_at=started,
        compute_error="",
        compute_attempts=0,
    )
    if result.changed:
        for dependent in _reading(segment_id, _live_rule_segments()):
            segment_compute_request(segment=dependent)
    return result


def segments_refresh_due(*, now: datetime | None = None) -> list[int]:
    """The periodic job: recompute the segments that need it, and only those.

    Time-relative rules ("within the last 7 days") change as time passes; failed
    computations are retried (up to SEGMENTS_COMPUTE_MAX_ATTEMPTS); computations
    queued or running for too long (a lost worker) are started again.
    """
    now = now or timezone.now()
    stuck_before = now - timedelta(seconds=settings.SEGMENTS_COMPUTE_TIMEOUT_SECONDS)
    due = (
        Segment.objects.filter(type=Segment.Type.RULE, archived=False)
        .filter(
            Q(time_relative=True, compute_state__in=[State.IDLE, State.QUEUED])
            | Q(
                compute_state=State.FAILED,
                compute_attempts__lt=settings.SEGMENTS_COMPUTE_MAX_ATTEMPTS,
            )
            | Q(compute_state=State.QUEUED, compute_requested_at__lt=stuck_before)
            | Q(compute_state=State.RUNNING, compute_started_at__lt=stuck_before)
        )
        .order_by("pk")
    )
    ids = list(due.values_list("pk", flat=True))
    for segment_id in ids:
        segment_compute_run(segment_id=segment_id)
    return ids


@transaction.atomic
def customer_segments_refresh(
    *,
    customer: Customer,
    fields: Iterable[str] | None = None,
    event: Event | None = None,
) -> None:
    """Look again at the segments a change to this customer can affect: rule
    segments reading one of `fields` (None: every field, for a new customer) or the
    event's name, then segments reading those that changed; and event-triggered
    segments that this event triggers."""
    watched = None if fields is None else set(fields)
    live = _live_rule_segments()
    pending = _worth_recomputing(
        customer,
        [
            s
            for s in live
            if watched is None
            or watched & set(s.watched_fields)
            or (event is not None and event.name in s.watched_events)
        ],
    )
    seen: set[int] = set()
    while pending:
        segment = pending.pop(0)
        if segment.pk in seen:
            continue
        seen.add(segment.pk)
        result = segment_recompute(segment=segment, customer_ids=[customer.pk])
        if result.changed:
            pending += _reading(segment.pk, live)
    if event is not None:
        _trigger(customer, event)


# Below this many segments, recomputing each costs less than the look first.
PREFILTER_FROM = 4


def _worth_recomputing(customer: Customer, segments: list[Segment]) -> list[Segment]:
    """The segments whose rows for this customer a recompute may change: those the
    customer has a row in (a member, blocked, a test user) and those whose rules
    the Python evaluator says they match (its answers equal the SQL compiler's: a
    property test). For a new customer and a thousand rule segments, a few queries
    and a thousand evaluations in memory instead of a thousand recomputes."""
    if len(segments) < PREFILTER_FROM:
        return segments
    specs = segment_rule_specs(segment_ids=[s.pk for s in segments])
    rows = set(
        Membership.objects.filter(
            customer=customer, segment_id__in=list(specs)
        ).values_list("segment_id", flat=True)
    )
    names = {name for s in segments if s.pk in specs for name in s.watched_events}
    facts = customer_facts(customer=customer, event_names=names)
    now = timezone.now()
    return [
        s
        for s in segments
        if s.pk in specs and (s.pk in rows or matches(plan(specs[s.pk], now), facts))
    ]


def _trigger(customer: Customer, event: Event) -> None:
    """Event-triggered segments: the customer enters when the event arrives and the
    conditions hold for it. Evaluated in Python on the facts at hand."""
    now = timezone.now()
    for segment in Segment.objects.filter(
        type=Segment.Type.EVENT, trigger_event=event.name, archived=False
    ):
        spec = segment_rule_spec(segment=segment)
        if spec is not None:
            facts = customer_facts(
                customer=customer,
                event_names=segment.watched_events,
                trigger=event.properties,
            )
            if not matches(plan(spec, now), facts):
                continue
        segment_members_add(
            segment=segment,
            customers=[customer],
            actor=Actor.event(event.name),
            reference_id=event.message_id,
            description=f'Triggered by "{event.name}"',
            occurred_at=event.timestamp,
        )


def _live_rule_segments() -> list[Segment]:
    return list(
        Segment.objects.filter(archived=False, type=Segment.Type.RULE).order_by("pk")
    )


def _reading(segment_id: int, segments: list[Segment]) -> list[Segment]:
    """The segments among `segments` whose rules test segment `segment_id`."""
    return [s for s in segments if segment_id in s.watched_segments]
