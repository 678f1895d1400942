"""Each operator and type rule, run through both evaluators on the same data.

Every case is checked twice: by the Python evaluator on the customer's facts as
loaded from the database, and by the SQL compiler over the saved rows. Both must
give the expected answer, so a disagreement fails here with the case named.
"""

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from segments.models import Customer, Membership
from segments.rules import compile_q, matches, parse_rule, plan
from segments.selectors import customer_facts, rule_sources
from tests.factories import CustomerFactory, EventFactory, SegmentFactory

pytestmark = pytest.mark.django_db

NOW = datetime(2025, 6, 15, 12, 0, tzinfo=UTC)


def cond(field: str, operator: str, value: Any = None) -> dict[str, Any]:
    data = {"field": field, "operator": operator}
    return data if value is None else {**data, "value": value}


def rule_of(*conditions: dict, match: str = "all", rules: tuple = ()) -> dict:
    return {"match": match, "conditions": list(conditions), "rules": list(rules)}


def evaluate_both(rule: dict, customer: Customer, trigger: dict | None = None):
    """(Python's answer, SQL's answer) for one saved customer."""
    spec = parse_rule(rule, allow_event_fields=trigger is not None)
    node = plan(spec, NOW)
    fresh = Customer.objects.get(pk=customer.pk)
    python = matches(node, customer_facts(customer=fresh, trigger=trigger))
    found = Customer.objects.filter(compile_q(node, rule_sources(), trigger=trigger))
    return python, found.filter(pk=customer.pk).exists()


def assert_both(rule: dict, customer: Customer, expected: bool, trigger=None):
    python, sql = evaluate_both(rule, customer, trigger)
    assert (python, sql) == (expected, expected), f"python={python} sql={sql}"


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


