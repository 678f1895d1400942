"""GET /segments/{id}/members/{customer}?explain=true: why, condition by condition."""

import pytest

from segments.models import Segment
from segments.services import segment_create

pytestmark = pytest.mark.django_db

RULES = {
    "match": "any",
    "conditions": [
        {"field": "attributes.channel", "operator": "equals", "value": "Facebook"},
        {"field": "attributes.spend", "operator": "gt", "value": 50},
    ],
}


def url(segment, customer, query=""):
    return f"/api/v1/segments/{segment.pk}/members/{customer.external_id}{query}"


def test_member_detail__explain__conditions_with_values(
    api, customer, actor, django_capture_on_commit_callbacks
):
    # Given a Facebook customer (the factory's channel) and an ANY rule segment
    with django_capture_on_commit_callbacks(execute=True):
        segment = segment_create(
            name="FB or big", type=Segment.Type.RULE, rules=RULES, actor=actor
        )

    body = api.get(url(segment, customer, "?explain=true")).json()

    assert body["member"] is True
    why = body["explanation"]
    assert (why["rules_match"], why["is_test"], why["trigger_event_at"]) == (
        True,
        False,
        None,
    )
    assert [(c["depth"], c["matched"], c["value"]) for c in why["conditions"]] == [
        (0, True, ""),
        (1, True, '"Facebook"'),
        (1, False, "not set"),
    ]
    assert why["entry"]["action"] == "entered"


def test_member_detail__without_explain__no_explanation(api, customer, rule_segment):
    body = api.get(url(rule_segment, customer)).json()

    assert "explanation" not in body


def test_member_detail__explain_not_a_boolean__400(api, customer, rule_segment):
    response = api.get(url(rule_segment, customer, "?explain=maybe"))

    assert response.status_code == 400
    assert "explain" in response.json()["details"]
