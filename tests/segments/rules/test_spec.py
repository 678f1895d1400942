import pytest

from segments.rules import Match, RuleSpecError, parse_rule, rule_to_dict


def condition(field="attributes.channel", operator="equals", value="Facebook"):
    return {"field": field, "operator": operator, "value": value}


def faults(data, **options):
    with pytest.raises(RuleSpecError) as error:
        parse_rule(data, **options)
    return error.value.errors


def test_parse_rule__nested_groups__round_trips():
    data = {
        "match": "any",
        "conditions": [condition()],
        "rules": [
            {
                "match": "none",
                "conditions": [condition("email", "is_set", None)],
                "rules": [],
            }
        ],
    }

    spec = parse_rule(data)

    assert spec.match is Match.ANY
    assert spec.depth() == 2
    assert rule_to_dict(spec) == data


def test_parse_rule__match_left_out__defaults_to_all():
    assert parse_rule({"conditions": [condition()]}).match is Match.ALL


@pytest.mark.parametrize(
    ("data", "path", "message"),
    [
        ("all", "rules", "expected an object"),
        ({"match": "most", "conditions": [condition()]}, "match", "expected one of"),
        ({"conditions": []}, "rules", "at least one condition"),
        ({"conditions": {}}, "conditions", "expected a list"),
        ({"conditions": [condition(), "x"]}, "conditions[1]", "expected an object"),
        (
            {"conditions": [condition(operator="like")]},
            "conditions[0].operator",
            "unknown operator 'like'",
        ),
        (
            {"conditions": [condition(field="password")]},
            "conditions[0].field",
            "expected a customer field",
        ),
        (
            {"conditions": [condition(value=None)]},
            "conditions[0].value",
            "equals needs a value",
        ),
        (
            {"conditions": [condition(operator="is_set", value=3)]},
            "conditions[0].value",
            "takes no value",
        ),
        (
            {"conditions": [condition(operator="in", value="a")]},
            "conditions[0].value",
            "expected a list",
        ),
        (
            {"conditions": [condition(operator="between", value=[1])]},
            "conditions[0].value",
            "two bounds",
        ),
        (
            {"conditions": [{**condition(), "weight": 2}]},
            "conditions[0].weight",
            "unknown key",
        ),
        (
            {"rules": [{"rules": [{"conditions": [condition(operator="nope")]}]}]},
            "rules[0].rules[0].conditions[0].operator",
            "unknown operator",
        ),
    ],
)
def test_parse_rule__fault__names_its_place(data, path, message):
    errors = faults(data)

    assert path in errors, errors
    assert message in errors[path]


def test_parse_rule__several_faults__all_reported():
    errors = faults(
        {"conditions": [condition(operator="x"), condition(field="", value=1)]}
    )

    assert set(errors) == {"conditions[0].operator", "conditions[1].field"}


def test_parse_rule__too_deep__refused():
    data = {"conditions": [condition()]}
    for _ in range(3):
        data = {"rules": [data]}

    assert parse_rule(data, max_depth=4).depth() == 4
    assert (
        "nested at most 3 deep"
        in faults(data, max_depth=3)["rules[0].rules[0].rules[0]"]
    )


def test_parse_rule__too_many_conditions__refused():
    data = {"conditions": [condition()] * 4}

    assert "at most 3 conditions" in faults(data, max_conditions=3)[""]


def test_parse_rule__event_field__only_where_allowed():
    data = {"conditions": [condition("event.amount", "gt", 50)]}

    assert (
        parse_rule(data, allow_event_fields=True).conditions[0].field == "event.amount"
    )
    assert "event-triggered" in faults(data)["conditions[0].field"]


@pytest.mark.parametrize(
    "value",
    [
        "-999999w",  # before year 1
        "+999999w",  # after year 9999
        "9999-12-31T23:59:59-05:00",  # after year 9999 in UTC
        "0001-01-01T00:00:00+01:00",  # before year 1 in UTC
        "2025-02-30",
        "2025-01-31T25:00",
        "yesterday",
    ],
)
def test_parse_rule__date_out_of_range_or_invalid__refused_with_its_place(value):
    data = {"conditions": [condition("created_at", "after", value)]}

    assert "expected a date" in faults(data)["conditions[0].value"]


@pytest.mark.parametrize("value", ["9999-12-31", "0001-01-01", "-7d", "now"])
def test_parse_rule__date_at_the_ends_or_relative__accepted(value):
    data = {"conditions": [condition("created_at", "after", value)]}

    assert parse_rule(data).conditions[0].value == value
