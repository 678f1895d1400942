"""The SQL compiler: a planned tree as a `Q` over customers, for SQLite and
PostgreSQL alike.

Every test compiles to a strict boolean (never NULL), so NOT and NONE mean exactly
"not this" and agree with the Python evaluator. Tests on JSON values check the
value's JSON type first: ``gt 50`` does not match the text "60", and never errors.
The compiler knows no models; the caller hands it the querysets of events and of
segment members (`Sources`).
"""

import json
import operator
from collections.abc import Callable
from dataclasses import dataclass
from functools import reduce
from typing import Any

from django.db.models import (
    BooleanField,
    Count,
    Exists,
    Expression,
    F,
    OuterRef,
    Q,
    QuerySet,
)

from .plan import All, AnyOf, EventCount, InSegment, Node, Not, Ref, Test
from .spec import DATE_FIELDS

TRUE = Q(pk__isnull=False)
FALSE = Q(pk__isnull=True)
DAY_GLOB = "[1-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]"
DAY_REGEX = r"^[1-9][0-9]{3}-[0-9]{2}-[0-9]{2}([T ]|$)"
COMPARE = {"lt": "<", "lte": "<=", "gt": ">", "gte": ">=", "eq": "="}
# The JSON types each test needs, as each database names them.
JSON_TYPES: dict[str, dict[str, tuple[str, ...]]] = {
    "postgresql": {"text": ("string",), "day": ("string",), "number": ("number",)},
    "sqlite": {"text": ("text",), "day": ("text",), "number": ("integer", "real")},
}


@dataclass(frozen=True)
class Sources:
    """`events`: all events (a queryset with `customer_id`, `name`, `timestamp`,
    `properties`). `members(segment_id)`: the customer ids of a segment's members."""

    events: QuerySet
    members: Callable[[int], QuerySet]


def compile_q(node: Node, sources: Sources, trigger: dict | None = None) -> Q:
    """A Q over customers; `event.*` tests read the `trigger` properties."""
    return _Compiler(sources, trigger=trigger or {}).q(node)


def compile_event_q(node: Node, sources: Sources) -> Q:
    """A Q over events: would this event, as the trigger, let its customer in?"""
    return _Compiler(sources, on_events=True).q(node)


class _Compiler:
    def __init__(self, sources: Sources, trigger=None, on_events: bool = False):
        self.sources = sources
        self.trigger = trigger
        # Over events, the customer is reached through the event's foreign key.
        self.customer = "customer_id" if on_events else "pk"
        self.prefix = "customer__" if on_events else ""

    def q(self, node: Node) -> Q:
        match node:
            case All(items):
                return _combine(items, self, Q.AND, TRUE)
            case AnyOf(items):
                return _combine(items, self, Q.OR, FALSE)
            case Not(item):
                return ~self.q(item)
            case InSegment(segment):
                members = self.sources.members(segment)
                return Q(Exists(members.filter(customer_id=OuterRef(self.customer))))
            case EventCount():
                return self.event_count(node)
            case Test():
                return Q(Predicate(self.source(node.ref), node))
        raise TypeError(f"not a plan node: {node!r}")

    def source(self, ref: Ref) -> Expression | F:
        if ref.source == "customer":
            return F(self.prefix + ref.path[0])
        if ref.source == "attributes":
            return F(self.prefix + "attributes")
        if ref.source == "event" or self.trigger is None:
            # A counted event's properties, or (over events) the trigger's own.
            return F("properties")
        return JsonConstant(self.trigger)

    def event_count(self, node: EventCount) -> Q:
        """Correlated EXISTS, never IN: PostgreSQL turns (NOT) EXISTS into a semi-
        or anti-join, where NOT IN (subquery) degrades to a rescan per customer once
        the ids outgrow work_mem; and for one customer (the incremental path) it
        probes that customer's events only, not every customer's."""
        if node.op == "gte" and node.count == 0:
            return TRUE
        events = self.sources.events.filter(
            customer_id=OuterRef(self.customer), name=node.event
        )
        if node.since is not None:
            events = events.filter(timestamp__gte=node.since)
        if node.where is not None:
            events = events.filter(self.q(node.where))
        if node.count == 0:  # eq 0, lte 0: never performed
            return ~Q(Exists(events))
        if node.op == "gte" and node.count == 1:
            return Q(Exists(events))
        per_customer = events.values("customer_id").annotate(n=Count("pk"))
        if node.op == "lte":
            return ~Q(Exists(per_customer.filter(n__gt=node.count)))
        having = {"gte": "n__gte", "eq": "n"}[node.op]
        return Q(Exists(per_customer.filter(**{having: node.count})))


