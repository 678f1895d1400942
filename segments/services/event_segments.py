"""Event-triggered segments over time: members leave `exit_after_days` after they
entered (the periodic job), and a segment can take in the customers its past
trigger events would have let in (backfill)."""

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from segments.models import Membership, MembershipChange, Segment
from segments.selectors import event_segment_candidates

from .actors import Actor
from .memberships import ChangeContext, record_changes, segment_members_add

EXPIRY_ACTOR = Actor.system("expiry")


def segments_members_expire(*, now: datetime | None = None) -> dict[int, int]:
    """Take out the members of event-triggered segments who entered more than the
    segment's `exit_after_days` ago (pinned members and test users stay). Each
    segment in its own transaction; returns how many left, by segment id."""
    now = now or timezone.now()
    expiring = Segment.objects.filter(
        type=Segment.Type.EVENT, archived=False, exit_after_days__isnull=False
    ).order_by("pk")
    return {
        segment.pk: left
        for segment in expiring
        if (left := segment_members_expire(segment=segment, now=now))
    }


@transaction.atomic
def segment_members_expire(*, segment: Segment, now: datetime) -> int:
    days = segment.exit_after_days
    if not days:
        return 0
    expired = Membership.objects.filter(
        segment=segment,
        override=Membership.Override.NONE,
        is_test=False,
        joined_at__lt=now - timedelta(days=days),
    ).order_by()
    ctx = ChangeContext(
        actor=EXPIRY_ACTOR,
        occurred_at=now,
        description=f"Left: entered more than {days} days ago "
        f"(the segment keeps members {days} days)",
        metadata={"exit_after_days": days},
    )
    left = record_changes(
        ctx, expired, MembershipChange.Action.LEFT, was_member=True, is_member=False
    )
    if left:
        expired.delete()
    return left


@dataclass(frozen=True)
class BackfillResult:
    candidates: int
    entered: int
    already_members: int
    blocked: int


@transaction.atomic
def segment_backfill(
    *, segment: Segment, actor: Actor, days: int | None = None
) -> BackfillResult:
    """Let in the customers whose past trigger event (in the last `days` days, or
    ever) meets the segment's conditions: what the preview counts. Blocked
    customers stay out; history says it was a backfill."""
    if segment.type != Segment.Type.EVENT:
        raise ValidationError(
            "Only event-triggered segments backfill from past events; "
            "rule segments are computed from their rules."
        )
    if days is not None and not 1 <= days <= Segment.MAX_DAYS:
        raise ValidationError(
            {"days": f"Give a number of days from 1 to {Segment.MAX_DAYS:,}."}
        )
    since = timezone.now() - timedelta(days=days) if days else None
    customers = list(event_segment_candidates(segment=segment, since=since))
    window = f" in the last {days} days" if days else ""
    result = segment_members_add(
        segment=segment,
        customers=customers,
        actor=actor,
        description=f'Backfill: performed "{segment.trigger_event}"{window}',
        metadata={"backfill_days": days},
    )
    return BackfillResult(
        candidates=len(customers),
        entered=len(result.added),
        already_members=len(result.already_members),
        blocked=len(result.blocked),
    )