# (condition, attributes, expected): a field test on attributes.<path>.
ATTRIBUTE_CASES = [
    # equals / not_equals: text is case-insensitive, numbers by value, booleans.
    (cond("attributes.channel", "equals", "facebook"), {"channel": "FaceBook"}, True),
    (cond("attributes.channel", "equals", "Face"), {"channel": "Facebook"}, False),
    (cond("attributes.channel", "equals", ""), {"channel": ""}, True),
    (cond("attributes.channel", "not_equals", "x"), {"channel": "X"}, False),
    (cond("attributes.channel", "not_equals", "x"), {}, True),
    (cond("attributes.n", "equals", 1), {"n": 1.0}, True),
    (cond("attributes.n", "equals", 1.0), {"n": 1}, True),
    (cond("attributes.n", "equals", 0.5), {"n": 0.5}, True),
    (cond("attributes.n", "equals", 1), {"n": "1"}, False),
    (cond("attributes.n", "equals", "1"), {"n": 1}, False),
    (cond("attributes.n", "equals", 1), {"n": True}, False),
    (cond("attributes.n", "equals", True), {"n": 1}, False),
    (cond("attributes.n", "equals", True), {"n": True}, True),
    (cond("attributes.n", "equals", False), {"n": False}, True),
    (cond("attributes.n", "equals", False), {"n": None}, False),
    (cond("attributes.n", "equals", "true"), {"n": True}, False),
    (cond("attributes.n", "not_equals", 1), {"n": None}, True),
    # in / not_in with mixed types: each value matches data of its own type.
    (cond("attributes.n", "in", ["a", 2, True]), {"n": "A"}, True),
    (cond("attributes.n", "in", ["a", 2, True]), {"n": 2.0}, True),
    (cond("attributes.n", "in", ["a", 2, True]), {"n": True}, True),
    (cond("attributes.n", "in", ["a", 2, True]), {"n": "2"}, False),
    (cond("attributes.n", "in", ["a", 2, True]), {"n": 1}, False),
    (cond("attributes.n", "in", [1, False]), {"n": True}, False),
    (cond("attributes.n", "not_in", ["a", 2]), {"n": "b"}, True),
    (cond("attributes.n", "not_in", ["a", 2]), {"n": 2}, False),
    (cond("attributes.n", "not_in", ["a", 2]), {}, True),
    # contains / starts_with / ends_with: case-insensitive, text only.
    (cond("attributes.channel", "contains", "BOOK"), {"channel": "Facebook"}, True),
    (cond("attributes.channel", "contains", "x"), {"channel": "Facebook"}, False),
    (cond("attributes.channel", "not_contains", "x"), {"channel": "Face"}, True),
    (cond("attributes.channel", "not_contains", "x"), {"channel": 5}, True),
    (cond("attributes.n", "contains", "5"), {"n": 55}, False),
    (cond("attributes.channel", "starts_with", "fA"), {"channel": "Facebook"}, True),
    (cond("attributes.channel", "starts_with", "book"), {"channel": "Fb"}, False),
    (cond("attributes.channel", "ends_with", "OOK"), {"channel": "Facebook"}, True),
    (cond("attributes.channel", "ends_with", "Face"), {"channel": "Facebook"}, False),
    (cond("attributes.channel", "ends_with", "xbook"), {"channel": "book"}, False),
    (cond("attributes.channel", "starts_with", "t"), {"channel": True}, False),
    # regex: case-sensitive unless (?i); search, not full match.
    (cond("attributes.channel", "regex", "^Face"), {"channel": "Facebook"}, True),
    (cond("attributes.channel", "regex", "^face"), {"channel": "Facebook"}, False),
    (cond("attributes.channel", "regex", "(?i)^face"), {"channel": "Facebook"}, True),
    (cond("attributes.channel", "regex", "eb"), {"channel": "Facebook"}, True),
    (cond("attributes.code", "regex", r"^\d{3}$"), {"code": "123"}, True),
    (cond("attributes.code", "regex", r"^\d{3}$"), {"code": 123}, False),
    (cond("attributes.code", "regex", r"\."), {"code": "a.b"}, True),
    (cond("attributes.code", "regex", r"\."), {"code": "ab"}, False),
    # gt / gte / lt / lte / between with numbers; text is not a number.
    (cond("attributes.amount", "gt", 50), {"amount": 60}, True),
    (cond("attributes.amount", "gt", 50), {"amount": 50}, False),
    (cond("attributes.amount", "gt", 50), {"amount": 50.5}, True),
    (cond("attributes.amount", "gt", 50), {"amount": "60"}, False),
    (cond("attributes.amount", "gt", 0), {"amount": True}, False),
    (cond("attributes.amount", "gte", 50), {"amount": 50.0}, True),
    (cond("attributes.amount", "lt", 50), {"amount": -1}, True),
    (cond("attributes.amount", "lt", 50), {"amount": None}, False),
    (cond("attributes.amount", "lte", 0.5), {"amount": 0.5}, True),
    (cond("attributes.amount", "lte", 0.5), {"amount": 0.51}, False),
    (cond("attributes.amount", "between", [10, 20]), {"amount": 10}, True),
    (cond("attributes.amount", "between", [10, 20]), {"amount": 20.0}, True),
    (cond("attributes.amount", "between", [10, 20]), {"amount": 20.01}, False),
    (cond("attributes.amount", "between", [10, 20]), {"amount": "15"}, False),
    # Wrong shapes never match a positive test: lists, objects, missing paths.
    (cond("attributes.amount", "gt", 0), {"amount": [1, 2]}, False),
    (cond("attributes.amount", "gt", 0), {"amount": {"value": 5}}, False),
    (cond("attributes.tags", "equals", "a"), {"tags": ["a"]}, False),
    (cond("attributes.tags", "in", ["a"]), {"tags": ["a"]}, False),
    (cond("attributes.tags", "contains", "a"), {"tags": ["a"]}, False),
    (cond("attributes.tags.0", "equals", "a"), {"tags": ["a"]}, False),
    (cond("attributes.tags.0", "is_set"), {"tags": ["a"]}, False),
    (cond("attributes.address", "equals", "x"), {"address": {"city": "x"}}, False),
    (cond("attributes.address.city", "equals", "x"), {"address": {"city": "X"}}, True),
    (cond("attributes.address.city", "equals", "x"), {"address": "x"}, False),
    (cond("attributes.address.city", "is_set"), {"address": "x"}, False),
    (cond("attributes.address.city", "is_not_set"), {"address": "x"}, True),
    (cond("attributes.a.b.c", "gt", 1), {"a": {"b": 5}}, False),
    (cond("attributes.a.b.c", "gt", 1), {"a": {"b": {"c": 5}}}, True),
    (cond("attributes.a b", "equals", "x"), {"a b": "x"}, True),
    (cond("attributes.$k-1", "equals", 2), {"$k-1": 2}, True),
    # Dates in attributes compare by the day written in them.
    (cond("attributes.d", "after", "2025-01-30"), {"d": "2025-01-31T00:10:00Z"}, True),
    (cond("attributes.d", "after", "2025-01-31"), {"d": "2025-01-31T23:59:00Z"}, False),
    (cond("attributes.d", "on", "2025-01-31"), {"d": "2025-01-31T10:00:00Z"}, True),
    (cond("attributes.d", "on", "2025-01-31"), {"d": "2025-01-31 10:00"}, True),
    (cond("attributes.d", "on", "2025-01-31"), {"d": "2025-01-31"}, True),
    (cond("attributes.d", "on", "2025-01-31T22:00:00Z"), {"d": "2025-01-31"}, True),
    (cond("attributes.d", "on", "2025-01-31"), {"d": "2025-01-31x"}, False),
    (cond("attributes.d", "before", "2025-02-01"), {"d": "2025-01-31"}, True),
    (cond("attributes.d", "before", "2025-01-31"), {"d": "2025-01-31"}, False),
    (cond("attributes.d", "before", "2025-02-01"), {"d": "2025-1-31"}, False),
    (cond("attributes.d", "before", "2025-02-01"), {"d": "2025-13-01"}, False),
    (cond("attributes.d", "before", "2025-02-01"), {"d": "2025-00-10"}, False),
    (cond("attributes.d", "before", "2025-02-01"), {"d": "0999-01-01"}, False),
    (cond("attributes.d", "before", "2025-02-01"), {"d": "20250131"}, False),
    (cond("attributes.d", "before", "2025-02-01"), {"d": 20250131}, False),
    (cond("attributes.d", "before", "2025-02-01"), {"d": "2025-01-31\n"}, False),
    (cond("attributes.d", "gt", "2025-01-30"), {"d": "2025-01-31"}, True),
    (cond("attributes.d", "lte", "2025-01-30"), {"d": "2025-01-31"}, False),
    (
        cond("attributes.d", "between", ["2025-01-01", "2025-01-31"]),
        {"d": "2025-01-31T23:00:00Z"},
        True,
    ),
    (cond("attributes.d", "after", "-7d"), {"d": "2025-06-09"}, True),
    (cond("attributes.d", "after", "-7d"), {"d": "2025-06-08"}, False),
    (cond("attributes.d", "on", "now"), {"d": "2025-06-15T00:00:00Z"}, True),
    (cond("attributes.d", "within_last", "7d"), {"d": "2025-06-08"}, True),
    (cond("attributes.d", "within_last", 7), {"d": "2025-06-07"}, False),
    (cond("attributes.d", "within_last", "7d"), {"d": "2025-06-16"}, False),
    (cond("attributes.d", "not_within_last", "7d"), {"d": "2025-06-07"}, True),
    (cond("attributes.d", "not_within_last", "7d"), {}, True),
    (cond("attributes.d", "within_last", "999999w"), {"d": "1000-01-01"}, True),
    (cond("attributes.d", "after", "9999-12-30"), {"d": "9999-12-31"}, True),
    # is_set / is_not_set: missing, JSON null and empty text are not set.
    (cond("attributes.channel", "is_set"), {"channel": "x"}, True),
    (cond("attributes.channel", "is_set"), {"channel": 0}, True),
    (cond("attributes.channel", "is_set"), {"channel": False}, True),
    (cond("attributes.channel", "is_set"), {"channel": []}, True),
    (cond("attributes.channel", "is_set"), {}, False),
    (cond("attributes.channel", "is_set"), {"channel": None}, False),
    (cond("attributes.channel", "is_set"), {"channel": ""}, False),
    (cond("attributes.channel", "is_not_set"), {"channel": ""}, True),
    (cond("attributes.channel", "is_not_set"), {"channel": None}, True),
    (cond("attributes.channel", "is_not_set"), {"channel": " "}, False),
    # is_true / is_false: JSON booleans only.
    (cond("attributes.vip", "is_true"), {"vip": True}, True),
    (cond("attributes.vip", "is_true"), {"vip": False}, False),
    (cond("attributes.vip", "is_true"), {"vip": "true"}, False),
    (cond("attributes.vip", "is_true"), {"vip": 1}, False),
    (cond("attributes.vip", "is_false"), {"vip": False}, True),
    (cond("attributes.vip", "is_false"), {"vip": 0}, False),
    (cond("attributes.vip", "is_false"), {}, False),
]


