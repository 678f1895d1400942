"""The condition engine: plain specs with no Django models, so every evaluator
(Python, SQL) can be tested against the same cases.

    parse_rule(json) -> RuleSpec      checks shape and types, names each fault
    plan(spec, now) -> Node           reduces operators to primitive tests
    matches(node, facts) -> bool      the Python evaluator, for one customer
    compile_q(node, sources) -> Q     the SQL compiler, for sets of customers
"""

from .evaluate import EventFacts, Facts, matches
from .plan import Dependencies, Node, dependencies, plan
from .spec import (
    OPERATORS,
    AnyCondition,
    ConditionSpec,
    EventConditionSpec,
    Match,
    RuleSpec,
    RuleSpecError,
    SegmentConditionSpec,
    condition_from_row,
    condition_to_row,
    parse_rule,
    rule_to_dict,
)
from .sql import Sources, compile_event_q, compile_q

__all__ = [
    "OPERATORS",
    "AnyCondition",
    "ConditionSpec",
    "Dependencies",
    "EventConditionSpec",
    "EventFacts",
    "Facts",
    "Match",
    "Node",
    "RuleSpec",
    "RuleSpecError",
    "SegmentConditionSpec",
    "Sources",
    "compile_event_q",
    "compile_q",
    "condition_from_row",
    "condition_to_row",
    "dependencies",
    "matches",
    "parse_rule",
    "plan",
    "rule_to_dict",
]
