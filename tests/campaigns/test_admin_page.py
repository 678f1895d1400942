"""The campaigns list and page: enrolled and removed counts, the audience rule said
on the page, links to add or remove a customer."""

from django.urls import reverse

from campaigns.models import Campaign
from campaigns.services import campaign_create, enrollment_add, enrollment_remove
from tests.factories import CustomerFactory


def test_campaign_list__enrolled_and_removed__counted(alice, actor):
    campaign = campaign_create(
        name="Spring", actor=actor, status=Campaign.Status.ACTIVE
    )
    stays, leaves = CustomerFactory.create_batch(2)
    for customer in (stays, leaves):
        enrollment_add(campaign=campaign, customer=customer, actor=actor)
    enrollment_remove(campaign=campaign, customer=leaves, actor=actor)

    response = alice.get(reverse("admin:campaigns_campaign_changelist"))

    [row] = response.context["cl"].result_list
    assert (row.enrolled_count, row.removed_count) == (1, 1)


def test_campaign_page__audience_rule_and_customer_links__shown(alice, actor):
    campaign = campaign_create(name="Spring", actor=actor)

    response = alice.get(reverse("admin:campaigns_campaign_change", args=[campaign.pk]))

    assert "Leaving a segment does not end an enrollment" in response.text
    add = reverse("admin:campaigns_enrollment_add") + f"?campaign={campaign.pk}"
    assert add in response.text
