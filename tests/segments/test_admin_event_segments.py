"""Event-triggered segments in the admin: backfill from the segment page, and
exit_after_days in the segment form (event segments only)."""

import json
from datetime import timedelta

import pytest
from django.contrib.auth.models import Group, Permission
from django.urls import reverse
from django.utils import timezone

from segments.models import Membership, MembershipChange, Segment
from segments.services import segment_create, segment_override_set
from tests.admin_support import errors, messages
from tests.factories import CustomerFactory, EventFactory, UserFactory

BIG_REWARD = {
    "match": "all",
    "conditions": [{"field": "event.reward", "operator": "gt", "value": 50}],
}


@pytest.fixture
def signups(actor):
    return segment_create(
        name="Big sign-ups",
        type=Segment.Type.EVENT,
        trigger_event="Sign Up",
        rules=BIG_REWARD,
        actor=actor,
    )


def signed_up(external_id, reward, days_ago=0):
    customer = CustomerFactory(external_id=external_id)
    EventFactory(
        customer=customer,
        name="Sign Up",
        properties={"reward": reward},
        timestamp=timezone.now() - timedelta(days=days_ago),
    )
    return customer


def page_url(segment):
    return reverse("admin:segments_segment_change", args=[segment.pk])


def backfill_url(segment):
    return reverse("admin:segments_segment_backfill", args=[segment.pk])


def test_segment_page__event_segment__says_what_the_preview_counts(alice, signups):
    response = alice.get(page_url(signups))

    assert 'counts past triggers: customers who did\n      "Sign Up"' in response.text
    assert f'action="{backfill_url(signups)}"' in response.text


def test_segment_page__rule_segment__no_backfill(alice, rule_segment):
    response = alice.get(page_url(rule_segment))

    assert response.context["backfill_url"] is None
    assert "Backfill" not in response.text


def test_backfill__past_triggers__matching_enter_with_history_then_back(
    alice, signups, actor
):
    # Given two big sign-ups (one blocked), a small one and an old big one
    rich, blocked = signed_up("rich", 80), signed_up("blocked", 90)
    signed_up("poor", 10)
    signed_up("old", 99, days_ago=40)
    segment_override_set(
        segment=signups, customer=blocked, user_status="block", actor=actor
    )

    # When alice backfills the last 30 days
    response = alice.post(backfill_url(signups), {"days": "30"})

    # Then only the big, recent, unblocked sign-up entered, with its history row
    assert response.url == page_url(signups)
    members = Membership.objects.filter(segment=signups).exclude(override="block")
    assert [m.customer for m in members] == [rich]
    change = MembershipChange.objects.get(segment=signups, customer=rich)
    assert (change.action, change.actor_label) == ("entered", "admin: alice")
    assert change.description == 'Backfill: performed "Sign Up" in the last 30 days'
    assert messages(alice.get(response.url)) == [
        'Backfill: 1 customer entered (2 did "Sign Up" and match now; '
        "0 already members; 1 blocked, left out)."
    ]


def test_backfill__no_days__every_past_trigger(alice, signups):
    signed_up("rich", 80)
    signed_up("old", 99, days_ago=400)

    alice.post(backfill_url(signups), {"days": ""})

    assert Membership.objects.filter(segment=signups).count() == 2


@pytest.mark.parametrize("days", ["0", "-3", "soon"])
def test_backfill__bad_days__error_and_nothing_written(alice, signups, days):
    signed_up("rich", 80)

    response = alice.post(backfill_url(signups), {"days": days}, follow=True)

    assert messages(response)[0].startswith("Days: ")
    assert not Membership.objects.exists()
    assert not MembershipChange.objects.exists()


def test_backfill__rule_segment__refused_with_reason(alice, rule_segment):
    response = alice.post(backfill_url(rule_segment), {}, follow=True)

    assert "Only event-triggered segments backfill" in messages(response)[0]


def test_backfill__get__405(alice, signups):
    assert alice.get(backfill_url(signups)).status_code == 405


# exit_after_days in the segment form


def event_form(**changes):
    data = {
        "name": "Sign-ups",
        "type": "event",
        "trigger_event": "Sign Up",
        "description": "",
        "exit_after_days": "",
    }
    return {**data, **changes}


def test_segment_add__event_with_exit_after_days__saved(alice):
    response = alice.post(
        reverse("admin:segments_segment_add"), event_form(exit_after_days="14")
    )

    assert response.status_code == 302
    assert Segment.objects.get(name="Sign-ups").exit_after_days == 14


@pytest.mark.parametrize("days", ["0", "-1", "1.5", "abc", "36501"])
def test_segment_add__bad_exit_after_days__error_on_it_nothing_saved(alice, days):
    response = alice.post(
        reverse("admin:segments_segment_add"), event_form(exit_after_days=days)
    )

    assert list(errors(response)) == ["exit_after_days"]
    assert not Segment.objects.exists()


def test_segment_add__rule_type_with_hidden_exit_after_days__ignored(alice):
    response = alice.post(
        reverse("admin:segments_segment_add"),
        event_form(type="static", trigger_event="", exit_after_days="14"),
    )

    assert response.status_code == 302
    assert Segment.objects.get(name="Sign-ups").exit_after_days is None


def test_segment_change__event_segment__exit_after_days_set_then_emptied(
    alice, signups
):
    form = {"name": signups.name, "trigger_event": "Sign Up", "description": ""}
    form["rules"] = json.dumps(BIG_REWARD)

    alice.post(page_url(signups), {**form, "exit_after_days": "7"})
    signups.refresh_from_db()
    assert signups.exit_after_days == 7

    alice.post(page_url(signups), {**form, "exit_after_days": ""})
    signups.refresh_from_db()
    assert signups.exit_after_days is None


def test_segment_change_page__exit_after_days__only_for_event_segments(
    alice, signups, rule_segment
):
    field = 'name="exit_after_days"'
    assert field in alice.get(page_url(signups)).text
    assert field not in alice.get(page_url(rule_segment)).text


def test_backfill__user_who_cannot_add_members__403_nothing_written(client, signups):
    # Given a staff user who may only look at segments
    viewer = UserFactory(username="vic", is_superuser=False)
    viewer.user_permissions.add(Permission.objects.get(codename="view_segment"))
    client.force_login(viewer)
    signed_up("rich", 80)

    response = client.post(backfill_url(signups), {"days": "30"})

    assert response.status_code == 403
    assert not Membership.objects.exists()


def test_backfill__marketer__allowed(client, signups):
    marketer = UserFactory(username="mia", is_superuser=False)
    marketer.groups.add(Group.objects.get(name="Marketers"))
    client.force_login(marketer)
    signed_up("rich", 80)

    response = client.post(backfill_url(signups), {})

    assert response.url == page_url(signups)
    assert Membership.objects.filter(segment=signups).count() == 1


def test_segment_change_page__static_segment__no_rules_trigger_or_expiry(
    alice, actor, rule_segment
):
    static = segment_create(name="VIP", type=Segment.Type.STATIC, actor=actor)
    page = alice.get(page_url(static)).text
    for field in ("trigger_event", "exit_after_days", "rules"):
        assert f'name="{field}"' not in page
    assert 'name="trigger_event"' not in alice.get(page_url(rule_segment)).text

    # The form still saves what it shows.
    response = alice.post(page_url(static), {"name": "VIP customers"})
    assert response.status_code == 302
    static.refresh_from_db()
    assert static.name == "VIP customers"
