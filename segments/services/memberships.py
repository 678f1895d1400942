"""Membership writes: members added and removed, overrides, test users.

Every function locks the customers' rows first (in id order, so concurrent batches
cannot deadlock). Two requests adding the same customer at once therefore queue: the
second sees the first one's row and does nothing, with no duplicate and no error.
Each effective change writes one history row in the same transaction; a no-op writes
none.
"""

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from segments.models import Customer, Membership, MembershipChange, Segment
from segments.signals import members_entered

from .actors import Actor
from .bulk import insert_from_select

Action = MembershipChange.Action
Override = Membership.Override


@dataclass(frozen=True)
class ChangeContext:
    actor: Actor
    reference_id: str = ""
    metadata: dict[str, Any] = field(default_factory=dict)
    description: str = ""
    occurred_at: datetime = field(default_factory=timezone.now)


@dataclass(frozen=True)
class MembersAddResult:
    added: list[Customer]
    already_members: list[Customer]
    blocked: list[Customer]


@dataclass(frozen=True)
class MembersRemoveResult:
    removed: list[Customer]
    not_members: list[Customer]


@dataclass(frozen=True)
class MembershipState:
    """Where a customer stands after a change; `membership` is None without a row."""

    membership: Membership | None
    changed: bool
    # True when the change was older than the last one applied, and so not applied.
    stale: bool = False

    @property
    def is_member(self) -> bool:
        return self.membership is not None and self.membership.is_member

    @property
    def override(self) -> str:
        return self.membership.override if self.membership else Override.NONE


@transaction.atomic
def segment_members_add(
    *,
    segment: Segment,
    customers: Iterable[Customer],
    actor: Actor,
    reference_id: str = "",
    metadata: dict[str, Any] | None = None,
    description: str = "",
    occurred_at: datetime | None = None,
) -> MembersAddResult:
    """Add customers to a segment. Blocked customers stay out and are reported.

    Added to a rule segment by anything but its rules, a customer gets an `add`
    override so that the rules do not take them out again.
    """
    ctx = _context(actor, reference_id, metadata, description, occurred_at)
    customers = _lock(segment, customers)
    rows = _rows(segment, customers)
    by_hand = segment.type == Segment.Type.RULE and actor.type != Actor.Type.RULE
    override = Override.ADD if by_hand else Override.NONE
    added, already, blocked = [], [], []
    for customer in customers:
        row = rows.get(customer.pk)
        if row is None:
            added.append(customer)
        elif row.is_member:
            already.append(customer)
        else:
            blocked.append(customer)
    added_ids = [c.pk for c in added]
    insert_from_select(
        Membership,
        Customer.objects.filter(pk__in=added_ids),
        columns={"customer": "pk"},
        constants=_row_values(segment, ctx, source=actor.source, override=override),
    )
    added_rows = _rows_of(segment, added_ids)
    record_changes(ctx, added_rows, Action.ENTERED, was_member=False, is_member=True)
    announce_entered(segment, added_rows, actor)
    return MembersAddResult(added=added, already_members=already, blocked=blocked)


@transaction.atomic
def segment_members_remove(
    *,
    segment: Segment,
    customers: Iterable[Customer],
    actor: Actor,
    reference_id: str = "",
    metadata: dict[str, Any] | None = None,
    description: str = "",
    occurred_at: datetime | None = None,
) -> MembersRemoveResult:
    """Take customers out of a segment. Blocks stay in place: unblocking is a reset.

    A rule segment may take a removed customer back at its next computation; to keep
    someone out of one, block them.
    """
    ctx = _context(actor, reference_id, metadata, description, occurred_at)
    customers = _lock(segment, customers)
    rows = _rows(segment, customers)
    removed: list[Customer] = []
    not_members: list[Customer] = []
    for customer in customers:
        row = rows.get(customer.pk)
        (removed if row and row.is_member else not_members).append(customer)
    removed_ids = [c.pk for c in removed]
    removed_rows = _rows_of(segment, removed_ids)
    record_changes(ctx, removed_rows, Action.LEFT, was_member=True, is_member=False)
    removed_rows.delete()
    return MembersRemoveResult(removed=removed, not_members=not_members)


