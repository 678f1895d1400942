import pytest
from django.urls import reverse

from campaigns.models import Campaign, Enrollment
from campaigns.services import (
    campaign_create,
    campaign_update,
    enrollment_add,
    enrollment_remove,
)
from segments.models import Segment
from segments.services import segment_create, segment_members_add
from tests.admin_support import (
    check_changelist_scales,
    errors,
    messages,
    post_action,
)
from tests.factories import CampaignFactory, CustomerFactory

Status = Enrollment.Status


def url(name, *args):
    return reverse(f"admin:campaigns_{name}", args=args)


def act(client, model, action, *objs):
    return post_action(client, url(f"{model}_changelist"), action, objs)


def campaign_form(**changes):
    no_dates = {f"{f}_{i}": "" for f in ("starts_at", "ends_at") for i in (0, 1)}
    return {"name": "Spring", "description": "", "status": "draft"} | no_dates | changes


def add_live_campaign(actor, n):
    segment = segment_create(name=f"Segment {n}", type="static", actor=actor)
    segment_members_add(
        segment=segment, customers=CustomerFactory.create_batch(2), actor=actor
    )
    return campaign_create(
        name=f"Campaign {n}", status="active", segments=[segment], actor=actor
    )


@pytest.mark.parametrize("model", ["campaign", "enrollment"])
def test_changelist__more_rows__same_queries_and_pages_load(admin_client, actor, model):
    # Each set of rows: a live campaign with its audience enrolled
    check_changelist_scales(
        admin_client, url, model, lambda n: add_live_campaign(actor, n)
    )
    assert admin_client.get(url(f"{model}_add")).status_code == 200


# Campaigns


def test_campaign_changelist__one_removed__audience_and_active_count(
    admin_client, static_segment, actor
):
    a, b = CustomerFactory.create_batch(2)
    segment_members_add(segment=static_segment, customers=[a, b], actor=actor)
    campaign = campaign_create(
        name="Spring", status="active", segments=[static_segment], actor=actor
    )
    enrollment_remove(campaign=campaign, customer=a, actor=actor)

    response = admin_client.get(url("campaign_changelist"))

    assert response.context["cl"].result_list[0].enrolled_count == 1
    assert "VIP list" in response.content.decode()


def test_campaign_add__active_with_audience__members_enrolled(
    admin_client, static_segment, customer, actor, admin_user
):
    segment_members_add(segment=static_segment, customers=[customer], actor=actor)

    response = admin_client.post(
        url("campaign_add"),
        campaign_form(status="active", segments=[static_segment.pk]),
    )

    assert response.status_code == 302
    campaign = Campaign.objects.get()
    assert campaign.created_by == admin_user
    assert list(campaign.segments.all()) == [static_segment]
    enrollment = Enrollment.objects.get()
    assert (enrollment.customer, enrollment.source) == (customer, "segment")


def test_campaign_add__ends_before_start__error_and_nothing_saved(admin_client):
    response = admin_client.post(
        url("campaign_add"),
        campaign_form(
            starts_at_0="2030-01-02",
            starts_at_1="00:00",
            ends_at_0="2030-01-01",
            ends_at_1="00:00",
        ),
    )

    assert "The end must come after the start." in str(errors(response))
    assert not Campaign.objects.exists()


def test_campaign_change__draft_goes_active__audience_enrolled(
    admin_client, static_segment, customer, actor
):
    segment_members_add(segment=static_segment, customers=[customer], actor=actor)
    campaign = campaign_create(name="Spring", segments=[static_segment], actor=actor)

    response = admin_client.post(
        url("campaign_change", campaign.pk),
        campaign_form(status="active", segments=[static_segment.pk]),
    )

    assert response.status_code == 302
    campaign.refresh_from_db()
    assert campaign.status == "active"
    assert Enrollment.objects.get().customer == customer


def test_campaign_change__segment_dropped__audience_updated(
    admin_client, static_segment, rule_segment, actor
):
    campaign = campaign_create(
        name="Spring", segments=[static_segment, rule_segment], actor=actor
    )

    admin_client.post(
        url("campaign_change", campaign.pk), campaign_form(segments=[rule_segment.pk])
    )

    assert list(campaign.segments.all()) == [rule_segment]


def test_campaign_delete__with_enrollments__deleted_segments_kept(
    admin_client, static_segment, actor
):
    campaign = add_live_campaign(actor, 1)
    page = admin_client.get(url("campaign_delete", campaign.pk))
    assert "Enrollments: 2" in page.content.decode()

    response = admin_client.post(url("campaign_delete", campaign.pk), {"post": "yes"})

    assert response.status_code == 302
    assert not Campaign.objects.exists()
    assert not Enrollment.objects.exists()
    assert Segment.objects.count() == 2