def _combine(items, compiler, connector, empty) -> Q:
    if not items:
        return empty
    join = operator.and_ if connector == Q.AND else operator.or_
    return reduce(join, (compiler.q(item) for item in items))


class JsonConstant(Expression):
    """A JSON object given as a parameter, readable like a JSON column."""

    def __init__(self, value: dict):
        super().__init__(output_field=BooleanField())
        self.value = value

    def as_sql(self, compiler, connection):
        template = "CAST(%s AS jsonb)" if connection.vendor == "postgresql" else "%s"
        return template, [json.dumps(self.value)]


class Predicate(Expression):
    """One primitive test on one value, rendered for the connection's database."""

    output_field = BooleanField()

    def __init__(self, source, test: Test):
        super().__init__()
        self.source, self.test = source, test

    def get_source_expressions(self):
        return [self.source]

    def set_source_expressions(self, exprs):
        (self.source,) = exprs

    def as_sql(self, compiler, connection):
        src_sql, src_params = compiler.compile(self.source)
        source = Fragment(src_sql, tuple(src_params))
        vendor = "postgresql" if connection.vendor == "postgresql" else "sqlite"
        if self.test.ref.source == "customer":
            fragment = _column_test(source, self.test, vendor, connection)
        else:
            fragment = _json_test(source, self.test, vendor)
        return fragment.sql, list(fragment.params)


@dataclass(frozen=True)
class Fragment:
    sql: str
    params: tuple = ()


def sql(template: str, *parts: Any) -> Fragment:
    """Fill each {} of `template` with a part: a Fragment is inlined, anything else
    becomes a parameter. Parameters follow the order the parts appear in."""
    pieces = template.split("{}")
    assert len(pieces) == len(parts) + 1, template
    text, params = [pieces[0]], list[Any]()
    for part, piece in zip(parts, pieces[1:], strict=True):
        if isinstance(part, Fragment):
            text.append(part.sql)
            params.extend(part.params)
        else:
            text.append("%s")
            params.append(part)
        text.append(piece)
    return Fragment("".join(text), tuple(params))


def _column_test(column: Fragment, test: Test, vendor: str, connection) -> Fragment:
    if test.kind == "instant":
        value = test.value
        if vendor == "sqlite":
            value = connection.ops.adapt_datetimefield_value(value)
        symbol = COMPARE[test.op]
        # Strict like COALESCE(column < value, FALSE), but a range the column's
        # index can serve (sign up date within the last 7 days).
        return sql(f"({{}} IS NOT NULL AND {{}} {symbol} {{}})", column, column, value)
    if test.kind == "set" and test.ref.path[0] in DATE_FIELDS:
        return sql("{} IS NOT NULL", column)
    if test.kind == "set":
        return sql("{} <> ''", column)
    return _text_test(column, test, vendor)


