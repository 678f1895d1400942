"""Hypothesis strategies for condition trees and the customers they are tried on.

Names and values come from small fixed vocabularies chosen to collide often: the
rules test the same attributes the customers carry, with values of every JSON type,
dates on both sides of the days and instants the rules name. Text is printable
ASCII: folding non-ASCII letters differs between SQLite and PostgreSQL (a
documented limitation), and a newline changes what a regex `$` means.
"""

from datetime import UTC, datetime, timedelta
from typing import Any

from hypothesis import strategies as st

NOW = datetime(2025, 6, 15, 12, 0, tzinfo=UTC)
# Segment ids in generated rules are placeholders: 1 and 2 name the two segments
# the test creates, 3 one that does not exist (see `with_segment_ids`).
SEGMENT_PLACEHOLDERS = (1, 2, 3)

TEXTS = (
    "Facebook",
    "facebook",
    "FACEBOOK",
    "face",
    "Book",
    "",
    " ",
    "x",
    "60",
    "1",
    "true",
    "c1",
    "C1",
    "a@x.io",
)
NEEDLES = ("face", "BOOK", "a", "0", "-01", "Fac", "1", " ", "c", "@X.IO")
REGEXES = (
    "^Face",
    "(?i)^face",
    "book$",
    r"\d+",
    r"^\d{4}-\d{2}",
    "a|b",
    "[A-Z]",
    "(?:ab)+",
    r"\.",
    r"^\s",
    "o{2}",
    "^$",
    r"T\d\d:",
)
NUMBERS = (0, 1, 50, 60, -1, 1.0, 0.5, 50.5, 59.99, -0.25, 60.0)
# Dates as data: valid days and date-times, and near misses that name no day.
DATA_DATES = (
    "2025-01-31",
    "2025-01-31T10:00:00Z",
    "2025-01-31 23:59",
    "2025-06-08",
    "2025-06-14",
    "2025-06-15",
    "2025-06-15T23:59:59",
    "2025-06-16",
    "2025-02-30",
    "9999-12-31",
    "1000-01-01",
    "2025-13-01",
    "2025-00-10",
    "0999-01-01",
    "2025-1-1",
    "2025-01-31x",
    "20250131",
)
# Dates as rule values: days, instants, relative, and the ends of the calendar.
WHENS = (
    "2025-01-31",
    "2025-06-08",
    "2025-06-15",
    "2025-01-31T10:00:00Z",
    "2025-06-15T08:00:00+02:00",
    "2025-06-15T02:00:00-05:00",
    "now",
    "-7d",
    "+1d",
    "-12h",
    "-30m",
    "9999-12-31",
    "0001-01-01",
)
DURATIONS = (1, 7, "7d", "12h", "2w", "30m", "999999w")
INSTANTS = (
    NOW,
    NOW - timedelta(microseconds=1),
    NOW + timedelta(hours=1),
    NOW - timedelta(minutes=29),
    NOW - timedelta(minutes=31),
    NOW - timedelta(hours=12),
    NOW - timedelta(days=1),
    NOW - timedelta(days=7),
    NOW - timedelta(days=7, seconds=1),
    NOW - timedelta(days=6, hours=23),
    NOW - timedelta(days=30),
    NOW - timedelta(days=40),
    datetime(2025, 1, 31, tzinfo=UTC),
    datetime(2025, 1, 31, 10, tzinfo=UTC),
    datetime(2025, 1, 31, 23, 59, 59, 999999, tzinfo=UTC),
    datetime(2025, 2, 1, tzinfo=UTC),
    datetime(2025, 6, 15, tzinfo=UTC),
    datetime(2025, 6, 15, 6, tzinfo=UTC),
    datetime(2025, 6, 14, 23, 59, 59, tzinfo=UTC),
    datetime(9999, 12, 31, 23, 59, 59, 999999, tzinfo=UTC),
    datetime(1, 1, 1, 10, tzinfo=UTC),
)

