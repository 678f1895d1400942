"""Campaign writes. Enrollment follows segment membership: a customer who enters an
audience segment of a live campaign is enrolled in the same transaction. A customer
an operator removed stays removed until someone adds them back explicitly."""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Min, QuerySet
from django.utils import timezone

from segments.models import Customer, Membership, Segment
from segments.services import Actor
from segments.services.bulk import insert_from_select
from segments.services.rows import customer_lock, model_update, row_lock, row_write
from segments.services.unset import UNSET

from .models import Campaign, Enrollment
from .signals import enrollments_changed

UPDATABLE_FIELDS = ("name", "description", "status", "starts_at", "ends_at")


@dataclass(frozen=True)
class EnrollmentResult:
    enrollment: Enrollment | None  # None: the customer was never enrolled
    changed: bool  # False when there was nothing to do


@transaction.atomic
def campaign_create(
    *,
    name: str,
    actor: Actor,
    description: str = "",
    status: str = Campaign.Status.DRAFT,
    segments: Iterable[Segment] = (),
    starts_at: datetime | None = None,
    ends_at: datetime | None = None,
) -> Campaign:
    campaign = Campaign(
        name=(name or "").strip(),
        description=description or "",
        status=status,
        starts_at=starts_at,
        ends_at=ends_at,
        created_by=actor.user,
    )
    campaign.full_clean()
    campaign.save()
    segments = list(segments)
    campaign.segments.set(segments)
    _enroll_audience(campaign, segments, actor)
    return campaign


@transaction.atomic
def campaign_update(
    *, campaign: Campaign, actor: Actor, segments: Any = UNSET, **changes: Any
) -> Campaign:
    """Change a campaign. When it goes live, or gains audience segments while live,
    the members of those segments are enrolled at once."""
    unknown = set(changes) - set(UPDATABLE_FIELDS)
    if unknown:
        raise ValidationError({sorted(unknown)[0]: "Unknown field."})
    campaign = row_lock(campaign)
    was_live = campaign.is_live()
    old_ids = set(campaign.segments.values_list("pk", flat=True))
    data = {k: v.strip() if isinstance(v, str) else v for k, v in changes.items()}
    changed = model_update(instance=campaign, fields=UPDATABLE_FIELDS, data=data)
    campaign.full_clean()
    row_write(campaign, changed)
    if segments is not UNSET:
        segments = list(segments)
        campaign.segments.set(segments)
    current = list(campaign.segments.all())
    gained = current if not was_live else [s for s in current if s.pk not in old_ids]
    _enroll_audience(campaign, gained, actor)
    return campaign


@transaction.atomic
def campaign_delete(*, campaign: Campaign, actor: Actor) -> None:
    """Delete a campaign with its enrollments; its audience segments stay."""
    row_lock(campaign).delete()


@transaction.atomic
def enrollment_add(
    *, campaign: Campaign, customer: Customer, actor: Actor
) -> EnrollmentResult:
    """Enroll a customer directly, or bring back one who was removed."""
    if not campaign.is_live():
        raise ValidationError(
            f'Campaign "{campaign.name}" is not active; only active campaigns enroll.'
        )
    _lock_customer(customer)
    api = actor.type == Actor.Type.API
    source = Enrollment.Source.API if api else Enrollment.Source.ADMIN
    enrollment = Enrollment.objects.filter(campaign=campaign, customer=customer).first()
    if enrollment and enrollment.status == Enrollment.Status.ACTIVE:
        return EnrollmentResult(enrollment=enrollment, changed=False)
    if enrollment is None:
        enrollment = Enrollment(campaign=campaign, customer=customer)
    enrollment.status = Enrollment.Status.ACTIVE
    enrollment.source, enrollment.source_segment = source, None
    enrollment.enrolled_at = timezone.now()
    enrollment.removed_at, enrollment.removed_by = None, ""
    enrollment.save()
    _announce(campaign, _rows(enrollment), enrolled=True, actor=actor)
    return EnrollmentResult(enrollment=enrollment, changed=True)


@transaction.atomic
def enrollment_remove(
    *, campaign: Campaign, customer: Customer, actor: Actor
) -> EnrollmentResult:
    """Stop the campaign for this customer. They stay removed, even if they enter an
    audience segment again, until they are added back."""
    _lock_customer(customer)
    enrollment = Enrollment.objects.filter(campaign=campaign, customer=customer).first()
    if enrollment is None or enrollment.status == Enrollment.Status.REMOVED:
        return EnrollmentResult(enrollment=enrollment, changed=False)
    enrollment.status = Enrollment.Status.REMOVED
    enrollment.removed_at = timezone.now()
    enrollment.removed_by = actor.label
    enrollment.save()
    _announce(campaign, _rows(enrollment), enrolled=False, actor=actor)
    return EnrollmentResult(enrollment=enrollment, changed=True)


