from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from campaigns.models import Campaign, Enrollment
from campaigns.selectors import customer_campaigns, enrollment_status
from campaigns.services import (
    campaign_create,
    campaign_delete,
    campaign_update,
    enrollment_add,
    enrollment_remove,
)
from segments.models import Membership
from segments.services import (
    Actor,
    segment_members_add,
    segment_members_remove,
    segment_override_set,
)
from tests.factories import CustomerFactory

Status = Enrollment.Status


def enrollments(campaign):
    return dict(
        Enrollment.objects.filter(campaign=campaign).values_list(
            "customer__external_id", "status"
        )
    )


def test_segment_entry__live_campaign__enrolled_in_same_transaction(
    static_segment, actor, customer
):
    # Given an active campaign whose audience is the segment
    campaign = campaign_create(
        name="Welcome", status="active", segments=[static_segment], actor=actor
    )

    # When the customer enters the segment
    segment_members_add(segment=static_segment, customers=[customer], actor=actor)

    # Then they are enrolled, with the segment as the source
    enrollment = Enrollment.objects.get(campaign=campaign, customer=customer)
    assert enrollment.status == Status.ACTIVE
    assert enrollment.source == Enrollment.Source.SEGMENT
    assert enrollment.source_segment == static_segment
    assert list(customer_campaigns(customer=customer)) == [campaign]


def test_segment_entry__override_add__enrolls(rule_segment, actor, customer):
    campaign = campaign_create(
        name="Rule audience", status="active", segments=[rule_segment], actor=actor
    )

    segment_override_set(
        segment=rule_segment, customer=customer, user_status="add", actor=actor
    )

    assert enrollments(campaign) == {customer.external_id: Status.ACTIVE}


@pytest.mark.parametrize(
    ("status", "starts_in_days", "ends_in_days"),
    [
        (Campaign.Status.DRAFT, None, None),
        (Campaign.Status.PAUSED, None, None),
        (Campaign.Status.ACTIVE, 3, None),
        (Campaign.Status.ACTIVE, -3, -1),
    ],
)
def test_segment_entry__campaign_not_live__not_enrolled(
    static_segment, actor, customer, status, starts_in_days, ends_in_days
):
    now = timezone.now()
    campaign = campaign_create(
        name="Not running",
        status=status,
        segments=[static_segment],
        actor=actor,
        starts_at=now + timedelta(days=starts_in_days) if starts_in_days else None,
        ends_at=now + timedelta(days=ends_in_days) if ends_in_days else None,
    )

    segment_members_add(segment=static_segment, customers=[customer], actor=actor)

    assert enrollments(campaign) == {}


def test_enrollment_remove__then_segment_reentry__stays_removed(
    static_segment, actor, customer
):
    # Given an enrolled customer whom an operator removes from the campaign
    campaign = campaign_create(
        name="Sticky", status="active", segments=[static_segment], actor=actor
    )
    segment_members_add(segment=static_segment, customers=[customer], actor=actor)
    enrollment_remove(campaign=campaign, customer=customer, actor=actor)

    # When they leave and enter the audience segment again
    segment_members_remove(segment=static_segment, customers=[customer], actor=actor)
    segment_members_add(segment=static_segment, customers=[customer], actor=actor)

    # Then they stay removed, and the campaign no longer shows for them
    enrollment = Enrollment.objects.get(campaign=campaign, customer=customer)
    assert enrollment.status == Status.REMOVED
    assert enrollment.removed_by == "admin: alice"
    assert list(customer_campaigns(customer=customer)) == []

    # Until someone adds them back explicitly
    result = enrollment_add(campaign=campaign, customer=customer, actor=actor)
    assert result.changed
    assert enrollments(campaign) == {customer.external_id: Status.ACTIVE}
    assert result.enrollment.removed_at is None


def test_enrollment_add__already_active__unchanged(actor, customer):
    campaign = campaign_create(name="Direct", status="active", actor=actor)
    first = enrollment_add(campaign=campaign, customer=customer, actor=actor)

    second = enrollment_add(campaign=campaign, customer=customer, actor=actor)

    assert first.changed and not second.changed
    assert second.enrollment.enrolled_at == first.enrollment.enrolled_at
    assert Enrollment.objects.count() == 1


def test_enrollment_add__through_api_key__source_api(customer):
    from segments.services import api_key_create

    created = api_key_create(name="CRM", scopes=["write"], actor=Actor.system("t"))
    campaign = campaign_create(name="Direct", status="active", actor=Actor.system("t"))

    result = enrollment_add(
        campaign=campaign, customer=customer, actor=Actor.api(created.api_key)
    )

    assert result.enrollment.source == Enrollment.Source.API