@pytest.mark.parametrize(("condition", "attributes", "expected"), ATTRIBUTE_CASES)
def test_attribute_condition__data__both_evaluators_agree_with_expected(
    condition, attributes, expected
):
    customer = CustomerFactory(attributes=attributes)

    assert_both(rule_of(condition), customer, expected)


# (condition, customer fields, expected): built-in columns.
BUILTIN_CASES = [
    (cond("first_name", "equals", "ann"), {"first_name": "ANN"}, True),
    (cond("first_name", "not_equals", "ann"), {"first_name": "Anna"}, True),
    (cond("first_name", "in", ["bo", "ANN"]), {"first_name": "Ann"}, True),
    (cond("first_name", "not_in", ["bo", "ANN"]), {"first_name": "Ann"}, False),
    (cond("email", "ends_with", "@EXAMPLE.com"), {"email": "a@example.com"}, True),
    (cond("email", "starts_with", "b"), {"email": "a@example.com"}, False),
    (cond("email", "contains", "@"), {"email": ""}, False),
    (cond("phone", "regex", r"^\+44"), {"phone": "+44 20"}, True),
    (cond("phone", "regex", r"^\+44"), {"phone": "044"}, False),
    (cond("last_name", "regex", "^smith"), {"last_name": "Smith"}, False),
    (cond("last_name", "regex", "(?i)^smith"), {"last_name": "Smith"}, True),
    (cond("email", "is_set"), {"email": "a@example.com"}, True),
    (cond("email", "is_set"), {"email": ""}, False),
    (cond("email", "is_not_set"), {"email": ""}, True),
    (cond("email", "equals", ""), {"email": ""}, True),
    # Sign-up date and last seen: exact instants, or whole UTC days.
    (cond("created_at", "after", "2025-01-31"), {"created_at": at("2025-02-01")}, True),
    (
        cond("created_at", "after", "2025-01-31"),
        {"created_at": at("2025-01-31T23:59:59.999999")},
        False,
    ),
    (
        cond("created_at", "before", "2025-01-31"),
        {"created_at": at("2025-01-30T23:59:59")},
        True,
    ),
    (
        cond("created_at", "before", "2025-01-31"),
        {"created_at": at("2025-01-31")},
        False,
    ),
    (cond("created_at", "on", "2025-01-31"), {"created_at": at("2025-01-31")}, True),
    (
        cond("created_at", "on", "2025-01-31"),
        {"created_at": at("2025-01-31T23:59:59")},
        True,
    ),
    (cond("created_at", "on", "2025-01-31"), {"created_at": at("2025-02-01")}, False),
    (
        cond("created_at", "on", "2025-01-31T10:00:00Z"),
        {"created_at": at("2025-01-31T01:00")},
        True,
    ),
    (
        cond("created_at", "after", "2025-01-31T10:00:00Z"),
        {"created_at": at("2025-01-31T10:00:01")},
        True,
    ),
    (
        cond("created_at", "after", "2025-01-31T10:00:00Z"),
        {"created_at": at("2025-01-31T10:00")},
        False,
    ),
    (
        cond("created_at", "gte", "2025-01-31T10:00:00+02:00"),
        {"created_at": at("2025-01-31T08:00")},
        True,
    ),
    (
        cond("created_at", "lte", "2025-01-31"),
        {"created_at": at("2025-01-31T20:00")},
        True,
    ),
    (
        cond("created_at", "gt", "2025-01-31"),
        {"created_at": at("2025-01-31T20:00")},
        False,
    ),
    (
        cond("created_at", "between", ["2025-01-01", "2025-01-31"]),
        {"created_at": at("2025-01-31T20:00")},
        True,
    ),
    (cond("created_at", "after", "-7d"), {"created_at": NOW - timedelta(days=6)}, True),
    (
        cond("created_at", "after", "-7d"),
        {"created_at": NOW - timedelta(days=7)},
        False,
    ),
    (cond("created_at", "before", "now"), {"created_at": NOW}, False),
    (cond("created_at", "lte", "now"), {"created_at": NOW}, True),
    (cond("created_at", "within_last", "7d"), {"created_at": NOW - timedelta(7)}, True),
    (
        cond("created_at", "within_last", "12h"),
        {"created_at": NOW - timedelta(hours=13)},
        False,
    ),
    (
        cond("created_at", "within_last", "7d"),
        {"created_at": NOW + timedelta(seconds=1)},
        False,
    ),
    (
        cond("created_at", "not_within_last", "2w"),
        {"created_at": NOW - timedelta(days=15)},
        True,
    ),
    (cond("created_at", "is_set"), {}, True),
    (cond("last_seen_at", "is_set"), {"last_seen_at": None}, False),
    (cond("last_seen_at", "is_set"), {"last_seen_at": NOW}, True),
    (cond("last_seen_at", "is_not_set"), {"last_seen_at": None}, True),
    (cond("last_seen_at", "after", "2025-01-01"), {"last_seen_at": None}, False),
    (cond("last_seen_at", "before", "2025-01-01"), {"last_seen_at": None}, False),
    (cond("last_seen_at", "on", "now"), {"last_seen_at": None}, False),
    (cond("last_seen_at", "within_last", "30m"), {"last_seen_at": None}, False),
    (cond("last_seen_at", "not_within_last", "30m"), {"last_seen_at": None}, True),
    (
        cond("last_seen_at", "within_last", "30m"),
        {"last_seen_at": NOW - timedelta(minutes=29)},
        True,
    ),
    # The ends of the calendar: no day after 9999-12-31, nothing before year 1.
    (cond("created_at", "after", "9999-12-31"), {}, False),
    (cond("created_at", "lte", "9999-12-31"), {}, True),
    (
        cond("created_at", "on", "9999-12-31"),
        {"created_at": at("9999-12-31T23:59:59.999999")},
        True,
    ),
    (
        cond("created_at", "within_last", "999999w"),
        {"created_at": at("0001-01-02")},
        True,
    ),
    (
        cond("created_at", "before", "0001-01-02"),
        {"created_at": at("0001-01-01T10:00")},
        True,
    ),
]


