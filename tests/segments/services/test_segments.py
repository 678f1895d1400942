import pytest
from django.core.exceptions import ValidationError

from campaigns.services import campaign_create
from segments.models import Condition, Membership, Segment, SegmentRule
from segments.rules import rule_to_dict
from segments.selectors import segment_rule_spec
from segments.services import (
    segment_create,
    segment_delete,
    segment_members_add,
    segment_update,
)

NESTED = {
    "match": "all",
    "conditions": [
        {"field": "created_at", "operator": "after", "value": "2025-01-01"},
        {"field": "attributes.channel", "operator": "equals", "value": "Facebook"},
    ],
    "rules": [
        {
            "match": "any",
            "conditions": [
                {"field": "attributes.lifetime_value", "operator": "gt", "value": 50},
                {
                    "field": "attributes.address.city",
                    "operator": "in",
                    "value": ["Oslo"],
                },
            ],
            "rules": [
                {
                    "match": "none",
                    "conditions": [
                        {"field": "email", "operator": "is_not_set", "value": None}
                    ],
                    "rules": [],
                }
            ],
        }
    ],
}


def test_segment_create__nested_rules__tree_stored_and_read_back(actor):
    segment = segment_create(
        name="Big spenders", type="rule", rules=NESTED, actor=actor
    )

    assert segment.created_by == actor.user
    assert SegmentRule.objects.filter(segment=segment).count() == 3
    assert Condition.objects.filter(rule__segment=segment).count() == 5
    assert rule_to_dict(segment_rule_spec(segment=segment)) == NESTED


def test_segment_create__event_segment__event_fields_allowed(actor):
    rules = {
        "match": "all",
        "conditions": [{"field": "event.amount", "operator": "gt", "value": 50}],
    }

    segment = segment_create(
        name="Big purchase",
        type="event",
        trigger_event="Purchase Completed",
        rules=rules,
        actor=actor,
    )

    assert segment_rule_spec(segment=segment).conditions[0].field == "event.amount"


@pytest.mark.parametrize(
    ("fields", "error_field", "message"),
    [
        ({"name": "", "type": "static"}, "name", "blank"),
        ({"name": "X", "type": "dynamic"}, "type", "not a valid choice"),
        ({"name": "X", "type": "event"}, "trigger_event", "needs the event"),
        (
            {"name": "X", "type": "static", "trigger_event": "Sign Up"},
            "trigger_event",
            "Only event-triggered",
        ),
        ({"name": "X", "type": "rule"}, "rules", "at least one condition"),
        (
            {"name": "X", "type": "static", "rules": NESTED},
            "rules",
            "Static segments have no rules",
        ),
        (
            {
                "name": "X",
                "type": "rule",
                "rules": {"conditions": [{"field": "event.amount", "operator": "gt"}]},
            },
            "rules",
            "conditions[0].field: event properties can only be used",
        ),
    ],
)
def test_segment_create__bad_input__error_names_field_nothing_saved(
    actor, fields, error_field, message
):
    with pytest.raises(ValidationError) as error:
        segment_create(actor=actor, **fields)

    assert message in " ".join(error.value.message_dict[error_field])
    assert not Segment.objects.exists()
    assert not SegmentRule.objects.exists()


def test_segment_create__name_taken_in_other_case__error_on_name(static_segment, actor):
    with pytest.raises(ValidationError) as error:
        segment_create(name="vip LIST", type="static", actor=actor)

    assert "already exists" in error.value.message_dict["name"][0]


def test_segment_update__rules_replaced__old_tree_gone(rule_segment, actor):
    new_rules = {
        "match": "any",
        "conditions": [
            {"field": "attributes.plan", "operator": "equals", "value": "pro"}
        ],
        "rules": [],
    }

    segment_update(segment=rule_segment, actor=actor, rules=new_rules, name="Pro")

    rule_segment.refresh_from_db()
    assert rule_segment.name == "Pro"
    assert rule_to_dict(segment_rule_spec(segment=rule_segment)) == new_rules
    assert SegmentRule.objects.count() == 1


def test_segment_update__invalid_rules__old_tree_kept(rule_segment, actor):
    before = rule_to_dict(segment_rule_spec(segment=rule_segment))

    with pytest.raises(ValidationError) as error:
        segment_update(
            segment=rule_segment,
            actor=actor,
            rules={
                "match": "all",
                "conditions": [{"field": "email", "operator": "xx"}],
            },
        )

    assert error.value.message_dict["rules"] == [
        "conditions[0].operator: unknown operator 'xx'"
    ]
    assert rule_to_dict(segment_rule_spec(segment=rule_segment)) == before


def test_segment_update__type_change__refused(static_segment, actor):
    with pytest.raises(ValidationError) as error:
        segment_update(segment=static_segment, actor=actor, type="rule")

    assert "cannot change" in error.value.message_dict["type"][0]


def test_segment_update__archive_and_restore__flag_saved(static_segment, actor):
    segment_update(segment=static_segment, actor=actor, archived=True)
    static_segment.refresh_from_db()
    assert static_segment.archived

    segment_update(segment=static_segment, actor=actor, archived=False)
    static_segment.refresh_from_db()
    assert not static_segment.archived


def test_segment_delete__campaign_audience__refused_naming_campaigns(
    static_segment, actor
):
    campaign_create(name="Spring", segments=[static_segment], actor=actor)

    with pytest.raises(ValidationError, match='audience of "Spring"'):
        segment_delete(segment=static_segment, actor=actor)

    assert Segment.objects.filter(pk=static_segment.pk).exists()


def test_segment_delete__with_members__segment_and_members_gone(
    static_segment, actor, customer
):
    segment_members_add(segment=static_segment, customers=[customer], actor=actor)

    segment_delete(segment=static_segment, actor=actor)

    assert not Segment.objects.exists()
    assert not Membership.objects.exists()
