from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db.models import Exists, FilteredRelation, Q

from segments.models import Customer
from segments.services.bulk import any_of

from .models import Campaign, Enrollment

NOT_ENROLLED = "not_enrolled"


@dataclass(frozen=True)
class EnrollmentStatus:
    """CustomerGlu's status check: active, removed or not_enrolled."""

    campaign_id: int
    user_id: str
    status: str
    source: str | None
    enrolled_at: datetime | None
    removed_at: datetime | None


def enrollment_status(*, campaign: Campaign, customer: Customer) -> EnrollmentStatus:
    enrollment = Enrollment.objects.filter(campaign=campaign, customer=customer).first()
    return EnrollmentStatus(
        campaign_id=campaign.pk,
        user_id=customer.external_id,
        status=enrollment.status if enrollment else NOT_ENROLLED,
        source=enrollment.source if enrollment else None,
        enrolled_at=enrollment.enrolled_at if enrollment else None,
        removed_at=enrollment.removed_at if enrollment else None,
    )


def enrollment_check(
    *, campaign_id: int, customer_filter: dict[str, Any] | None
) -> EnrollmentStatus | None:
    """enrollment_status of a live campaign in one query, from ids: the customer's
    row left-joined to their enrollment, and whether the campaign is live. None
    when the campaign is not live (or does not exist) or the customer does not
    exist."""
    if customer_filter is None:
        return None
    rows = (
        Customer.objects.filter(**customer_filter)
        .annotate(
            e=FilteredRelation(
                "enrollments", condition=Q(enrollments__campaign_id=campaign_id)
            ),
            live=Exists(Campaign.objects.live().filter(pk=campaign_id)),
        )
        .order_by()
        .values_list(
            "live",
            "external_id",
            "e__status",
            "e__source",
            "e__enrolled_at",
            "e__removed_at",
        )
    )
    found = next(iter(rows[:1]), None)
    if found is None or not found[0]:
        return None
    _, external_id, status, source, enrolled_at, removed_at = found
    return EnrollmentStatus(
        campaign_id=campaign_id,
        user_id=external_id,
        status=status or NOT_ENROLLED,
        source=source,
        enrolled_at=enrolled_at,
        removed_at=removed_at,
    )


def customer_campaigns(*, customer: Customer):
    """The live campaigns this customer is actively enrolled in."""
    return Campaign.objects.live().filter(
        enrollments__customer=customer, enrollments__status=Enrollment.Status.ACTIVE
    )


def campaign_list():
    return Campaign.objects.prefetch_related("segments")


def active_enrollments_of(customer_ids: list[int]) -> dict[int, set[int]]:
    """For each customer, the campaigns they are actively enrolled in."""
    found: dict[int, set[int]] = {}
    rows = Enrollment.objects.filter(
        any_of("customer_id", customer_ids), status=Enrollment.Status.ACTIVE
    ).values_list("customer_id", "campaign_id")
    for customer_id, campaign_id in rows:
        found.setdefault(customer_id, set()).add(campaign_id)
    return found
