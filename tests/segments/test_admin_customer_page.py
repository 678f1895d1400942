"""The customer page: attributes, segments and how they got in, campaigns, recent
events, the membership timeline; search by exact id or email first."""

from django.urls import reverse

from campaigns.models import Campaign
from campaigns.services import campaign_create
from segments.services import (
    segment_members_add,
    segment_override_set,
    segment_test_user_add,
)
from tests.admin_support import count_queries
from tests.factories import CustomerFactory, EventFactory, SegmentFactory


def page(customer):
    return reverse("admin:segments_customer_change", args=[customer.pk])


def test_customer_page__profile__segments_how_campaigns_events_timeline(
    alice, customer, static_segment, actor
):
    # Given a member of one segment (in a live campaign), a test user of another,
    # blocked from a third, with an event
    campaign_create(
        name="Spring",
        actor=actor,
        status=Campaign.Status.ACTIVE,
        segments=[static_segment],
    )
    segment_members_add(segment=static_segment, customers=[customer], actor=actor)
    testers = SegmentFactory(name="Testers")
    segment_test_user_add(segment=testers, customer=customer, actor=actor)
    blocked = SegmentFactory(name="Blocked here")
    segment_override_set(
        segment=blocked, customer=customer, user_status="block", actor=actor
    )
    EventFactory(customer=customer, name="purchase", properties={"amount": 42})

    response = alice.get(page(customer))

    context = response.context
    assert context["attributes"] == [
        {"key": "channel", "value": "Facebook", "type": "text"},
        {"key": "plan", "value": "free", "type": "text"},
    ]
    how = {
        m.segment.name: (m.source, m.override, m.is_test)
        for m in context["profile"].memberships
    }
    assert how == {
        "Blocked here": ("admin", "block", False),
        "Testers": ("test", "add", True),
        "VIP list": ("admin", "none", False),
    }
    assert [e.campaign.name for e in context["enrollments"]] == ["Spring"]
    assert context["events"][0][1] == '{"amount": 42}'
    assert len(context["profile"].timeline) == 3
    why = reverse("admin:segments_segment_why", args=[static_segment.pk, customer.pk])
    assert why in response.text
    assert "Blocked" in response.text


def test_customer_page__more_segments_and_events__same_queries(alice, customer, actor):
    def add_data(n):
        for segment in SegmentFactory.create_batch(n):
            segment_members_add(segment=segment, customers=[customer], actor=actor)
        EventFactory.create_batch(n, customer=customer)

    add_data(1)
    few = count_queries(alice, page(customer))

    add_data(5)

    assert count_queries(alice, page(customer)) == few


def test_customer_search__exact_email__only_that_customer(alice):
    ada = CustomerFactory(email="ada@example.com")
    CustomerFactory(email="ada@example.com.au")

    response = alice.get(
        reverse("admin:segments_customer_changelist"), {"q": "ADA@example.com"}
    )

    assert list(response.context["cl"].result_list) == [ada]


def test_customer_search__part_of_a_name__broad_search(alice):
    ada = CustomerFactory(first_name="Adaline")
    CustomerFactory(first_name="Bob")

    response = alice.get(reverse("admin:segments_customer_changelist"), {"q": "dali"})

    assert list(response.context["cl"].result_list) == [ada]
