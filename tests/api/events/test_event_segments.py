"""Event-triggered segments over time: expiry after exit_after_days, and backfill
from stored events."""

from datetime import timedelta

from django.utils import timezone

from segments.models import Membership, MembershipChange, Segment
from segments.services import Actor, segment_override_set
from segments.services.event_segments import segments_members_expire
from segments.tasks import expire_segment_members
from tests.api.conftest import assert_error
from tests.factories import CustomerFactory, EventFactory

from .conftest import event

SIGNUP_RULES = {
    "conditions": [{"field": "event.plan", "operator": "equals", "value": "pro"}]
}


def create_event_segment(api, **fields):
    body = {
        "name": "Trial",
        "type": "event",
        "trigger_event": "Sign Up",
        "rules": SIGNUP_RULES,
        **fields,
    }
    response = api.post("/api/v1/segments", body)
    assert response.status_code == 201, response.json()
    return Segment.objects.get(pk=response.json()["id"])


def test_expiry__member_past_exit_after_days__leaves_with_reason(api):
    # Given a segment that keeps members 7 days, one old and one new member
    segment = create_event_segment(api, exit_after_days=7)
    assert api.get(f"/api/v1/segments/{segment.pk}").json()["exit_after_days"] == 7
    api.post("/api/v1/events", event("old", properties={"plan": "pro"}))
    api.post("/api/v1/events", event("new", properties={"plan": "pro"}))
    Membership.objects.filter(customer__external_id="old").update(
        joined_at=timezone.now() - timedelta(days=8)
    )

    # When the periodic job runs
    expire_segment_members()

    # Then only the old member left, and the history says why
    members = Membership.objects.values_list("customer__external_id", flat=True)
    assert list(members) == ["new"]
    change = MembershipChange.objects.get(action="left")
    assert change.customer.external_id == "old"
    assert "more than 7 days ago" in change.description
    assert change.actor_label == "system: expiry"


def test_expiry__pinned_member__stays(api, db):
    segment = create_event_segment(api, exit_after_days=1)
    customer = CustomerFactory()
    segment_override_set(
        segment=segment,
        customer=customer,
        user_status="add",
        actor=Actor.system("tests"),
    )
    Membership.objects.update(joined_at=timezone.now() - timedelta(days=3))

    assert segments_members_expire() == {}
    assert Membership.objects.count() == 1


def test_exit_after_days__rule_segment__400(api, db):
    response = api.post(
        "/api/v1/segments",
        {"name": "Static", "type": "static", "exit_after_days": 3},
    )

    assert_error(response, 400, field="exit_after_days")


def test_backfill__past_trigger_events__preview_count_entered(api, db):
    # Given past sign-ups, two matching the conditions (one of them blocked)
    ada, bo, cy = CustomerFactory(), CustomerFactory(), CustomerFactory()
    EventFactory(customer=ada, name="Sign Up", properties={"plan": "pro"})
    EventFactory(customer=bo, name="Sign Up", properties={"plan": "free"})
    EventFactory(
        customer=cy,
        name="Sign Up",
        properties={"plan": "pro"},
        timestamp=timezone.now() - timedelta(days=40),
    )
    segment = create_event_segment(api)
    preview = api.post(
        "/api/v1/segments/preview",
        {"type": "event", "trigger_event": "Sign Up", "rules": SIGNUP_RULES},
    ).json()
    assert preview["count"] == 2
    assert not Membership.objects.exists()

    # When it is backfilled
    response = api.post(f"/api/v1/segments/{segment.pk}/backfill", {})

    # Then the preview's customers are members
    assert response.status_code == 200, response.json()
    assert response.json() == {
        "candidates": 2,
        "entered": 2,
        "already_members": 0,
        "blocked": 0,
    }
    assert set(Membership.objects.values_list("customer", flat=True)) == {
        ada.pk,
        cy.pk,
    }
    assert "Backfill" in MembershipChange.objects.first().description


def test_backfill__days__older_events_left_out(api, db):
    recent, old = CustomerFactory(), CustomerFactory()
    EventFactory(customer=recent, name="Sign Up", properties={"plan": "pro"})
    EventFactory(
        customer=old,
        name="Sign Up",
        properties={"plan": "pro"},
        timestamp=timezone.now() - timedelta(days=40),
    )
    segment = create_event_segment(api)
    segment_override_set(
        segment=segment, customer=recent, user_status="block", actor=Actor.system("t")
    )

    body = api.post(f"/api/v1/segments/{segment.pk}/backfill", {"days": 30}).json()

    assert (body["candidates"], body["entered"], body["blocked"]) == (1, 0, 1)
    assert not Membership.objects.members().exists()


def test_backfill__days_as_text__400_nothing_entered(api, db):
    EventFactory(name="Sign Up", properties={"plan": "pro"})
    segment = create_event_segment(api)

    response = api.post(f"/api/v1/segments/{segment.pk}/backfill", {"days": "30"})

    assert_error(response, 400, field="days")
    assert not Membership.objects.exists()


def test_backfill__rule_segment__400(api, rule_segment):
    response = api.post(f"/api/v1/segments/{rule_segment.pk}/backfill", {})

    assert "event-triggered" in assert_error(response, 400)


def test_backfill__unknown_segment__404(api, db):
    assert_error(api.post("/api/v1/segments/999/backfill", {}), 404)
