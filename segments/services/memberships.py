"""Membership writes: members added and removed, and the history writer the
other membership services share (overrides.py, compute.py).

Every function locks the customers' rows first (in id order, so concurrent batches
cannot deadlock). Two requests adding the same customer at once therefore queue: the
second sees the first one's row and does nothing, with no duplicate and no error.
Each effective change writes one history row in the same transaction; a no-op writes
none.
"""

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import BigIntegerField, CharField, Q, QuerySet, Value
from django.utils import timezone

from segments.models import Customer, Membership, MembershipChange, Segment
from segments.signals import members_changed, members_entered

from .actors import Actor
from .bulk import any_of, insert_from_select
from .rows import row_gone

Action = MembershipChange.Action
Override = Membership.Override


@dataclass(frozen=True)
class ChangeContext:
    actor: Actor
    reference_id: str = ""
    metadata: dict[str, Any] = field(default_factory=dict)
    description: str = ""
    occurred_at: datetime = field(default_factory=timezone.now)


class CustomerRef(Protocol):
    """What adding members reads of a customer: a Customer, or the CustomerKey of
    a bulk lookup (no model instance for each of 10,000 customers)."""

    @property
    def pk(self) -> Any: ...

    @property
    def external_id(self) -> str: ...


@dataclass(frozen=True)
class MembersAddResult[C: CustomerRef]:
    added: list[C]
    already_members: list[C]
    blocked: list[C]


@dataclass(frozen=True)
class MembersRemoveResult:
    removed: list[Customer]
    not_members: list[Customer]


def segment_members_add[C: CustomerRef](
    *,
    segment: Segment,
    customers: Iterable[C],
    actor: Actor,
    reference_id: str = "",
    metadata: dict[str, Any] | None = None,
    description: str = "",
    occurred_at: datetime | None = None,
) -> MembersAddResult[C]:
    """Add customers to a segment. Blocked customers stay out and are reported.

    Added to a rule segment by anything but its rules, a customer gets an `add`
    override so that the rules do not take them out again.
    """
    return segments_members_add(
        entries={segment: customers},
        actor=actor,
        reference_id=reference_id,
        metadata=metadata,
        description=description,
        occurred_at=occurred_at,
    )[segment.pk]


@transaction.atomic
def segments_members_add[C: CustomerRef](
    *,
    entries: Mapping[Segment, Iterable[C]],
    actor: Actor,
    reference_id: str = "",
    metadata: dict[str, Any] | None = None,
    description: str = "",
    occurred_at: datetime | None = None,
) -> dict[int, MembersAddResult[C]]:
    """segment_members_add for several segments at once, for one reason (the
    event-triggered segments one event name lets in): the customers are locked
    and the segments' rows read once, and the history written and announced
    (members_changed) once, instead of once per segment. By segment id."""
    wanted = {segment: _unique(customers) for segment, customers in entries.items()}
    for segment in wanted:
        _refuse_archived(segment)
    _lock([c for customers in wanted.values() for c in customers])
    # The time is taken once the customers are locked: history in time order is
    # then the order in which changes were applied.
    ctx = change_context(actor, reference_id, metadata, description, occurred_at)
    existing = _rows_of_pairs(wanted)
    results: dict[int, MembersAddResult[C]] = {}
    entered: dict[Segment, list[int]] = {}
    for segment, customers in wanted.items():
        added: list[C] = []
        already: list[C] = []
        blocked: list[C] = []
        for customer in customers:
            row = existing.get((segment.pk, customer.pk))
            if row is None:
                added.append(customer)
            elif row.is_member:
                already.append(customer)
            else:
                blocked.append(customer)
        results[segment.pk] = MembersAddResult(
            added=added, already_members=already, blocked=blocked
        )
        if added:
            entered[segment] = [c.pk for c in added]
    if entered:
        _insert_members(entered, ctx, actor)
        pairs = Q()
        for segment, ids in entered.items():
            pairs |= Q(any_of("customer_id", ids), segment=segment)
        rows = Membership.objects.filter(pairs)
        record_changes(ctx, rows, Action.ENTERED, was_member=False, is_member=True)
        announce_entered(list(entered), rows, actor)
    return results


def _rows_of_pairs(
    wanted: Mapping[Segment, Sequence[CustomerRef]],
) -> dict[tuple[int, int], Membership]:
    """The rows of the (segment, customer) pairs wanted, in one query."""
    customer_ids = {c.pk for customers in wanted.values() for c in customers}
    if not wanted or not customer_ids:
        return {}
    rows = Membership.objects.filter(
        any_of("segment_id", [s.pk for s in wanted]),
        any_of("customer_id", customer_ids),
    )
    return {(row.segment_id, row.customer_id): row for row in rows}


