from dataclasses import dataclass
from datetime import datetime

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