@transaction.atomic
def segment_override_set(
    *,
    segment: Segment,
    customer: Customer,
    user_status: str,
    actor: Actor,
    reference_id: str = "",
    metadata: dict[str, Any] | None = None,
    description: str = "",
    occurred_at: datetime | None = None,
) -> MembershipState:
    """Village's user_status: `add` makes the customer a member whatever the rules
    say; `block` takes them out and keeps the rules from adding them back; `reset`
    clears the override, leaves membership as it is and lets the rules decide again.

    A change that `occurred_at` before the last change applied to this customer in
    this segment arrived late: it is recorded as `ignored` and changes nothing, so a
    delayed request cannot undo a newer one.
    """
    if user_status not in (Override.ADD, Override.BLOCK, "reset"):
        raise ValidationError(
            {"user_status": f'Expected "add", "block" or "reset", got {user_status!r}.'}
        )
    ctx = _context(actor, reference_id, metadata, description, occurred_at)
    (customer,) = _lock(segment, [customer])
    row = _rows(segment, [customer]).get(customer.pk)
    if occurred_at is not None and _newer_change_exists(segment, customer, ctx):
        _record_ignored(ctx, segment, customer, row, user_status)
        return MembershipState(membership=row, changed=False, stale=True)
    if user_status == Override.ADD:
        return _pin(segment, customer, row, ctx, is_test=False)
    if user_status == Override.BLOCK:
        return _block(segment, customer, row, ctx)
    return _reset(segment, row, ctx)


@transaction.atomic
def segment_test_user_add(
    *, segment: Segment, customer: Customer, actor: Actor, description: str = ""
) -> MembershipState:
    """Make the customer a test member: in the segment whatever the rules say, and
    left out of stats."""
    ctx = _context(actor, "", None, description or "Added as a test user", None)
    (customer,) = _lock(segment, [customer])
    row = _rows(segment, [customer]).get(customer.pk)
    return _pin(segment, customer, row, ctx, is_test=True)


@transaction.atomic
def segment_test_user_remove(
    *, segment: Segment, customer: Customer, actor: Actor
) -> MembershipState:
    """Take a test user out of the segment. Other members are left alone."""
    ctx = _context(actor, "", None, "Removed as a test user", None)
    (customer,) = _lock(segment, [customer])
    row = _rows(segment, [customer]).get(customer.pk)
    if row is None or not row.is_test:
        return MembershipState(membership=row, changed=False)
    record_changes(ctx, _rows_of(segment, [customer.pk]), Action.LEFT, True, False)
    row.delete()
    return MembershipState(membership=None, changed=True)


def _pin(segment, customer, row, ctx, *, is_test):
    if row is None:
        source = Membership.Source.TEST if is_test else ctx.actor.source
        row = _new_row(segment, customer.pk, ctx, source=source, override=Override.ADD)
        row.is_test = is_test
        row.save()
        rows = _rows_of(segment, [customer.pk])
        record_changes(ctx, rows, Action.ENTERED, False, True)
        announce_entered(segment, rows, ctx.actor)
        return MembershipState(membership=row, changed=True)
    if row.override == Override.ADD and (row.is_test or not is_test):
        return MembershipState(membership=row, changed=False)
    was_member = row.is_member
    if not was_member:
        row.source, row.joined_at = ctx.actor.source, ctx.occurred_at
    row.override, row.is_test = Override.ADD, is_test or row.is_test
    _stamp(row, ctx)
    row.save()
    action = Action.OVERRIDE_ADDED if was_member else Action.ENTERED
    rows = _rows_of(segment, [customer.pk])
    record_changes(ctx, rows, action, was_member, True)
    if not was_member:
        announce_entered(segment, rows, ctx.actor)
    return MembershipState(membership=row, changed=True)


def _block(segment, customer, row, ctx):
    if row is None:
        row = _new_row(
            segment, customer.pk, ctx, source=ctx.actor.source, override=Override.BLOCK
        )
        row.save()
        record_changes(
            ctx, _rows_of(segment, [customer.pk]), Action.BLOCKED, False, False
        )
        return MembershipState(membership=row, changed=True)
    if row.override == Override.BLOCK:
        return MembershipState(membership=row, changed=False)
    row.override, row.is_test = Override.BLOCK, False
    _stamp(row, ctx)
    row.save()
    record_changes(ctx, _rows_of(segment, [customer.pk]), Action.BLOCKED, True, False)
    return MembershipState(membership=row, changed=True)