ATTRIBUTE_KEYS = ("channel", "amount", "joined", "vip", "address")
ATTRIBUTE_FIELDS = (
    *(f"attributes.{key}" for key in ATTRIBUTE_KEYS),
    "attributes.address.city",
    "attributes.channel.x",
)
PROPERTY_KEYS = ("amount", "sku", "at", "item")
TRIGGER_FIELDS = (
    *(f"event.{key}" for key in PROPERTY_KEYS),
    "event.item.sku",
)
TEXT_FIELDS = ("first_name", "email", "external_id")
DATE_FIELDS = ("created_at", "last_seen_at")
EVENT_NAMES = ("purchase", "login")
EMAILS = ("", "a@x.io", "A@x.io", "bob@example.com")

# The operators that take each kind of value.
JSON_OPERATORS = {
    "scalar": ("equals", "not_equals"),
    "scalars": ("in", "not_in"),
    "needle": ("contains", "not_contains", "starts_with", "ends_with"),
    "regex": ("regex",),
    "bound": ("gt", "gte", "lt", "lte"),
    "between": ("between",),
    "when": ("before", "after", "on"),
    "duration": ("within_last", "not_within_last"),
    "none": ("is_set", "is_not_set", "is_true", "is_false"),
}
TEXT_OPERATORS = {
    "text": ("equals", "not_equals"),
    "texts": ("in", "not_in"),
    "needle": ("contains", "not_contains", "starts_with", "ends_with"),
    "regex": ("regex",),
    "none": ("is_set", "is_not_set"),
}
DATE_OPERATORS = {
    "date_bound": ("gt", "gte", "lt", "lte", "before", "after", "on"),
    "date_between": ("between",),
    "duration": ("within_last", "not_within_last"),
    "none": ("is_set", "is_not_set"),
}

bools = st.booleans()
texts = st.sampled_from(TEXTS)
numbers = st.sampled_from(NUMBERS)
scalars = st.one_of(texts, numbers, bools, st.sampled_from(DATA_DATES))
whens = st.sampled_from(WHENS)

RULE_VALUES: dict[str, st.SearchStrategy[Any]] = {
    "scalar": scalars,
    "scalars": st.lists(scalars, min_size=1, max_size=3),
    "text": texts,
    "texts": st.lists(texts, min_size=1, max_size=3),
    "needle": st.sampled_from(NEEDLES),
    "regex": st.sampled_from(REGEXES),
    "bound": st.one_of(numbers, whens),
    "between": st.one_of(
        st.lists(numbers, min_size=2, max_size=2).map(sorted),
        st.lists(whens, min_size=2, max_size=2),
    ),
    "when": whens,
    "date_bound": whens,
    "date_between": st.lists(whens, min_size=2, max_size=2),
    "duration": st.sampled_from(DURATIONS),
    "none": st.none(),
}


def _field_test(fields: tuple[str, ...], operators: dict[str, tuple[str, ...]]):
    def build(field: str, operator: str, value: Any) -> dict[str, Any]:
        data = {"field": field, "operator": operator}
        return data if value is None else {**data, "value": value}

    return st.sampled_from(sorted(operators)).flatmap(
        lambda kind: st.builds(
            build,
            st.sampled_from(fields),
            st.sampled_from(operators[kind]),
            RULE_VALUES[kind],
        )
    )


def field_conditions(*, event_fields: bool = True) -> st.SearchStrategy[dict]:
    """A field test on an attribute, a built-in field or a trigger property."""
    options = [
        _field_test(ATTRIBUTE_FIELDS, JSON_OPERATORS),
        _field_test(TEXT_FIELDS, TEXT_OPERATORS),
        _field_test(DATE_FIELDS, DATE_OPERATORS),
    ]
    if event_fields:
        options.append(_field_test(TRIGGER_FIELDS, JSON_OPERATORS))
    return st.one_of(options)