def _json_test(source: Fragment, test: Test, vendor: str) -> Fragment:
    node, text = _json_path(source, test.ref.path, vendor)
    if vendor == "postgresql":
        json_type = sql("jsonb_typeof({})", node)
    else:
        json_type = sql("json_type({})", node)
    if test.kind == "set":
        # Not null and not empty text, as for the built-in text fields.
        string = JSON_TYPES[vendor]["text"][0]
        return sql(
            f"COALESCE({{}} <> 'null' AND ({{}} <> '{string}' OR {{}} <> ''), FALSE)",
            json_type,
            json_type,
            text,
        )
    if test.kind == "bool":
        flag = "boolean" if vendor == "postgresql" else str(test.value).lower()
        guard = sql(f"COALESCE({{}} = '{flag}', FALSE)", json_type)
        if vendor == "sqlite":
            return guard
        return sql(f"({{}} AND {{}} = '{str(test.value).lower()}')", guard, text)
    types = ", ".join(f"'{name}'" for name in JSON_TYPES[vendor][test.kind])
    guard = sql(f"{{}} IN ({types})", json_type)
    if test.kind == "number":
        check = _number_test(text, test, vendor)
    elif test.kind == "day":
        check = _day_test(text, test, vendor)
    else:
        check = _text_test(text, test, vendor)
    return sql("CASE WHEN {} THEN {} ELSE FALSE END", guard, check)


def _json_path(source: Fragment, path: tuple[str, ...], vendor: str):
    """The JSON value at `path` and its scalar as text. Only objects are walked:
    a key never indexes an array, as in Python."""
    if vendor == "postgresql":
        parent = source
        for key in path[:-1]:
            parent = sql("({} -> {})", parent, key)
        return sql("({} -> {})", parent, path[-1]), sql("({} ->> {})", parent, path[-1])
    quoted = "$" + "".join('."' + key + '"' for key in path)
    node = sql("{}, {}", source, quoted)
    return node, sql("json_extract({})", node)


def _text_test(text: Fragment, test: Test, vendor: str) -> Fragment:
    value = test.value
    if test.op == "regex":
        symbol = "~" if vendor == "postgresql" else "REGEXP"
        return sql(f"COALESCE({{}} {symbol} {{}}, FALSE)", text, value)
    lowered = sql("LOWER({})", text)
    if test.op == "in":
        marks = ", ".join(["{}"] * len(value))
        return sql(f"{{}} IN ({marks})", lowered, *sorted(value))
    if test.op == "contains":
        find = "strpos" if vendor == "postgresql" else "instr"
        return sql(f"{find}({{}}, {{}}) > 0", lowered, value)
    if test.op == "starts":
        return sql("substr({}, 1, {}) = {}", lowered, len(value), value)
    return (
        sql("substr({}, {}) = {}", lowered, -len(value), value)
        if vendor == "sqlite"
        else sql("right({}, {}) = {}", lowered, len(value), value)
    )


def _number_test(text: Fragment, test: Test, vendor: str) -> Fragment:
    values = test.value if test.op == "in" else (test.value,)
    if vendor == "postgresql":
        number = sql("CAST({} AS numeric)", text)
        cast = "CAST({} AS numeric)"
        values = tuple(repr(v) for v in values)
    else:
        number, cast = text, "{}"
    if test.op == "in":
        marks = ", ".join([cast] * len(values))
        return sql(f"{{}} IN ({marks})", number, *values)
    return sql(f"{{}} {COMPARE[test.op]} {cast}", number, values[0])


def _day_test(text: Fragment, test: Test, vendor: str) -> Fragment:
    month, day = sql("substr({}, 6, 2)", text), sql("substr({}, 9, 2)", text)
    ranges = sql("{} BETWEEN '01' AND '12' AND {} BETWEEN '01' AND '31'", month, day)
    if vendor == "postgresql":
        shape = sql("{} ~ {}", text, DAY_REGEX)
        prefix = sql('substr({}, 1, 10) COLLATE "C"', text)
    else:
        shape = sql(
            "({} GLOB {} OR {} GLOB {})", text, DAY_GLOB, text, DAY_GLOB + "[T ]*"
        )
        prefix = sql("substr({}, 1, 10)", text)
    compare = sql(f"{{}} {COMPARE[test.op]} {{}}", prefix, test.value)
    return sql("({} AND {} AND {})", shape, ranges, compare)