@pytest.mark.parametrize(("condition", "fields", "expected"), BUILTIN_CASES)
def test_builtin_condition__data__both_evaluators_agree_with_expected(
    condition, fields, expected
):
    customer = CustomerFactory(**fields)

    assert_both(rule_of(condition), customer, expected)


FACEBOOK = cond("attributes.channel", "equals", "Facebook")
RICH = cond("attributes.amount", "gt", 50)


@pytest.mark.parametrize(
    ("rule", "attributes", "expected"),
    [
        (rule_of(FACEBOOK, RICH), {"channel": "facebook", "amount": 60}, True),
        (rule_of(FACEBOOK, RICH), {"channel": "facebook", "amount": 40}, False),
        (rule_of(FACEBOOK, RICH, match="any"), {"amount": 60}, True),
        (rule_of(FACEBOOK, RICH, match="any"), {"amount": "60"}, False),
        (rule_of(FACEBOOK, RICH, match="none"), {"amount": 10}, True),
        (rule_of(FACEBOOK, RICH, match="none"), {"channel": "FACEBOOK"}, False),
        # The NONE of a test on a missing value is true: NOT never sees NULL.
        (rule_of(RICH, match="none"), {}, True),
        (rule_of(RICH, match="none"), {"amount": [60]}, True),
        (
            rule_of(FACEBOOK, rules=(rule_of(RICH, match="none"),)),
            {"channel": "Facebook", "amount": 70},
            False,
        ),
        (
            rule_of(
                match="any",
                rules=(
                    rule_of(FACEBOOK, RICH),
                    rule_of(
                        cond("attributes.vip", "is_true"),
                        rules=(rule_of(FACEBOOK, match="none"),),
                    ),
                ),
            ),
            {"channel": "Google", "vip": True},
            True,
        ),
        (
            rule_of(
                match="none",
                rules=(rule_of(match="any", rules=(rule_of(FACEBOOK),)),),
            ),
            {"channel": "Google"},
            True,
        ),
    ],
)
def test_nested_groups__data__both_evaluators_agree_with_expected(
    rule, attributes, expected
):
    customer = CustomerFactory(attributes=attributes)

    assert_both(rule, customer, expected)


