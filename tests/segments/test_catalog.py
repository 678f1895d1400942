"""What the condition builder offers, read from the data."""

import pytest
from django.urls import reverse

from campaigns.models import Campaign
from campaigns.services import campaign_create
from segments.rules import spec
from segments.selectors import rule_catalog
from tests.factories import CustomerFactory, EventFactory

pytestmark = pytest.mark.django_db


def test_rule_catalog__data__attribute_and_event_keys_with_types():
    CustomerFactory(
        attributes={"plan": "pro", "spend": 12.5, "vip": True, "address": {"city": "X"}}
    )
    buyer = CustomerFactory(attributes={"plan": "free", "renews": "2025-02-01"})
    EventFactory(customer=buyer, name="purchase", properties={"amount": 60, "sku": "a"})

    catalog = rule_catalog()

    assert catalog["attributes"] == [
        {"field": "attributes.address.city", "label": "address.city", "type": "text"},
        {"field": "attributes.plan", "label": "plan", "type": "text"},
        {"field": "attributes.renews", "label": "renews", "type": "date"},
        {"field": "attributes.spend", "label": "spend", "type": "number"},
        {"field": "attributes.vip", "label": "vip", "type": "boolean"},
    ]
    assert catalog["events"] == [
        {
            "name": "purchase",
            "properties": [
                {"field": "event.amount", "label": "amount", "type": "number"},
                {"field": "event.sku", "label": "sku", "type": "text"},
            ],
        }
    ]
    signup = next(f for f in catalog["builtins"] if f["field"] == "created_at")
    assert (signup["label"], signup["type"]) == ("Sign up date", "date")


def test_rule_catalog__operators__each_valid_for_its_type_in_the_parser():
    operators = rule_catalog()["operators"]

    assert set(operators["text"]) <= spec.OPERATORS_BY_FIELD_KIND["text"]
    assert set(operators["date"]) <= spec.OPERATORS_BY_FIELD_KIND["date"]
    for kind in ("number", "boolean", "any"):
        assert set(operators[kind]) <= spec.OPERATORS


def test_rule_catalog__segment_being_edited__not_offered_to_test_itself(
    static_segment, rule_segment
):
    catalog = rule_catalog(exclude_segment=rule_segment)

    assert catalog["segments"] == [{"id": static_segment.pk, "name": "VIP list"}]


def test_segment_page__live_campaign_audience__warns_before_editing_rules(
    client, admin_user, rule_segment, actor
):
    campaign_create(
        name="Spring sale",
        actor=actor,
        status=Campaign.Status.ACTIVE,
        segments=[rule_segment],
    )
    client.force_login(admin_user)

    response = client.get(
        reverse("admin:segments_segment_change", args=[rule_segment.pk])
    )

    assert 'these rules decide who receives\n    "Spring sale"' in response.text
    assert 'id="rule-catalog"' in response.text