def enroll_entered_members(
    sender,
    *,
    segments: list[Segment],
    memberships: QuerySet[Membership],
    actor: Actor,
    actors: dict[int, Actor] | None = None,
    **kw,
) -> None:
    """Listener of segments' members_entered: enroll the newcomers of `segments`
    (entered for one reason; `memberships` holds their rows) in the live
    campaigns whose audience includes one of them. The campaigns are looked up
    once for all the segments, then one INSERT per campaign, whatever the number
    of its audience segments entered. `actors`: who let customers in each
    segment, when the segments had each their own."""
    by_pk = {segment.pk: segment for segment in segments}
    audiences: dict[Campaign, list[Segment]] = {}
    links = (
        Campaign.segments.through.objects.filter(
            segment_id__in=list(by_pk), campaign__in=Campaign.objects.live()
        )
        .select_related("campaign")
        .order_by("campaign_id", "segment_id")
    )
    for link in links:
        audiences.setdefault(link.campaign, []).append(by_pk[link.segment_id])
    for campaign, entered in audiences.items():
        _enroll(campaign, entered, memberships, actors or {}, actor)


def _enroll_audience(campaign: Campaign, segments: list[Segment], actor: Actor) -> None:
    if not campaign.is_live():
        return
    for segment in segments:
        rows = Membership.objects.filter(segment=segment)
        _enroll(campaign, [segment], rows, {}, actor)


def _enroll(
    campaign: Campaign,
    segments: list[Segment],
    memberships,
    actors: dict[int, Actor],
    actor: Actor,
) -> None:
    """Enroll the members among `memberships` of the audience `segments`, in one
    statement; a customer in several of them is enrolled through the first (by
    id), as when they are announced one at a time. Existing enrollments win (ON
    CONFLICT DO NOTHING): removed customers stay removed, and concurrent
    enrollers cannot collide. The rows this statement wrote are the ones
    carrying its own enrolled_at."""
    enrolled_at = timezone.now()
    members = memberships.members().filter(segment_id__in=[s.pk for s in segments])
    constants = {
        "campaign": campaign,
        "source": Enrollment.Source.SEGMENT,
        "enrolled_at": enrolled_at,
    }
    if len(segments) == 1:
        # One segment (a whole audience when a campaign goes live): no grouping.
        rows = members.values("customer_id")
        columns = {"customer": "customer_id"}
        constants["source_segment"] = segments[0]
    else:
        rows = members.values("customer_id").annotate(first=Min("segment_id"))
        columns = {"customer": "customer_id", "source_segment": "first"}
    inserted = insert_from_select(
        Enrollment, rows, columns=columns, constants=constants, ignore_conflicts=True
    )
    if not inserted:
        return
    new = Enrollment.objects.filter(
        campaign=campaign,
        enrolled_at=enrolled_at,
        customer__in=members.values("customer_id"),
    )
    through = segments
    if len(segments) > 1:
        # Which segments enrolled someone: one announcement (and description)
        # per segment, as when they are announced one at a time.
        sources = set(new.values_list("source_segment_id", flat=True).distinct())
        through = [s for s in segments if s.pk in sources]
    for segment in through:
        description = f'Entered the audience segment "{segment.name}"'
        _announce(
            campaign,
            new.filter(source_segment=segment),
            enrolled=True,
            actor=actors.get(segment.pk, actor),
            description=description,
        )


def _rows(enrollment: Enrollment) -> QuerySet[Enrollment]:
    return Enrollment.objects.filter(pk=enrollment.pk)


def _announce(
    campaign: Campaign,
    enrollments: QuerySet[Enrollment],
    *,
    enrolled: bool,
    actor: Actor,
    description: str = "",
) -> None:
    """Tell listeners (webhooks) who was enrolled or removed, in this transaction."""
    enrollments_changed.send(
        sender=Enrollment,
        campaign=campaign,
        enrollments=enrollments,
        enrolled=enrolled,
        actor=actor,
        description=description,
        occurred_at=timezone.now(),
    )


def _lock_customer(customer: Customer) -> None:
    """Erasure locks the customer too: it waits for us, or has won and we refuse."""
    customer_lock(customer)
