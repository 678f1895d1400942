"""Changes by hand that the rules then follow: removals, overrides (Village's
user_status) and test users.

Membership of a rule segment is, at every commit: the customers its rules match, plus
`add` overrides and test users, less `block` overrides. So a `reset` hands the
customer back to the rules at once, and so does a removal (which drops an `add`
override): they are evaluated in the same transaction.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction

from segments.models import Customer, Membership, MembershipChange, Segment

from .actors import Actor
from .compute import segment_recompute
from .memberships import (
    ChangeContext,
    MembersRemoveResult,
    announce_entered,
    change_context,
    change_values,
    customers_lock,
    new_row,
    record_changes,
    rows_by_customer,
    rows_of,
    stamp,
)
from .rows import row_write

Action = MembershipChange.Action
Override = Membership.Override
RESET = "reset"
# What a change to an existing row may set (see stamp and _pin).
ROW_FIELDS = ("source", "joined_at", "override", "is_test", "reference_id", "metadata")


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

    In a rule segment this drops their `add` override: the rules decide at once, and
    take back those they match (history: `left`, then `entered`). To keep someone
    out of a rule segment, block them.
    """
    customers = customers_lock(segment, customers)
    ctx = change_context(actor, reference_id, metadata, description, occurred_at)
    rows = rows_by_customer(segment, customers)
    removed: list[Customer] = []
    not_members: list[Customer] = []
    for customer in customers:
        row = rows.get(customer.pk)
        (removed if row and row.is_member else not_members).append(customer)
    removed_ids = [c.pk for c in removed]
    removed_rows = rows_of(segment, removed_ids)
    record_changes(ctx, removed_rows, Action.LEFT, was_member=True, is_member=False)
    removed_rows.delete()
    _rules_decide(segment, removed_ids)
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
    clears the override and lets the rules decide again, at once (a static or
    event-triggered segment has no rules: membership stays as it is).

    A change that `occurred_at` before the last change applied to this customer in
    this segment arrived late: it is recorded as `ignored` and changes nothing, so a
    delayed request cannot undo a newer one.
    """
    if user_status not in (Override.ADD, Override.BLOCK, RESET):
        raise ValidationError(
            {"user_status": f'Expected "add", "block" or "reset", got {user_status!r}.'}
        )
    (customer,) = customers_lock(segment, [customer])
    ctx = change_context(actor, reference_id, metadata, description, occurred_at)
    row = rows_by_customer(segment, [customer]).get(customer.pk)
    if occurred_at is not None and _newer_change_exists(segment, customer, ctx):
        _record_ignored(ctx, segment, customer, row, user_status)
        return MembershipState(membership=row, changed=False, stale=True)
    if user_status == Override.ADD:
        return _pin(segment, customer, row, ctx, is_test=False)
    if user_status == Override.BLOCK:
        return _block(segment, customer, row, ctx)
    state = _reset(segment, row, ctx)
    if state.changed and _rules_decide(segment, [customer.pk]):
        row = rows_by_customer(segment, [customer]).get(customer.pk)
        state = MembershipState(membership=row, changed=True)
    return state


@transaction.atomic
def segment_test_user_add(
    *, segment: Segment, customer: Customer, actor: Actor, description: str = ""
) -> MembershipState:
    """Make the customer a test member: in the segment whatever the rules say, and
    left out of stats."""
    (customer,) = customers_lock(segment, [customer])
    ctx = change_context(actor, "", None, description or "Added as a test user", None)
    row = rows_by_customer(segment, [customer]).get(customer.pk)
    return _pin(segment, customer, row, ctx, is_test=True)


@transaction.atomic
def segment_test_user_remove(
    *, segment: Segment, customer: Customer, actor: Actor
) -> MembershipState:
    """Take a test user out of the segment. Other members are left alone."""
    (customer,) = customers_lock(segment, [customer])
    ctx = change_context(actor, "", None, "Removed as a test user", None)
    row = rows_by_customer(segment, [customer]).get(customer.pk)
    if row is None or not row.is_test:
        return MembershipState(membership=row, changed=False)
    record_changes(ctx, rows_of(segment, [customer.pk]), Action.LEFT, True, False)
    row.delete()
    if _rules_decide(segment, [customer.pk]):
        row = rows_by_customer(segment, [customer]).get(customer.pk)
        return MembershipState(membership=row, changed=True)
    return MembershipState(membership=None, changed=True)


def _rules_decide(segment: Segment, customer_ids: list[int]) -> bool:
    """In a rule segment, evaluate the customers against the rules now; True when
    that changed anything."""
    if segment.type != Segment.Type.RULE or not customer_ids:
        return False
    return segment_recompute(segment=segment, customer_ids=customer_ids).changed


def _pin(segment, customer, row, ctx, *, is_test):
    if row is None:
        source = Membership.Source.TEST if is_test else ctx.actor.source
        row = new_row(segment, customer.pk, ctx, source=source, override=Override.ADD)
        row.is_test = is_test
        row.save()
        rows = rows_of(segment, [customer.pk])
        record_changes(ctx, rows, Action.ENTERED, False, True)
        announce_entered(segment, rows, ctx.actor)
        return MembershipState(membership=row, changed=True)
    if row.override == Override.ADD and (row.is_test or not is_test):
        return MembershipState(membership=row, changed=False)
    was_member = row.is_member
    if not was_member:
        row.source, row.joined_at = ctx.actor.source, ctx.occurred_at
    row.override, row.is_test = Override.ADD, is_test or row.is_test
    stamp(row, ctx)
    row_write(row, ROW_FIELDS)
    action = Action.OVERRIDE_ADDED if was_member else Action.ENTERED
    rows = rows_of(segment, [customer.pk])
    record_changes(ctx, rows, action, was_member, True)
    if not was_member:
        announce_entered(segment, rows, ctx.actor)
    return MembershipState(membership=row, changed=True)


def _block(segment, customer, row, ctx):
    if row is None:
        row = new_row(
            segment, customer.pk, ctx, source=ctx.actor.source, override=Override.BLOCK
        )
        row.save()
        record_changes(
            ctx, rows_of(segment, [customer.pk]), Action.BLOCKED, False, False
        )
        return MembershipState(membership=row, changed=True)
    if row.override == Override.BLOCK:
        return MembershipState(membership=row, changed=False)
    row.override, row.is_test = Override.BLOCK, False
    stamp(row, ctx)
    row_write(row, ROW_FIELDS)
    record_changes(ctx, rows_of(segment, [customer.pk]), Action.BLOCKED, True, False)
    return MembershipState(membership=row, changed=True)


def _reset(segment, row, ctx):
    if row is None or row.override == Override.NONE:
        return MembershipState(membership=row, changed=False)
    was_member = row.is_member
    row.override = Override.NONE
    if was_member:
        stamp(row, ctx)
        row_write(row, ROW_FIELDS)
    record_changes(
        ctx,
        rows_of(segment, [row.customer_id]),
        Action.OVERRIDE_RESET,
        was_member,
        was_member,
        override=Override.NONE,
    )
    if not was_member:
        # A block row without its block is nothing: the customer was not a member.
        row.delete()
    return MembershipState(membership=row if was_member else None, changed=True)


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
    values = change_values(ctx)
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
