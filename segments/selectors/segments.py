"""Segments, their members and history."""

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db.models import Count, Exists, FilteredRelation, Q, QuerySet

from segments.models import (
    Customer,
    Membership,
    MembershipChange,
    Segment,
)


def segment_list() -> QuerySet[Segment]:
    return Segment.objects.annotate(
        member_count=Count(
            "memberships", filter=~Q(memberships__override=Membership.Override.BLOCK)
        )
    ).order_by("name")


def segment_members(
    *,
    segment: Segment,
    source: str | None = None,
    is_test: bool | None = None,
    override: str | None = None,
) -> QuerySet[Membership]:
    """The segment's members, or with override="block" the customers it blocks."""
    rows = Membership.objects.filter(segment=segment).select_related("customer")
    rows = rows.members() if override is None else rows.filter(override=override)
    if source is not None:
        rows = rows.filter(source=source)
    if is_test is not None:
        rows = rows.filter(is_test=is_test)
    return rows


@dataclass(frozen=True)
class MemberStatus:
    member: bool
    source: str | None
    override: str
    joined_at: datetime | None


def segment_member(*, segment: Segment, customer: Customer) -> MemberStatus:
    row = Membership.objects.filter(segment=segment, customer=customer).first()
    if row is None:
        return MemberStatus(False, None, Membership.Override.NONE, None)
    member = row.is_member
    return MemberStatus(
        member, row.source, row.override, row.joined_at if member else None
    )


def segment_member_check(
    *, segment_id: int, customer_filter: dict[str, Any] | None
) -> MemberStatus | None:
    """segment_member in one query, from ids: the customer's row left-joined to
    their membership in the segment, and whether the segment exists. None when the
    segment or the customer does not exist."""
    if customer_filter is None:
        return None
    rows = (
        Customer.objects.filter(**customer_filter)
        .annotate(
            m=FilteredRelation(
                "memberships", condition=Q(memberships__segment_id=segment_id)
            ),
            segment_found=Exists(Segment.objects.filter(pk=segment_id)),
        )
        .order_by()
        .values_list("segment_found", "m__source", "m__override", "m__joined_at")
    )
    found = next(iter(rows[:1]), None)
    if found is None or not found[0]:
        return None
    _, source, override, joined_at = found
    if source is None:
        return MemberStatus(False, None, Membership.Override.NONE, None)
    member = override != Membership.Override.BLOCK
    return MemberStatus(member, source, override, joined_at if member else None)


def segment_history(*, segment: Segment) -> QuerySet[MembershipChange]:
    return MembershipChange.objects.filter(segment=segment).select_related("customer")