# Enrollments


def test_enrollment_add__live_campaign__enrolled_by_admin(admin_client, customer):
    campaign = CampaignFactory()

    response = admin_client.post(
        url("enrollment_add"), {"campaign": campaign.pk, "customer": customer.pk}
    )

    assert response.status_code == 302
    enrollment = Enrollment.objects.get()
    assert (enrollment.status, enrollment.source) == (Status.ACTIVE, "admin")


def test_enrollment_add__draft_campaign__error_and_nothing_written(
    admin_client, customer
):
    campaign = CampaignFactory(name="Later", status="draft")

    response = admin_client.post(
        url("enrollment_add"), {"campaign": campaign.pk, "customer": customer.pk}
    )

    assert errors(response)["__all__"] == [
        'Campaign "Later" is not active; only active campaigns enroll.'
    ]
    assert not Enrollment.objects.exists()


def test_enrollment_add__already_active__error(admin_client, customer, actor):
    campaign = CampaignFactory(name="Spring")
    enrollment_add(campaign=campaign, customer=customer, actor=actor)

    response = admin_client.post(
        url("enrollment_add"), {"campaign": campaign.pk, "customer": customer.pk}
    )

    assert errors(response)["__all__"] == [
        f'{customer} is already enrolled in "Spring".'
    ]


def test_enrollment_add__removed_customer__enrolled_again(
    admin_client, customer, actor
):
    campaign = CampaignFactory()
    enrollment_add(campaign=campaign, customer=customer, actor=actor)
    enrollment_remove(campaign=campaign, customer=customer, actor=actor)

    admin_client.post(
        url("enrollment_add"), {"campaign": campaign.pk, "customer": customer.pk}
    )

    enrollment = Enrollment.objects.get()
    assert (enrollment.status, enrollment.removed_by) == (Status.ACTIVE, "")


def test_enrollment_action_remove__active__removed_by_admin(
    admin_client, customer, actor
):
    campaign = CampaignFactory()
    kept = enrollment_add(campaign=campaign, customer=CustomerFactory(), actor=actor)
    removed = enrollment_add(campaign=campaign, customer=customer, actor=actor)

    response = act(admin_client, "enrollment", "remove", removed.enrollment)

    removed.enrollment.refresh_from_db()
    kept.enrollment.refresh_from_db()
    assert removed.enrollment.status == Status.REMOVED
    assert removed.enrollment.removed_by == "admin: alice"
    assert kept.enrollment.status == Status.ACTIVE
    assert messages(response) == ["Removed 1 of 1 selected from the campaign."]


def test_enrollment_action_reenroll__removed__active_again(
    admin_client, customer, actor
):
    campaign = CampaignFactory()
    enrollment_add(campaign=campaign, customer=customer, actor=actor)
    removal = enrollment_remove(campaign=campaign, customer=customer, actor=actor)
    enrollment = removal.enrollment

    act(admin_client, "enrollment", "reenroll", enrollment)

    enrollment.refresh_from_db()
    assert (enrollment.status, enrollment.source) == (Status.ACTIVE, "admin")


def test_enrollment_action_reenroll__campaign_paused__error_and_still_removed(
    admin_client, customer, actor
):
    campaign = CampaignFactory(name="Spring")
    enrollment_add(campaign=campaign, customer=customer, actor=actor)
    removal = enrollment_remove(campaign=campaign, customer=customer, actor=actor)
    enrollment = removal.enrollment
    campaign_update(campaign=campaign, status="paused", actor=actor)

    response = act(admin_client, "enrollment", "reenroll", enrollment)

    assert messages(response) == [
        'Campaign "Spring" is not active; only active campaigns enroll.'
    ]
    enrollment.refresh_from_db()
    assert enrollment.status == Status.REMOVED


def test_enrollment_changelist__status_filter__only_that_status(
    admin_client, customer, actor
):
    campaign = CampaignFactory()
    active = enrollment_add(campaign=campaign, customer=customer, actor=actor)
    other = CustomerFactory()
    enrollment_add(campaign=campaign, customer=other, actor=actor)
    enrollment_remove(campaign=campaign, customer=other, actor=actor)

    response = admin_client.get(
        url("enrollment_changelist"), {"status__exact": "active"}
    )

    assert list(response.context["cl"].result_list) == [active.enrollment]


def test_enrollment_admin__any_enrollment__read_only_and_not_deletable(
    admin_client, customer, actor
):
    enrollment = enrollment_add(
        campaign=CampaignFactory(), customer=customer, actor=actor
    ).enrollment

    page = admin_client.get(url("enrollment_change", enrollment.pk))

    assert page.context["has_change_permission"] is False
    assert admin_client.get(url("enrollment_delete", enrollment.pk)).status_code == 403
