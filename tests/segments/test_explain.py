"""Why a customer is or is not in a segment (membership_explain)."""

from datetime import UTC, datetime

import pytest

from segments.models import Segment
from segments.selectors import membership_explain
from segments.services import segment_create, segment_test_user_add
from tests.factories import CustomerFactory, EventFactory

pytestmark = pytest.mark.django_db

GUIDE = {
    "match": "all",
    "conditions": [
        {"field": "created_at", "operator": "after", "value": "2025-01-01"},
        {"event": "purchase", "operator": "at_least", "value": 2},
    ],
    "rules": [
        {
            "match": "any",
            "conditions": [
                {"field": "attributes.channel", "operator": "equals", "value": "x"},
                {"field": "attributes.spend", "operator": "gt", "value": 50},
            ],
        }
    ],
}


def rows(node, depth=0):
    yield depth, node.matched, node.value
    for child in node.children:
        yield from rows(child, depth + 1)


def test_membership_explain__member_by_rules__each_condition_and_its_value(
    actor, django_capture_on_commit_callbacks
):
    customer = CustomerFactory(
        created_at=datetime(2025, 3, 1, tzinfo=UTC),
        attributes={"channel": "Facebook", "spend": 80},
    )
    EventFactory.create_batch(2, customer=customer, name="purchase")
    with django_capture_on_commit_callbacks(execute=True):  # the computation
        segment = segment_create(
            name="G", type=Segment.Type.RULE, rules=GUIDE, actor=actor
        )

    why = membership_explain(segment=segment, customer=customer)

    assert (why.member, why.rules_match, why.source) == (True, True, "rule")
    assert list(rows(why.tree)) == [
        (0, True, ""),
        (1, True, "2025-03-01T00:00:00+00:00"),
        (1, True, "2 times"),
        (1, True, ""),
        (2, False, '"Facebook"'),
        (2, True, "80"),
    ]
    assert why.entry.action == "entered"


def test_membership_explain__non_member__the_condition_that_failed(actor):
    customer = CustomerFactory(created_at=datetime(2024, 3, 1, tzinfo=UTC))
    segment = segment_create(name="G", type=Segment.Type.RULE, rules=GUIDE, actor=actor)

    why = membership_explain(segment=segment, customer=customer)

    assert (why.member, why.rules_match, why.entry) == (False, False, None)
    assert [c.matched for c in why.tree.children[:2]] == [False, False]
    assert why.tree.children[1].value == "0 times"


def test_membership_explain__test_user_in_static_segment__flag_no_rules(
    static_segment, customer, actor
):
    segment_test_user_add(segment=static_segment, customer=customer, actor=actor)

    why = membership_explain(segment=static_segment, customer=customer)

    assert (why.member, why.is_test, why.override) == (True, True, "add")
    assert (why.tree, why.rules_match) == (None, None)


def test_membership_explain__event_segment__judged_on_the_latest_trigger(actor):
    customer = CustomerFactory()
    EventFactory(customer=customer, name="Sign Up", properties={"reward": 10})
    segment = segment_create(
        name="Rich sign-ups",
        type=Segment.Type.EVENT,
        trigger_event="Sign Up",
        rules={
            "match": "all",
            "conditions": [{"field": "event.reward", "operator": "gt", "value": 50}],
        },
        actor=actor,
    )

    why = membership_explain(segment=segment, customer=customer)

    assert why.trigger.properties == {"reward": 10}
    assert (why.rules_match, why.tree.children[0].value) == (False, "10")
