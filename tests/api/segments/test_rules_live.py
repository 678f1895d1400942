"""Rule and event-triggered segments follow what integrations send, end to end."""

from campaigns.models import Enrollment
from campaigns.services import campaign_create
from segments.models import Segment
from segments.services import Actor, segment_create

RULES = {
    "conditions": [
        {"field": "attributes.plan", "operator": "equals", "value": "pro"},
        {"field": "attributes.seats", "operator": "gte", "value": 10},
    ]
}


def segment_names(api, customer_id):
    body = api.get(f"/api/v1/customers/{customer_id}").json()
    return sorted(s["name"] for s in body["segments"])


def test_customer_upsert__attributes_match__enters_segment_and_campaign(api, actor):
    # Given a rule segment that is the audience of a live campaign
    segment = segment_create(
        name="Big pro teams", type="rule", rules=RULES, actor=actor
    )
    campaign = campaign_create(
        name="Onboarding", status="active", segments=[segment], actor=actor
    )
    customer = {"id": "u1", "attributes": {"plan": "pro", "seats": 4}}
    assert api.post("/api/v1/customers", customer, format="json").status_code == 201
    assert segment_names(api, "u1") == []

    # When the integration sends a change that makes the rules match
    update = {"id": "u1", "attributes": {"seats": 12}}
    assert api.post("/api/v1/customers", update, format="json").status_code == 200

    # Then the customer is a member and enrolled, and leaves when it stops matching
    assert segment_names(api, "u1") == ["Big pro teams"]
    status = api.get(f"/api/v1/campaigns/{campaign.pk}/users/u1").json()
    assert status["status"] == "active"
    assert Enrollment.objects.get().source == "segment"
    downgrade = {"id": "u1", "attributes": {"plan": "free"}}
    api.post("/api/v1/customers", downgrade, format="json")
    assert segment_names(api, "u1") == []


def test_event__trigger_segment__customer_enters(api):
    segment_create(
        name="Big spenders",
        type=Segment.Type.EVENT,
        trigger_event="purchase",
        rules={
            "conditions": [{"field": "event.amount", "operator": "gt", "value": 50}]
        },
        actor=Actor.system("tests"),
    )
    api.post("/api/v1/customers", {"id": "u2"}, format="json")

    small = {"user_id": "u2", "name": "purchase", "properties": {"amount": 5}}
    big = {"user_id": "u2", "name": "purchase", "properties": {"amount": 75}}
    assert api.post("/api/v1/events", small, format="json").status_code == 201
    assert segment_names(api, "u2") == []
    assert api.post("/api/v1/events", big, format="json").status_code == 201
    assert segment_names(api, "u2") == ["Big spenders"]


def test_rules_patch__recomputed_in_background__state_shown(
    api, actor, django_capture_on_commit_callbacks
):
    # Given a rule segment and a customer its new rules will match
    segment = segment_create(name="Pros", type="rule", rules=RULES, actor=actor)
    api.post("/api/v1/customers", {"id": "u3", "attributes": {"plan": "free"}})
    url = f"/api/v1/segments/{segment.pk}"
    new_rules = {
        "conditions": [
            {"field": "attributes.plan", "operator": "equals", "value": "free"}
        ]
    }

    # When the rules change, the answer says a computation is queued
    with django_capture_on_commit_callbacks(execute=True):
        response = api.patch(url, {"rules": new_rules}, format="json")
        assert response.json()["compute_state"] == "queued"

    # Then, once it has run, the segment is up to date with its new member
    body = api.get(url).json()
    assert (body["compute_state"], body["compute_error"]) == ("idle", "")
    assert body["computed_at"] is not None
    assert segment_names(api, "u3") == ["Pros"]
