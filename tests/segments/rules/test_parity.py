"""Property: the Python evaluator and the SQL compiler select the same customers.

Hypothesis draws condition trees (nested groups, every operator, behaviours with
`where`, segment tests, trigger properties) and a few customers (attributes, dates,
events, memberships), saves the customers, and compares the ids SQL selects with
the ids whose facts Python matches. Each example's rows are rolled back.
"""

from datetime import timedelta
from typing import Any

import pytest
from django.db import transaction
from hypothesis import HealthCheck, event, example, given, note, settings, target
from hypothesis import strategies as hypothesis_st

from segments.models import Customer, Event, Membership
from segments.rules import compile_q, matches, parse_rule, plan
from segments.selectors import customer_facts, rule_sources
from tests.factories import SegmentFactory

from . import strategies
from .strategies import NOW

pytestmark = pytest.mark.django_db

PARITY = settings(
    # Deterministic in CI; a failure is reproduced by the same run.
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@pytest.fixture
def segment_ids(db) -> dict[int, int]:
    """Placeholder id in generated rules -> a real segment id (3: none such)."""
    first, second = SegmentFactory(), SegmentFactory()
    return {1: first.pk, 2: second.pk, 3: second.pk + 1000}


def save_customers(customers: list[dict[str, Any]], segment_ids: dict[int, int]):
    emails: set[str] = set()
    rows = []
    for i, data in enumerate(customers):
        # Emails are unique when present: a repeat is left empty.
        email = data["email"] if data["email"] not in emails else ""
        emails.add(email)
        rows.append(
            Customer(
                external_id=f"c{i}",
                email=email,
                first_name=data["first_name"],
                attributes=data["attributes"],
                created_at=data["created_at"],
                last_seen_at=data["last_seen_at"],
            )
        )
    saved = Customer.objects.bulk_create(rows)
    Event.objects.bulk_create(
        Event(customer=customer, name=name, timestamp=at, properties=props)
        for customer, data in zip(saved, customers, strict=True)
        for name, at, props in data["events"]
    )
    Membership.objects.bulk_create(
        Membership(
            segment_id=segment_ids[slot],
            customer=customer,
            source="admin",
            override=override,
        )
        for customer, data in zip(saved, customers, strict=True)
        for slot, override in data["segments"].items()
    )


def both_selections(rule: dict, trigger: dict | None) -> tuple[set[int], set[int]]:
    """(ids SQL selects, ids Python matches) among the saved customers."""
    node = plan(parse_rule(rule, allow_event_fields=True), NOW)
    note(f"plan: {node}")
    found = Customer.objects.filter(compile_q(node, rule_sources(), trigger=trigger))
    python = {
        customer.pk
        for customer in Customer.objects.all()
        if matches(node, customer_facts(customer=customer, trigger=trigger))
    }
    return set(found.values_list("pk", flat=True)), python


def assert_parity(rule, customers, trigger, segment_ids):
    rule = strategies.with_segment_ids(rule, segment_ids)
    with transaction.atomic():
        save_customers(customers, segment_ids)
        sql, python = both_selections(rule, trigger)
        total = Customer.objects.count()
        transaction.set_rollback(True)
    # Steer towards trees that split the customers: those tell evaluators apart.
    target(float(min(len(python), total - len(python))), label="split")
    event(
        "matched "
        + ("none" if not python else "all" if total == len(python) else "some")
    )
    assert sql == python


customer = strategies.blank_customer


def single(condition: dict) -> dict:
    return {"match": "all", "conditions": [condition], "rules": []}


@settings(PARITY, max_examples=300)
@given(
    rule=strategies.rules,
    customers=strategies.customer_lists,
    trigger=strategies.triggers,
)
@example(
    rule=single({"segment": 1, "operator": "not_in"}),
    customers=[customer(segments={1: "none"}), customer(segments={1: "block"})],
    trigger=None,
)
def test_evaluators__random_trees_and_customers__select_the_same_customers(
    rule, customers, trigger, segment_ids
):
    assert_parity(rule, customers, trigger, segment_ids)


@settings(PARITY, max_examples=300)
@given(case=strategies.attribute_cases())
# Disagreements found before: empty text is not "set" in JSON; a day followed by
# a newline names no day.
@example(
    case=(
        {"field": "attributes.v", "operator": "is_set"},
        [customer(attributes={"v": ""}), customer(attributes={"v": 0})],
    )
)
@example(
    case=(
        {"field": "attributes.v", "operator": "on", "value": "2025-01-31"},
        [
            customer(attributes={"v": "2025-01-31\n"}),
            customer(attributes={"v": "2025-01-31T08:00"}),
        ],
    )
)
def test_evaluators__one_attribute_test_near_its_value__select_the_same_customers(
    case, segment_ids
):
    # One test, on customers whose value is often the test's own or a near miss.
    condition, customers = case
    assert_parity(single(condition), customers, None, segment_ids)


@settings(PARITY, max_examples=150)
@given(
    condition=strategies.field_conditions(),
    customers=hypothesis_st.lists(strategies.customers(), min_size=3, max_size=6),
    trigger=strategies.triggers,
)
@example(
    condition={"field": "created_at", "operator": "within_last", "value": "7d"},
    customers=[
        customer(created_at=NOW - timedelta(days=7)),
        customer(created_at=NOW - timedelta(days=7, microseconds=1)),
        customer(created_at=NOW + timedelta(microseconds=1)),
    ],
    trigger=None,
)
def test_evaluators__one_field_test_many_customers__select_the_same_customers(
    condition, customers, trigger, segment_ids
):
    # Built-in fields, attributes and trigger properties, each on several customers.
    assert_parity(single(condition), customers, trigger, segment_ids)


@settings(PARITY, max_examples=150)
@given(
    behaviour=strategies.behaviours(),
    customers=hypothesis_st.lists(strategies.customers(), min_size=3, max_size=6),
)
@example(
    behaviour={"event": "login", "operator": "at_least", "value": 1, "within_days": 7},
    customers=[
        customer(events=[("login", NOW - timedelta(days=7), {})]),
        customer(events=[("login", NOW - timedelta(days=7, microseconds=1), {})]),
    ],
)
def test_evaluators__one_behaviour_many_customers__select_the_same_customers(
    behaviour, customers, segment_ids
):
    # One behaviour on more customers: counts meet more histories.
    assert_parity(single(behaviour), customers, None, segment_ids)


def test_evaluators__every_operator_on_every_data_value__select_the_same_customers(
    segment_ids,
):
    # Given one customer per data value: attributes.v, first name and dates
    values = strategies.EVERY_DATA_VALUE
    texts, instants = strategies.EVERY_TEXT, (*strategies.INSTANTS, None)
    save_customers(
        [
            customer(
                attributes={"v": value} if i else {},
                first_name=texts[i % len(texts)],
                created_at=strategies.INSTANTS[i % len(strategies.INSTANTS)],
                last_seen_at=instants[(i * 7) % len(instants)],
            )
            for i, value in enumerate(values)
        ],
        segment_ids,
    )
    facts = {c.pk: customer_facts(customer=c) for c in Customer.objects.all()}

    # When every operator with every value of its vocabulary is evaluated both ways
    disagreements = []
    conditions = strategies.every_field_condition()
    for condition in conditions:
        node = plan(parse_rule(single(condition)), NOW)
        sql = set(
            Customer.objects.filter(compile_q(node, rule_sources())).values_list(
                "pk", flat=True
            )
        )
        python = {pk for pk, known in facts.items() if matches(node, known)}
        if sql != python:
            disagreements.append((condition, sorted(sql ^ python)))

    # Then they agree on every one
    assert len(conditions) > 500
    assert disagreements == []