def _groups(conditions: st.SearchStrategy[dict], depth: int):
    """Groups nested up to `depth` deep, each with at least one item."""
    children = (
        st.lists(_groups(conditions, depth - 1), max_size=2)
        if depth > 1
        else st.just([])
    )

    @st.composite
    def group(draw) -> dict[str, Any]:
        rules = draw(children)
        items = draw(st.lists(conditions, min_size=0 if rules else 1, max_size=3))
        match = draw(st.sampled_from(("all", "any", "none")))
        return {"match": match, "conditions": items, "rules": rules}

    return group()


where_groups = _groups(
    _field_test(tuple(f"event.{key}" for key in PROPERTY_KEYS), JSON_OPERATORS), 2
)


@st.composite
def behaviours(draw) -> dict[str, Any]:
    operator = draw(
        st.sampled_from(("at_least", "at_most", "exactly", "not_performed"))
    )
    data: dict[str, Any] = {
        "event": draw(st.sampled_from(EVENT_NAMES)),
        "operator": operator,
    }
    if operator != "not_performed":
        data["value"] = draw(st.integers(0, 3))
    if within := draw(st.sampled_from((None, 1, 7, 30))):
        data["within_days"] = within
    if where := draw(st.none() | where_groups):
        data["where"] = where
    return data


segment_conditions = st.builds(
    lambda segment, operator: {"segment": segment, "operator": operator},
    st.sampled_from(SEGMENT_PLACEHOLDERS),
    st.sampled_from(("in", "not_in")),
)


any_condition = st.one_of(
    field_conditions(), field_conditions(), behaviours(), segment_conditions
)
# Whole trees, nested up to three groups deep, valid for an event-triggered segment
# by construction (the test parses them, so a strategy that drifts fails loudly).
rules = _groups(any_condition, 3)


def with_segment_ids(rule: Any, ids: dict[int, int]) -> Any:
    """The rule with its placeholder segment ids replaced by real ones."""
    if isinstance(rule, list):
        return [with_segment_ids(item, ids) for item in rule]
    if not isinstance(rule, dict):
        return rule
    if "segment" in rule:
        return {**rule, "segment": ids[rule["segment"]]}
    return {key: with_segment_ids(value, ids) for key, value in rule.items()}


# Data: JSON values of every type, objects and lists included, each type about as
# likely as the others so that every operator meets every type.
nested_objects = st.fixed_dictionaries(
    {}, optional={"city": texts, "x": st.one_of(texts, numbers), "sku": scalars}
)
json_values = st.one_of(
    texts,
    numbers,
    bools,
    st.sampled_from(DATA_DATES),
    st.none(),
    nested_objects,
    st.lists(st.one_of(texts, numbers), max_size=2),
)
# Each key present about half the time.
attributes = st.fixed_dictionaries(
    {}, optional={key: json_values for key in ATTRIBUTE_KEYS}
)
properties = st.fixed_dictionaries(
    {}, optional={key: json_values for key in PROPERTY_KEYS}
)
triggers = st.none() | properties
instants = st.sampled_from(INSTANTS)

events = st.lists(
    st.tuples(st.sampled_from(EVENT_NAMES), instants, properties), max_size=5
)


@st.composite
def customers(draw) -> dict[str, Any]:
    return {
        "first_name": draw(texts),
        "email": draw(st.sampled_from(EMAILS)),
        # Now and then not an object at all: every path through it is missing.
        "attributes": draw(attributes if draw(st.integers(0, 9)) else st.just([1])),
        "created_at": draw(instants),
        "last_seen_at": draw(st.none() | instants),
        "events": draw(events),
        # placeholder segment -> its membership's override
        "segments": draw(
            st.dictionaries(st.sampled_from((1, 2)), st.sampled_from(("none", "block")))
        ),
    }


customer_lists = st.lists(customers(), min_size=2, max_size=5)


def blank_customer(**data: Any) -> dict[str, Any]:
    """A customer as `customers` draws them, with nothing set but `data`."""
    return {
        "first_name": "",
        "email": "",
        "attributes": {},
        "created_at": NOW,
        "last_seen_at": None,
        "events": [],
        "segments": {},
        **data,
    }