def _reset(segment, row, ctx):
    if row is None or row.override == Override.NONE:
        return MembershipState(membership=row, changed=False)
    was_member = row.is_member
    row.override = Override.NONE
    if was_member:
        _stamp(row, ctx)
        row.save()
    record_changes(
        ctx,
        _rows_of(segment, [row.customer_id]),
        Action.OVERRIDE_RESET,
        was_member,
        was_member,
        override=Override.NONE,
    )
    if not was_member:
        # A block row without its block is nothing: the customer was not a member.
        row.delete()
    return MembershipState(membership=row if was_member else None, changed=True)


def _context(actor, reference_id, metadata, description, occurred_at) -> ChangeContext:
    if metadata is not None and not isinstance(metadata, dict):
        raise ValidationError({"metadata": "Expected an object."})
    return ChangeContext(
        actor=actor,
        reference_id=reference_id or "",
        metadata=metadata or {},
        description=description or "",
        occurred_at=occurred_at or timezone.now(),
    )


def _lock(segment: Segment, customers: Iterable[Customer]) -> list[Customer]:
    """Refuse archived segments, then lock the customers' rows in id order.

    Returns the customers, once each, in the order given, less any erased meanwhile.
    """
    if segment.archived:
        raise ValidationError(
            f'Segment "{segment.name}" is archived; restore it to change its members.'
        )
    unique = list({c.pk: c for c in customers}.values())
    locked = set(
        Customer.objects.select_for_update()
        .filter(pk__in=[c.pk for c in unique])
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    return [c for c in unique if c.pk in locked]


def _rows(segment: Segment, customers: list[Customer]) -> dict[int, Membership]:
    rows = Membership.objects.filter(
        segment=segment, customer_id__in=[c.pk for c in customers]
    )
    return {row.customer_id: row for row in rows}


def _row_values(segment, ctx, *, source, override) -> dict[str, Any]:
    return {
        "segment": segment,
        "source": source,
        "override": override,
        "joined_at": ctx.occurred_at,
        "reference_id": ctx.reference_id,
        "metadata": ctx.metadata,
    }


def _new_row(segment, customer_id, ctx, *, source, override) -> Membership:
    values = _row_values(segment, ctx, source=source, override=override)
    return Membership(customer_id=customer_id, **values)


def _stamp(row: Membership, ctx: ChangeContext) -> None:
    if ctx.reference_id:
        row.reference_id = ctx.reference_id
    if ctx.metadata:
        row.metadata = ctx.metadata


def _rows_of(segment: Segment, customer_ids: list[int]) -> QuerySet[Membership]:
    return Membership.objects.filter(segment=segment, customer_id__in=customer_ids)


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
    return insert_from_select(
        MembershipChange,
        rows,
        columns={
            "segment": "segment_id",
            "customer": "customer_id",
            **{name: column for name, column in copied.items() if name not in state},
        },
        constants={
            **state,
            **_change_values(ctx),
            "action": action,
            "was_member": was_member,
            "is_member": is_member,
        },
    )


def announce_entered(
    segment: Segment, memberships: QuerySet[Membership], actor: Actor
) -> None:
    """Tell listeners (campaigns) that the customers of `memberships` entered."""
    members_entered.send(
        sender=Segment, segment=segment, memberships=memberships, actor=actor
    )


def _change_values(ctx: ChangeContext) -> dict[str, Any]:
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


def _newer_change_exists(segment, customer, ctx: ChangeContext) -> bool:
    return (
        MembershipChange.objects.filter(
            segment=segment, customer=customer, occurred_at__gt=ctx.occurred_at
        )
        .exclude(action=Action.IGNORED)
        .exists()
    )


def _record_ignored(ctx, segment, customer, row, user_status) -> None:
    """History of a late change: the state stays as it is, and the row says why."""
    member = row is not None and row.is_member
    values = _change_values(ctx)
    note = (
        f'Not applied: "{user_status}" occurred at {ctx.occurred_at.isoformat()}, '
        "before the last change applied."
    )
    values["description"] = f"{note} {ctx.description}".strip()
    MembershipChange.objects.create(
        **values,
        segment=segment,
        customer=customer,
        action=Action.IGNORED,
        was_member=member,
        is_member=member,
        source=row.source if row else ctx.actor.source,
        override=row.override if row else Override.NONE,
        is_test=row.is_test if row else False,
    )
