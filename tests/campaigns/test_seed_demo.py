import json
from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone

from campaigns.models import Campaign, Enrollment
from segments.models import Customer, Event, Membership, MembershipChange, Segment

SMALL = "200"


def seed(*args: str) -> str:
    out = StringIO()
    call_command("seed_demo", "--customers", SMALL, *args, stdout=out)
    return out.getvalue()


def members(segment):
    return Membership.objects.members().filter(segment=segment)


def snapshot() -> dict[str, list]:
    """The seeded data without ids and dates, which differ from run to run."""
    events = Event.objects.values_list("customer__external_id", "name", "properties")
    return {
        "customers": sorted(
            Customer.objects.values_list(
                "external_id", "email", "first_name", "last_name", "phone", "attributes"
            ),
            key=lambda row: row[0],
        ),
        "events": sorted(
            (ext, name, json.dumps(props, sort_keys=True))
            for ext, name, props in events
        ),
        "memberships": sorted(
            Membership.objects.values_list(
                "segment__name",
                "customer__external_id",
                "source",
                "override",
                "is_test",
            )
        ),
        "history": sorted(
            MembershipChange.objects.values_list(
                "segment__name", "customer__external_id", "action", "actor_label"
            )
        ),
        "enrollments": sorted(
            Enrollment.objects.values_list("campaign__name", "customer__external_id")
        ),
    }


def test_seed_demo__small_count__customers_with_events_and_varied_attributes(db):
    output = seed()

    # 200 demo customers and the two QA accounts used as test users
    assert Customer.objects.count() == 202
    assert Event.objects.count() > 1000
    assert set(Event.objects.values_list("name", flat=True).distinct()) == {
        "Sign Up",
        "App Opened",
        "Purchase Completed",
        "Reward Granted",
    }
    attributes = list(Customer.objects.values_list("attributes", flat=True))
    assert {a.get("channel") for a in attributes} >= {"Facebook", "Google", "TikTok"}
    assert {a.get("plan") for a in attributes} == {"free", "pro", "enterprise"}
    assert all(a["address"]["city"] for a in attributes if "address" in a)
    assert "Customers: 202" in output
    assert "Done in" in output


def test_seed_demo__small_count__segments_of_every_type_have_members(db):
    seed()

    segments = Segment.objects.all()
    assert {s.type for s in segments if members(s).exists()} == set(Segment.Type)
    assert Segment.objects.get(name="High value customers").rules.count() == 3
    assert members(segments.get(name="Beta testers")).count() > 5
    assert Membership.objects.filter(is_test=True).count() == 4
    assert Membership.objects.filter(override=Membership.Override.BLOCK).count() == 3


def test_seed_demo__event_segment__members_are_big_buyers_entered_by_event(db):
    seed()

    segment = Segment.objects.get(type=Segment.Type.EVENT)
    buyers = Event.objects.filter(
        name="Purchase Completed", properties__amount__gte=50
    ).values("customer_id")
    entered = members(segment).filter(is_test=False)
    assert entered.count() > 10
    assert not entered.exclude(customer_id__in=buyers).exists()
    assert set(entered.values_list("source", flat=True)) == {"event"}
    labels = MembershipChange.objects.filter(segment=segment, is_test=False)
    assert set(labels.values_list("actor_label", flat=True)) == {
        "event: Purchase Completed"
    }


def test_seed_demo__history__spread_over_the_last_90_days(db):
    seed()

    now = timezone.now()
    history = MembershipChange.objects.all()
    days = {at.date() for at in history.values_list("occurred_at", flat=True)}
    assert len(days) > 20
    assert not history.filter(occurred_at__lt=now - timedelta(days=91)).exists()
    assert history.filter(action=MembershipChange.Action.LEFT).exists()
    assert not Membership.objects.filter(
        joined_at__lt=now - timedelta(days=91)
    ).exists()


def test_seed_demo__campaigns__active_one_enrolls_draft_one_waits(db):
    seed()

    active = Campaign.objects.get(status=Campaign.Status.ACTIVE)
    draft = Campaign.objects.get(status=Campaign.Status.DRAFT)
    assert active.is_live()
    assert active.enrollments.count() > 10
    assert not draft.enrollments.exists()
    enrolled = set(active.enrollments.values_list("customer_id", flat=True))
    audience = Membership.objects.members().filter(segment__in=active.segments.all())
    assert enrolled == set(audience.values_list("customer_id", flat=True))


def test_seed_demo__same_seed_twice__same_data(db):
    seed("--seed", "7")
    first = snapshot()

    seed("--seed", "7", "--reset")

    assert snapshot() == first


def test_seed_demo__other_seed__other_data(db):
    seed("--seed", "7")
    first = snapshot()

    seed("--seed", "8", "--reset")

    second = snapshot()
    assert second["customers"] != first["customers"]
    assert second["events"] != first["events"]


def test_seed_demo__if_empty_with_customers__nothing_seeded(customer):
    output = seed("--if-empty")

    assert "nothing seeded" in output
    assert list(Customer.objects.all()) == [customer]
    assert not Segment.objects.exists()
    assert not Campaign.objects.exists()


def test_seed_demo__if_empty_on_empty_database__seeds(db):
    seed("--if-empty")

    assert Customer.objects.count() == 202


def test_seed_demo__rerun_without_reset__refused_with_hint(db):
    seed()
    counts = (Customer.objects.count(), MembershipChange.objects.count())

    with pytest.raises(CommandError, match="--reset"):
        seed()

    assert (Customer.objects.count(), MembershipChange.objects.count()) == counts


def test_seed_demo__rerun_with_reset__demo_data_replaced_other_data_kept(
    static_segment, customer
):
    # Given a seeded database that also holds a customer and a segment of its own
    seed()
    counts = {
        model: model.objects.count()
        for model in (Customer, Event, Segment, Membership, Campaign, Enrollment)
    }

    # When seeding again with --reset
    output = seed("--reset")

    # Then the demo data is replaced, not doubled, and the rest is untouched
    assert "Removed the previous demo data" in output
    assert {model: model.objects.count() for model in counts} == counts
    assert Customer.objects.filter(pk=customer.pk).exists()
    assert Segment.objects.filter(pk=static_segment.pk).exists()