def _near(value: Any) -> st.SearchStrategy[Any]:
    """Data close to a rule's value: itself, its other spellings, near misses."""
    if isinstance(value, list):
        return st.sampled_from(value).flatmap(_near)
    if isinstance(value, bool):
        return st.sampled_from((value, not value, int(value), str(value).lower()))
    if isinstance(value, int | float):
        return st.sampled_from(
            (value, float(value), value + 1, value - 0.5, str(value))
        )
    if isinstance(value, str):
        return st.sampled_from(
            (
                value,
                value.upper(),
                value.swapcase(),
                f"x{value}",
                f"{value}x",
                value[1:],
            )
        )
    # No value (is_set, is_true ...): the values that are nearly nothing.
    return st.one_of(st.sampled_from(("", " ", None, 0, False, [], {})), json_values)


@st.composite
def attribute_cases(draw) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """One test on `attributes.v`, and customers whose `v` is drawn from the data
    vocabulary or made from the test's own value (missing now and then)."""
    condition = draw(_field_test(("attributes.v",), JSON_OPERATORS))
    near = _near(condition.get("value"))

    def value() -> Any:
        # Not one_of(near, json_values): that would flatten to mostly json_values.
        return draw(near if draw(st.integers(0, 2)) else json_values)

    count = draw(st.integers(3, 6))
    customers = [
        blank_customer(attributes={"v": value()} if draw(st.integers(0, 5)) else {})
        for _ in range(count)
    ]
    return condition, customers


# Every value a rule can meet, for the exhaustive test: the vocabularies, and
# near misses of each needle.
EVERY_DATA_VALUE: tuple[Any, ...] = (
    *TEXTS,
    *NUMBERS,
    True,
    False,
    None,
    *DATA_DATES,
    *(f"x{needle}" for needle in NEEDLES),
    *(f"{needle}x" for needle in NEEDLES),
    "2025-01-31\n",
    {"city": "x"},
    {},
    [],
    ["Facebook"],
    [1, "1"],
)
EVERY_TEXT = tuple(value for value in EVERY_DATA_VALUE if isinstance(value, str))
SOME_LISTS = ([TEXTS[0], 1, True], [0, "", False], [60.0, "60"], ["c1", "x"])
BETWEENS = ([0, 50], [50, 60], [-1, 0.5], ["2025-01-31", "2025-06-15"], ["-7d", "now"])


def every_field_condition() -> list[dict[str, Any]]:
    """Each operator on `attributes.v`, `first_name` and `created_at`/`last_seen_at`
    with each value of its vocabulary."""
    values_by_kind: dict[str, tuple[Any, ...]] = {
        "scalar": (*TEXTS, *NUMBERS, True, False, *DATA_DATES[:8]),
        "scalars": SOME_LISTS,
        "text": TEXTS,
        "texts": ([TEXTS[0], TEXTS[3]], [TEXTS[5]], ["C1", "a@x.io"]),
        "needle": NEEDLES,
        "regex": REGEXES,
        "bound": (*NUMBERS, *WHENS),
        "between": BETWEENS,
        "when": WHENS,
        "date_bound": WHENS,
        "date_between": tuple(pair for pair in BETWEENS if isinstance(pair[0], str)),
        "duration": DURATIONS,
        "none": (None,),
    }
    fields = (
        (("attributes.v",), JSON_OPERATORS),
        (("first_name",), TEXT_OPERATORS),
        (DATE_FIELDS, DATE_OPERATORS),
    )
    conditions = []
    for names, operators in fields:
        for kind, kind_operators in operators.items():
            for name in names:
                for operator in kind_operators:
                    for value in values_by_kind[kind]:
                        condition = {"field": name, "operator": operator}
                        if value is not None:
                            condition["value"] = value
                        conditions.append(condition)
    return conditions
