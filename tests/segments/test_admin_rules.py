"""The admin's rule-engine pages: computation state, recompute, preview."""

import html
import json

from django.urls import reverse
from django.utils import timezone

from segments.models import Membership, Segment
from segments.services import segment_create
from tests.admin_support import messages, post_action
from tests.factories import CustomerFactory

State = Segment.ComputeState
BEHAVIOUR = {
    "conditions": [
        {"event": "purchase", "operator": "at_least", "value": 2, "within_days": 30}
    ]
}


def preview(client, **body):
    return client.post(
        reverse("admin:segments_segment_preview"),
        json.dumps(body),
        content_type="application/json",
    )


def test_preview__rules_being_edited__counts_and_sample(admin_client):
    CustomerFactory(external_id="fb", email="fb@example.com")
    CustomerFactory(external_id="tv", attributes={"channel": "TV"})
    rules = {
        "match": "any",
        "conditions": [
            {"field": "attributes.channel", "operator": "equals", "value": "facebook"},
            {"field": "attributes.channel", "operator": "equals", "value": "radio"},
        ],
    }

    response = preview(admin_client, rules=rules, type="rule")

    assert response.status_code == 200
    data = response.json()
    assert data["count"] == 1
    assert [c["id"] for c in data["sample"]] == ["fb"]
    assert [c["count"] for c in data["conditions"]] == [1, 0]


def test_preview__bad_rules__errors_with_their_place(admin_client):
    rules = {
        "conditions": [
            {"field": "attributes.n", "operator": "between", "value": [5, 1]}
        ]
    }

    response = preview(admin_client, rules=rules, type="rule")

    assert response.status_code == 400
    assert response.json() == {
        "errors": ["conditions[0].value: the low bound is above the high bound"]
    }


def test_preview__not_json__400(admin_client):
    response = admin_client.post(
        reverse("admin:segments_segment_preview"), "{", content_type="application/json"
    )

    assert response.status_code == 400


def test_change_page__behaviour_rules__tree_and_computation_shown(admin_client, actor):
    segment = segment_create(name="Buyers", type="rule", rules=BEHAVIOUR, actor=actor)
    Segment.objects.filter(pk=segment.pk).update(
        compute_state=State.FAILED,
        compute_error="OperationalError: locked",
        compute_attempts=2,
        computed_at=timezone.now(),
    )

    response = admin_client.get(
        reverse("admin:segments_segment_change", args=[segment.pk])
    )

    page = html.unescape(response.content.decode())
    assert 'performed "purchase" at least 2 times in the last 30 days' in page
    assert "Failed" in page and "OperationalError: locked" in page
    # One preview: the builder's live count, no separate button
    assert 'id="rb-preview-count"' in page
    assert "Preview matching customers" not in page


def test_recompute_action__rule_segments__members_computed(
    admin_client, rule_segment, static_segment, django_capture_on_commit_callbacks
):
    CustomerFactory(external_id="fb")

    with django_capture_on_commit_callbacks(execute=True):
        response = post_action(
            admin_client,
            reverse("admin:segments_segment_changelist"),
            "recompute",
            [rule_segment, static_segment],
        )

    assert messages(response) == ["Recomputing 1 rule segment(s) in the background."]
    rule_segment.refresh_from_db()
    assert rule_segment.compute_state == State.IDLE
    assert Membership.objects.filter(segment=rule_segment).count() == 1