def behaviour(operator="at_least", value=None, **rest) -> dict:
    data = {"event": "purchase", "operator": operator, **rest}
    return data if value is None else {**data, "value": value}


BIG = {"conditions": [cond("event.amount", "gt", 50)]}
# The customer's purchases: (days ago, amount).
PURCHASES = [(1, 60), (10, 80), (40, 20), (100, "90")]


@pytest.mark.parametrize(
    ("condition", "expected"),
    [
        (behaviour("at_least", 4), True),
        (behaviour("at_least", 5), False),
        (behaviour("at_least", 0), True),
        (behaviour("at_most", 4), True),
        (behaviour("at_most", 3), False),
        (behaviour("exactly", 4), True),
        (behaviour("exactly", 3), False),
        (behaviour("not_performed"), False),
        (behaviour("at_least", 2, within_days=30), True),
        (behaviour("exactly", 2, within_days=40), True),
        (behaviour("at_least", 3, within_days=30), False),
        (behaviour("exactly", 1, within_days=7), True),
        (behaviour("at_most", 1, within_days=7), True),
        (behaviour("at_least", 2, where=BIG), True),
        (behaviour("exactly", 2, where=BIG), True),
        (behaviour("at_least", 3, where=BIG), False),
        (behaviour("exactly", 1, within_days=7, where=BIG), True),
        (behaviour("exactly", 0, within_days=30, where=BIG), False),
        (
            behaviour(
                "exactly",
                1,
                where={"conditions": [cond("event.amount", "equals", "90")]},
            ),
            True,
        ),
        (behaviour("not_performed", within_days=1), True),
        (
            behaviour(
                "exactly",
                2,
                where={
                    "match": "none",
                    "conditions": [cond("event.amount", "between", [50, 70])],
                },
            ),
            False,
        ),
        ({"event": "login", "operator": "not_performed"}, True),
        ({"event": "login", "operator": "at_most", "value": 0}, True),
        ({"event": "login", "operator": "at_least", "value": 1}, False),
    ],
)
def test_behaviour__purchases__both_evaluators_agree_with_expected(condition, expected):
    # Given a customer with four purchases, and another customer's login
    customer = CustomerFactory()
    for days_ago, amount in PURCHASES:
        EventFactory(
            customer=customer,
            timestamp=NOW - timedelta(days=days_ago, hours=1),
            properties={"amount": amount},
        )
    EventFactory(name="login", timestamp=NOW)

    # Then both evaluators count the same events
    assert_both(rule_of(condition), customer, expected)


