import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from segments.models import Segment
from segments.rules import matches, parse_rule, plan
from segments.selectors import customer_facts, segment_preview
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


EVENT_RULES = {
    "match": "all",
    "conditions": [
        {"field": "event.amount", "operator": "gte", "value": 50},
        {"field": "attributes.country", "operator": "in", "value": ["DE", "FR"]},
    ],
    "rules": [
        {
            "match": "none",
            "conditions": [
                {"event": "refund", "operator": "at_least", "value": 1},
            ],
        }
    ],
}


def test_preview__event_segment__customers_a_past_trigger_would_let_in(db):
    # Given customers with purchases and refunds
    now = timezone.now()
    people = {
        "big-de": ("DE", [("purchase", 80)]),
        "small-de": ("DE", [("purchase", 10)]),
        "big-us": ("US", [("purchase", 90)]),
        "refunded": ("FR", [("purchase", 70), ("refund", 70)]),
        "view-only": ("FR", [("page_view", 99)]),
        "mixed-fr": ("FR", [("purchase", 5), ("purchase", 55)]),
    }
    customers = []
    for external_id, (country, events) in people.items():
        customer = CustomerFactory(
            external_id=external_id, attributes={"country": country}
        )
        for name, amount in events:
            customer.events.create(
                name=name, properties={"amount": amount}, timestamp=now
            )
        customers.append(customer)

    # When the rules are previewed as an event-triggered segment on "purchase"
    preview = segment_preview(
        rules=EVENT_RULES, type="event", trigger_event="purchase", sample_size=10
    )

    # Then it counts who one of their purchases would have let in
    assert {c.external_id for c in preview.sample} == {"big-de", "mixed-fr"}
    assert preview.count == 2
    assert [c.count for c in preview.conditions] == [4, 4, 4]
    # And the Python evaluator, given each past purchase as the trigger, agrees
    node = plan(parse_rule(EVENT_RULES, allow_event_fields=True), now)
    expected = {
        c.external_id
        for c in customers
        for event in c.events.filter(name="purchase")
        if matches(node, customer_facts(customer=c, trigger=event.properties))
    }
    assert expected == {c.external_id for c in preview.sample}


def test_preview__event_segment_without_trigger__field_error(db):
    with pytest.raises(ValidationError) as error:
        segment_preview(rules=EVENT_RULES, type="event")

    assert list(error.value.message_dict) == ["trigger_event"]
