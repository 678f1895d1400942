import pytest
from django.core.exceptions import ValidationError

from segments.models import Segment
from segments.selectors import segment_preview
from tests.factories import CustomerFactory

TREE = {
    "match": "all",
    "conditions": [
        {"field": "attributes.channel", "operator": "equals", "value": "Facebook"},
        {"field": "attributes.spend", "operator": "gt", "value": 50},
    ],
    "rules": [
        {
            "match": "any",
            "conditions": [
                {"field": "attributes.plan", "operator": "equals", "value": "pro"},
                {"event": "purchase", "operator": "at_least", "value": 1},
            ],
        }
    ],
}


def test_preview__unsaved_tree__count_sample_and_each_condition_alone(db):
    # Given customers matching some of the conditions
    CustomerFactory(
        external_id="a", attributes={"channel": "Facebook", "spend": 60, "plan": "pro"}
    )
    b = CustomerFactory(
        external_id="b", attributes={"channel": "facebook", "spend": 99}
    )
    b.events.create(name="purchase")
    CustomerFactory(
        external_id="c", attributes={"channel": "Facebook", "spend": 10, "plan": "pro"}
    )
    CustomerFactory(external_id="d", attributes={"channel": "TV", "spend": "70"})

    preview = segment_preview(rules=TREE)

    assert preview.count == 2
    assert {c.external_id for c in preview.sample} == {"a", "b"}
    assert [(c.label, c.count) for c in preview.conditions] == [
        ('attributes.channel equals "Facebook"', 3),
        ("attributes.spend gt 50", 2),
        ("ANY of a group of 2", 3),
    ]
    assert Segment.objects.count() == 0


def test_preview__sample_size__limits_the_sample(db):
    CustomerFactory.create_batch(5)
    rules = {"conditions": [{"field": "email", "operator": "is_set"}]}

    preview = segment_preview(rules=rules, sample_size=3)

    assert (preview.count, len(preview.sample)) == (5, 3)


def test_preview__bad_tree__field_error_names_the_place(db):
    rules = {
        "conditions": [{"field": "attributes.spend", "operator": "gt", "value": "x"}]
    }

    with pytest.raises(ValidationError) as error:
        segment_preview(rules=rules)

    assert error.value.message_dict["rules"] == [
        'conditions[0].value: expected a number or a date ("2025-01-31", an ISO '
        'date-time, "now" or "-7d")'
    ]