@pytest.mark.parametrize(
    ("before_window", "expected"),
    [(timedelta(0), True), (timedelta(microseconds=1), False)],
)
def test_behaviour__event_at_the_window_start__counted_from_that_instant_on(
    before_window, expected
):
    customer = CustomerFactory()
    EventFactory(customer=customer, timestamp=NOW - timedelta(days=7) - before_window)

    assert_both(rule_of(behaviour("at_least", 1, within_days=7)), customer, expected)


def test_behaviour__no_events__only_zero_counts_match():
    customer = CustomerFactory()

    assert_both(rule_of(behaviour("not_performed")), customer, True)
    assert_both(rule_of(behaviour("at_most", 2)), customer, True)
    assert_both(rule_of(behaviour("exactly", 0)), customer, True)
    assert_both(rule_of(behaviour("at_least", 1)), customer, False)
    assert_both(rule_of(behaviour("exactly", 1)), customer, False)


def test_behaviour__event_properties_not_an_object__where_never_matches():
    customer = CustomerFactory()
    EventFactory(customer=customer, timestamp=NOW, properties=["amount"])
    EventFactory(customer=customer, timestamp=NOW, properties="amount")

    assert_both(rule_of(behaviour("at_least", 1, where=BIG)), customer, False)
    assert_both(rule_of(behaviour("exactly", 2)), customer, True)


