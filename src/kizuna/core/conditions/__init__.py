"""The one condition engine (STYLE.md §3): metrics defined once as SQL expressions, condition
trees over them validated from JSON, compiled to one query over all accounts or evaluated for
one account with an explanation. Segments, tiers, lifecycle rules, scorecards, flows and
campaigns all use it."""

from kizuna.core.conditions.metrics import (
    Context,
    DaysBetween,
    Metric,
    Params,
    ValueType,
    all_metrics,
    get,
    register,
)
from kizuna.core.conditions.tree import (
    EVERYTHING,
    OPERATORS,
    Compiled,
    Condition,
    ConditionError,
    Evaluation,
    Leaf,
    LeafOutcome,
    compile_condition,
    evaluate,
    leaf_values,
    matching,
    operator_labels,
    parse,
)

__all__ = [
    "EVERYTHING",
    "OPERATORS",
    "Compiled",
    "Condition",
    "ConditionError",
    "Context",
    "DaysBetween",
    "Evaluation",
    "Leaf",
    "LeafOutcome",
    "Metric",
    "Params",
    "ValueType",
    "all_metrics",
    "compile_condition",
    "evaluate",
    "get",
    "leaf_values",
    "matching",
    "operator_labels",
    "parse",
    "register",
]