def test_enrollment_add__campaign_not_active__refused(actor, customer):
    campaign = campaign_create(name="Draft one", actor=actor)

    with pytest.raises(ValidationError, match="not active"):
        enrollment_add(campaign=campaign, customer=customer, actor=actor)

    assert not Enrollment.objects.exists()


def test_enrollment_status__each_state__customerglu_fields(actor, customer):
    campaign = campaign_create(name="Status", status="active", actor=actor)
    assert enrollment_status(campaign=campaign, customer=customer).status == (
        "not_enrolled"
    )

    enrollment_add(campaign=campaign, customer=customer, actor=actor)
    active = enrollment_status(campaign=campaign, customer=customer)
    first = enrollment_remove(campaign=campaign, customer=customer, actor=actor)
    again = enrollment_remove(campaign=campaign, customer=customer, actor=actor)
    removed = enrollment_status(campaign=campaign, customer=customer)

    assert first.changed and not again.changed

    assert (active.status, active.source, active.removed_at) == (
        "active",
        "admin",
        None,
    )
    assert active.user_id == customer.external_id
    assert removed.status == "removed" and removed.removed_at is not None


def test_enrollment_remove__never_enrolled__nothing_to_do(actor, customer):
    campaign = campaign_create(name="Empty", status="active", actor=actor)

    result = enrollment_remove(campaign=campaign, customer=customer, actor=actor)

    assert (result.enrollment, result.changed) == (None, False)
    assert not Enrollment.objects.exists()


def test_campaign_update__activated__enrolls_existing_members_except_removed(
    static_segment, actor
):
    # Given a paused campaign, a new member, and one removed from the campaign earlier
    kept, removed = CustomerFactory.create_batch(2)
    campaign = campaign_create(
        name="Launch", status="active", segments=[static_segment], actor=actor
    )
    segment_members_add(segment=static_segment, customers=[removed], actor=actor)
    enrollment_remove(campaign=campaign, customer=removed, actor=actor)
    campaign_update(campaign=campaign, actor=actor, status="paused")
    segment_members_add(segment=static_segment, customers=[kept], actor=actor)
    assert enrollments(campaign) == {removed.external_id: Status.REMOVED}

    # When it is made active again
    campaign_update(campaign=campaign, actor=actor, status="active")

    # Then current members are enrolled, and the removed one stays removed
    assert enrollments(campaign) == {
        kept.external_id: Status.ACTIVE,
        removed.external_id: Status.REMOVED,
    }


def test_campaign_update__segment_added_while_live__its_members_enrolled(
    static_segment, rule_segment, actor, customer
):
    segment_members_add(segment=rule_segment, customers=[customer], actor=actor)
    campaign = campaign_create(
        name="Grow", status="active", segments=[static_segment], actor=actor
    )
    assert enrollments(campaign) == {}

    campaign_update(
        campaign=campaign, actor=actor, segments=[static_segment, rule_segment]
    )

    assert enrollments(campaign) == {customer.external_id: Status.ACTIVE}


def test_campaign_create__end_before_start__error_and_nothing_saved(actor):
    now = timezone.now()

    with pytest.raises(ValidationError, match="end must come after the start"):
        campaign_create(
            name="Backwards", actor=actor, starts_at=now, ends_at=now - timedelta(1)
        )

    assert not Campaign.objects.exists()


def test_campaign_update__unknown_field__error(actor):
    campaign = campaign_create(name="Fields", actor=actor)

    with pytest.raises(ValidationError) as error:
        campaign_update(campaign=campaign, actor=actor, budget=10)

    assert "budget" in error.value.message_dict


def test_campaign_update__invalid_status__error_names_status(actor):
    campaign = campaign_create(name="Fields", actor=actor)

    with pytest.raises(ValidationError) as error:
        campaign_update(campaign=campaign, actor=actor, status="running")

    assert "status" in error.value.message_dict
    campaign.refresh_from_db()
    assert campaign.status == "draft"


def test_campaign_delete__enrollments_gone_segments_kept(
    static_segment, actor, customer
):
    campaign = campaign_create(
        name="Gone", status="active", segments=[static_segment], actor=actor
    )
    segment_members_add(segment=static_segment, customers=[customer], actor=actor)

    campaign_delete(campaign=campaign, actor=actor)

    assert not Campaign.objects.exists()
    assert not Enrollment.objects.exists()
    assert Membership.objects.filter(segment=static_segment).count() == 1