@pytest.mark.parametrize(
    ("operator", "segment", "expected"),
    [
        ("in", "member", True),
        ("not_in", "member", False),
        ("in", "blocked", False),
        ("not_in", "blocked", True),
        ("in", "other", False),
        ("not_in", "other", True),
        ("in", "missing", False),
        ("not_in", "missing", True),
    ],
)
def test_segment_condition__membership__both_evaluators_agree_with_expected(
    operator, segment, expected
):
    # Given a member of one segment, blocked from another, absent from a third
    customer, someone_else = CustomerFactory(), CustomerFactory()
    segments = {name: SegmentFactory() for name in ("member", "blocked", "other")}
    Membership.objects.create(
        segment=segments["member"], customer=customer, source="admin"
    )
    Membership.objects.create(
        segment=segments["blocked"], customer=customer, source="admin", override="block"
    )
    Membership.objects.create(
        segment=segments["other"], customer=someone_else, source="admin"
    )
    segment_id = segments[segment].pk if segment in segments else 999_999

    assert_both(
        rule_of({"segment": segment_id, "operator": operator}), customer, expected
    )


@pytest.mark.parametrize(
    ("condition", "trigger", "expected"),
    [
        (cond("event.amount", "gt", 50), {"amount": 60}, True),
        (cond("event.amount", "gt", 50), {"amount": "60"}, False),
        (cond("event.amount", "gt", 50), {"amount": "abc"}, False),
        (cond("event.amount", "gt", 50), {}, False),
        (cond("event.amount", "is_not_set"), {}, True),
        (cond("event.amount", "is_set"), {"amount": None}, False),
        (cond("event.sku", "equals", "ab-1"), {"sku": "AB-1"}, True),
        (cond("event.sku", "contains", "b-"), {"sku": "AB-1"}, True),
        (cond("event.item.sku", "in", ["x", 3]), {"item": {"sku": 3.0}}, True),
        (cond("event.item.sku", "in", ["x", 3]), {"item": "x"}, False),
        (cond("event.gift", "is_true"), {"gift": True}, True),
        (cond("event.gift", "is_false"), {"gift": True}, False),
        (cond("event.at", "on", "2025-06-15"), {"at": "2025-06-15T01:02:03Z"}, True),
        (cond("event.at", "within_last", "1d"), {"at": "2025-06-13"}, False),
        # A customer's attributes are not the event's properties.
        (cond("attributes.amount", "gt", 50), {"amount": 60}, False),
    ],
)
def test_trigger_condition__event_properties__both_evaluators_agree_with_expected(
    condition, trigger, expected
):
    customer = CustomerFactory(attributes={"amount": 10})

    assert_both(rule_of(condition), customer, expected, trigger=trigger)


def test_trigger_condition__no_trigger_given__never_matches_a_positive_test():
    customer = CustomerFactory()
    spec = parse_rule(rule_of(cond("event.amount", "gt", 0)), allow_event_fields=True)
    node = plan(spec, NOW)

    assert not matches(node, customer_facts(customer=customer))
    assert not Customer.objects.filter(compile_q(node, rule_sources())).exists()


def test_compile_q__several_customers__selects_exactly_the_matching_ones():
    # Given customers on both sides of every condition
    rich = CustomerFactory(attributes={"channel": "facebook", "amount": 60})
    poor = CustomerFactory(attributes={"channel": "Facebook", "amount": 10})
    other = CustomerFactory(attributes={"channel": "Google", "amount": 99})
    rule = rule_of(FACEBOOK, RICH)

    # When the rule is compiled once for all of them
    node = plan(parse_rule(rule), NOW)
    found = set(Customer.objects.filter(compile_q(node, rule_sources())))

    # Then the set is exactly the matching customer, as Python says one by one
    assert found == {rich}
    assert [matches(node, customer_facts(customer=c)) for c in (rich, poor, other)] == [
        True,
        False,
        False,
    ]
