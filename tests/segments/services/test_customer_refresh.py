"""A customer's own refresh looks at the segments their change can affect, and
recomputes only those where their rows may change: the Python evaluator says which
(its answers equal the SQL compiler's), so a new customer does not cost one
recompute per rule segment."""

from django.db import connection
from django.test.utils import CaptureQueriesContext

from segments.models import Membership, Segment
from segments.services import (
    Actor,
    customer_upsert,
    segment_create,
    segment_override_set,
)
from segments.services.compute import segment_recompute
from tests.factories import CustomerFactory, EventFactory

SYSTEM = Actor.system("tests")


def rule_segment(name, *conditions, match="all"):
    return segment_create(
        name=name,
        type=Segment.Type.RULE,
        rules={"match": match, "conditions": list(conditions)},
        actor=SYSTEM,
    )


def field(name, operator, value=None):
    return {"field": name, "operator": operator, "value": value}


def segments_of(external_id):
    return set(
        Membership.objects.filter(customer__external_id=external_id)
        .members()
        .values_list("segment__name", flat=True)
    )


def test_new_customer__many_rule_segments__enters_exactly_those_matching(db):
    # Given rule segments of every kind, some matching the coming customer
    rule_segment("facebook", field("attributes.channel", "equals", "Facebook"))
    rule_segment("google", field("attributes.channel", "equals", "Google"))
    rule_segment("big spender", field("attributes.spend", "gt", 100))
    rule_segment("never bought", {"event": "Purchase", "operator": "not_performed"})
    rule_segment(
        "bought twice", {"event": "Purchase", "operator": "at_least", "value": 2}
    )
    rule_segment(
        "facebook or rich",
        field("attributes.channel", "equals", "Facebook"),
        field("attributes.spend", "gt", 1000),
        match="any",
    )
    rule_segment("has an email", field("email", "is_set"))

    # When a new customer arrives with their attributes
    customer_upsert(
        external_id="new-1",
        email="new@example.com",
        attributes={"channel": "Facebook", "spend": 50},
        actor=SYSTEM,
    )

    # Then they are in exactly the segments a full recompute would put them in
    expected = {"facebook", "never bought", "facebook or rich", "has an email"}
    assert segments_of("new-1") == expected
    for segment in Segment.objects.filter(type=Segment.Type.RULE):
        assert not segment_recompute(segment=segment).changed, segment.name


def test_customer_change__blocked_row__kept_out_and_not_lost(db):
    # Given a customer blocked from a segment they would match, among many
    segments = [
        rule_segment(f"s{i}", field("attributes.plan", "equals", "pro"))
        for i in range(5)
    ]
    customer = CustomerFactory(external_id="c-1", attributes={"plan": "free"})
    segment_override_set(
        segment=segments[0], customer=customer, user_status="block", actor=SYSTEM
    )

    # When their plan changes so that every segment matches
    customer_upsert(external_id="c-1", attributes={"plan": "pro"}, actor=SYSTEM)

    # Then they enter all but the one they are blocked from
    assert segments_of("c-1") == {"s1", "s2", "s3", "s4"}


def test_customer_change__leaves_segments_no_longer_matching(db):
    segments = [
        rule_segment(f"s{i}", field("attributes.plan", "equals", "pro"))
        for i in range(5)
    ]
    customer_upsert(external_id="c-2", attributes={"plan": "pro"}, actor=SYSTEM)
    assert segments_of("c-2") == {s.name for s in segments}

    customer_upsert(external_id="c-2", attributes={"plan": "free"}, actor=SYSTEM)

    assert segments_of("c-2") == set()


def queries_for_new_customer(external_id):
    with CaptureQueriesContext(connection) as queries:
        customer_upsert(
            external_id=external_id, attributes={"channel": "Email"}, actor=SYSTEM
        )
    return len(queries)


def test_new_customer__segments_they_do_not_match__cost_nothing_more(db):
    # Given 5 segments the new customers do not match
    for i in range(5):
        rule_segment(f"a{i}", field("attributes.channel", "equals", f"c{i}"))
    EventFactory(customer=CustomerFactory(), name="Purchase")
    few = queries_for_new_customer("n-1")

    # When 50 more such segments exist
    for i in range(50):
        rule_segment(f"b{i}", field("attributes.channel", "equals", f"d{i}"))
    many = queries_for_new_customer("n-2")

    # Then a new customer costs the same number of queries
    assert many == few
    assert segments_of("n-2") == set()
