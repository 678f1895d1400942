"""The admin's home page (the dashboard) and the segments list's figures."""

from datetime import timedelta

from django.urls import reverse
from django.utils import timezone

from campaigns.models import Campaign
from campaigns.services import campaign_create
from segments.models import Customer, Segment
from segments.selectors import segment_stats
from segments.services import (
    segment_members_add,
    segment_override_set,
    segment_test_user_add,
)
from tests.admin_support import count_queries
from tests.factories import CustomerFactory, EventFactory

SEGMENTS_LIST = reverse("admin:segments_segment_changelist")


def add_members(segment, actor, n):
    customers = CustomerFactory.create_batch(n)
    segment_members_add(segment=segment, customers=customers, actor=actor)
    return customers


def row_of(response, segment):
    return next(s for s in response.context["cl"].result_list if s.pk == segment.pk)


def test_index__data__shows_counts_growth_and_recent_activity(
    alice, static_segment, actor
):
    # Given three members, a live campaign and an event received just now
    add_members(static_segment, actor, 3)
    campaign_create(
        name="Spring", actor=actor, status=Campaign.Status.ACTIVE, segments=[]
    )
    EventFactory(customer=Customer.objects.first())

    response = alice.get(reverse("admin:index"))

    counts = response.context["counts"]
    assert counts == {
        "customers": 3,
        "segments": 1,
        "events_24h": 1,
        "live_campaigns": 1,
    }
    [growth] = response.context["growing"]
    assert (growth.segment, growth.net) == (static_segment, 3)
    assert len(response.context["activity"]) == 3
    assert "Grew most this week" in response.text
    assert "VIP list" in response.text


def test_index__failed_and_stuck_computations__listed(alice, rule_segment, actor):
    State = Segment.ComputeState
    Segment.objects.filter(pk=rule_segment.pk).update(
        compute_state=State.FAILED, compute_error="division by zero"
    )
    stuck = Segment.objects.create(
        name="Stuck",
        type=Segment.Type.RULE,
        compute_state=State.RUNNING,
        compute_started_at=timezone.now() - timedelta(days=1),
    )
    Segment.objects.create(
        name="Busy",
        type=Segment.Type.RULE,
        compute_state=State.RUNNING,
        compute_started_at=timezone.now(),
    )

    response = alice.get(reverse("admin:index"))

    assert response.context["in_trouble"] == [rule_segment, stuck]
    assert "division by zero" in response.text


def test_index__navigation__segments_campaigns_first_auth_last(alice):
    response = alice.get(reverse("admin:index"))

    labels = [app["app_label"] for app in response.context["app_list"]]
    assert labels == ["segments", "campaigns", "webhooks", "auth"]
    models = [m["object_name"] for m in response.context["app_list"][0]["models"]]
    assert models[:2] == ["Segment", "Membership"]


def test_segment_list__test_users_and_blocks__left_out_as_in_stats(
    alice, static_segment, actor
):
    # Given two members, a test user and a blocked customer
    add_members(static_segment, actor, 2)
    segment_test_user_add(
        segment=static_segment, customer=CustomerFactory(), actor=actor
    )
    segment_override_set(
        segment=static_segment,
        customer=CustomerFactory(),
        user_status="block",
        actor=actor,
    )
    campaign_create(name="Spring", actor=actor, segments=[static_segment])

    row = row_of(alice.get(SEGMENTS_LIST), static_segment)

    stats = segment_stats(segment=static_segment)
    assert row.member_count == stats.total == 2
    assert (row.new_week, row.new_month) == (stats.new_this_week, 2)
    assert row.campaign_count == 1


def test_segment_list__filter_by_campaign__only_its_audience(
    alice, static_segment, rule_segment, actor
):
    campaign = campaign_create(name="Spring", actor=actor, segments=[rule_segment])

    response = alice.get(SEGMENTS_LIST, {"campaigns__id__exact": campaign.pk})

    assert list(response.context["cl"].result_list) == [rule_segment]


def test_segment_list__search__finds_by_description(alice, actor, static_segment):
    Segment.objects.filter(pk=static_segment.pk).update(description="spring promo")

    response = alice.get(SEGMENTS_LIST, {"q": "promo"})

    assert list(response.context["cl"].result_list) == [static_segment]


def test_segment_list__1000_members__same_queries_as_10(
    alice, static_segment, rule_segment, actor
):
    add_members(static_segment, actor, 10)
    few = count_queries(alice, SEGMENTS_LIST)

    add_members(static_segment, actor, 990)

    assert count_queries(alice, SEGMENTS_LIST) == few
    assert row_of(alice.get(SEGMENTS_LIST), static_segment).member_count == 1000


def test_index__1000_members__same_queries_as_10(alice, static_segment, actor):
    add_members(static_segment, actor, 10)
    few = count_queries(alice, reverse("admin:index"))

    add_members(static_segment, actor, 990)

    assert count_queries(alice, reverse("admin:index")) == few
