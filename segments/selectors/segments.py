"""Segments, their members and history."""

from dataclasses import dataclass
from datetime import datetime

from django.db.models import Count, Q, QuerySet

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


def segment_history(*, segment: Segment) -> QuerySet[MembershipChange]:
    return MembershipChange.objects.filter(segment=segment).select_related("customer")