def _insert_members(
    entered: dict[Segment, list[int]], ctx: ChangeContext, actor: Actor
) -> None:
    """The rows of every segment's newcomers, in one INSERT ... SELECT."""
    parts = []
    for segment, customer_ids in entered.items():
        by_hand = segment.type == Segment.Type.RULE and actor.type != Actor.Type.RULE
        override = Override.ADD if by_hand else Override.NONE
        parts.append(
            Customer.objects.filter(any_of("pk", customer_ids))
            .order_by()
            .annotate(
                to_segment=Value(segment.pk, output_field=BigIntegerField()),
                to_override=Value(override, output_field=CharField()),
            )
            .values("pk", "to_segment", "to_override")
        )
    values = row_values(None, ctx, source=actor.source, override=None)
    del values["segment"], values["override"]
    insert_from_select(
        Membership,
        parts[0].union(*parts[1:], all=True) if len(parts) > 1 else parts[0],
        columns={"customer": "pk", "segment": "to_segment", "override": "to_override"},
        constants=values,
    )


def change_context(
    actor, reference_id, metadata, description, occurred_at
) -> ChangeContext:
    if metadata is not None and not isinstance(metadata, dict):
        raise ValidationError({"metadata": "Expected an object."})
    return ChangeContext(
        actor=actor,
        reference_id=reference_id or "",
        metadata=metadata or {},
        description=description or "",
        occurred_at=occurred_at or timezone.now(),
    )


def customers_lock(segment: Segment, customers: Iterable[Customer]) -> list[Customer]:
    """Refuse archived segments, then lock the customers' rows in id order.

    Returns the customers, once each, in the order given. A customer erased
    meanwhile is refused (Customer.DoesNotExist): erasure wins over any write.
    """
    _refuse_archived(segment)
    unique = _unique(customers)
    _lock(unique)
    return unique


def _refuse_archived(segment: Segment) -> None:
    if segment.archived:
        raise ValidationError(
            f'Segment "{segment.name}" is archived; restore it to change its members.'
        )


def _unique[C: CustomerRef](customers: Iterable[C]) -> list[C]:
    return list({c.pk: c for c in customers}.values())


def _lock(customers: Sequence[CustomerRef]) -> None:
    locked = set(
        Customer.objects.select_for_update(no_key=True)
        .filter(any_of("pk", {c.pk for c in customers}))
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    for customer in customers:
        if customer.pk not in locked:
            raise row_gone(Customer, customer.external_id)


def rows_by_customer(
    segment: Segment, customers: list[Customer]
) -> dict[int, Membership]:
    rows = Membership.objects.filter(
        any_of("customer_id", [c.pk for c in customers]), segment=segment
    )
    return {row.customer_id: row for row in rows}


def row_values(segment, ctx, *, source, override) -> dict[str, Any]:
    return {
        "segment": segment,
        "source": source,
        "override": override,
        "joined_at": ctx.occurred_at,
        "reference_id": ctx.reference_id,
        "metadata": ctx.metadata,
    }


def new_row(segment, customer_id, ctx, *, source, override) -> Membership:
    values = row_values(segment, ctx, source=source, override=override)
    return Membership(customer_id=customer_id, **values)


def stamp(row: Membership, ctx: ChangeContext) -> None:
    if ctx.reference_id:
        row.reference_id = ctx.reference_id
    if ctx.metadata:
        row.metadata = ctx.metadata


def rows_of(segment: Segment, customer_ids: list[int]) -> QuerySet[Membership]:
    return Membership.objects.filter(
        any_of("customer_id", customer_ids), segment=segment
    )


def record_changes(
    ctx: ChangeContext,
    rows: QuerySet[Membership],
    action: str,
    was_member: bool,
    is_member: bool,
    **state: Any,
) -> int:
    """One history row per membership row in `rows`, copying it as it stands (so
    call it while the rows exist); `state` replaces what the row says."""
    copied = {name: name for name in ("source", "override", "is_test")}
    recorded = insert_from_select(
        MembershipChange,
        rows,
        columns={
            "segment": "segment_id",
            "customer": "customer_id",
            **{name: column for name, column in copied.items() if name not in state},
        },
        constants={
            **state,
            **change_values(ctx),
            "action": action,
            "was_member": was_member,
            "is_member": is_member,
        },
    )
    if recorded and was_member != is_member:
        members_changed.send(
            sender=Membership, memberships=rows, entered=is_member, context=ctx
        )
    return recorded


def announce_entered(
    segment: Segment | list[Segment], memberships: QuerySet[Membership], actor: Actor
) -> None:
    """Tell listeners (campaigns) that the customers of `memberships` entered
    `segment` (or each of several segments, `memberships` holding all their rows)."""
    segments = segment if isinstance(segment, list) else [segment]
    members_entered.send(
        sender=Segment, segments=segments, memberships=memberships, actor=actor
    )


def change_values(ctx: ChangeContext) -> dict[str, Any]:
    """What every history row says about who made the change, when and why."""
    actor = ctx.actor
    return {
        "actor_type": actor.type,
        "actor_user": actor.user,
        "actor_api_key": actor.api_key,
        "actor_label": actor.label,
        "reference_id": ctx.reference_id,
        "metadata": ctx.metadata,
        "description": ctx.description,
        "occurred_at": ctx.occurred_at,
    }
