"""The condition engine: plain specs with no Django models, so every evaluator
(Python, SQL) can be tested against the same cases."""

from .spec import (
    OPERATORS,
    ConditionSpec,
    Match,
    RuleSpec,
    RuleSpecError,
    parse_rule,
    rule_to_dict,
)

__all__ = [
    "OPERATORS",
    "ConditionSpec",
    "Match",
    "RuleSpec",
    "RuleSpecError",
    "parse_rule",
    "rule_to_dict",
]
