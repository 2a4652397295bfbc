"""Condition trees: validated JSON, compiled to one query over all accounts, or evaluated for
one account with an explanation.

The shape (stored in JSON columns of segments, tier and stage rules, flows, campaigns)::

    {"and": [
        {"metric": "usage.login_rate", "params": {"days": 30}, "op": "lt", "value": 30},
        {"or": [
            {"metric": "account.tier", "op": "in", "value": ["high", "low"]},
            {"not": {"metric": "segment.member", "params": {"segment": 4}, "op": "is_true"}}
        ]}
    ]}

A node is exactly one of ``and`` (a list of nodes), ``or`` (a list of nodes), ``not`` (one
node) or a leaf: a registered metric, its parameters, an operator allowed for the metric's
value type and the value(s) it compares with. ``{"and": []}`` matches every account.

Logic is two-valued: a leaf whose metric has no value for an account (NULL) is false for
every operator except ``empty``, and ``not`` of it is true — the same in SQL (each leaf is
compiled with an explicit NULL guard) and in Python.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pydantic
from django.db.models import Q, QuerySet
from django.utils.translation import gettext as _

from kizuna.core.conditions import metrics
from kizuna.core.conditions.metrics import Context, Metric, ValueType

# Operators per value type, with the number of values each takes ("one", "two", "list",
# "none").
OPERATORS: dict[ValueType, dict[str, str]] = {
    ValueType.NUMBER: {
        "eq": "one",
        "ne": "one",
        "gt": "one",
        "gte": "one",
        "lt": "one",
        "lte": "one",
        "between": "two",
        "empty": "none",
        "not_empty": "none",
    },
    ValueType.TEXT: {
        "eq": "one",
        "ne": "one",
        "contains": "one",
        "not_contains": "one",
        "in": "list",
        "not_in": "list",
        "empty": "none",
        "not_empty": "none",
    },
    ValueType.CHOICE: {
        "in": "list",
        "not_in": "list",
        "empty": "none",
        "not_empty": "none",
    },
    ValueType.BOOLEAN: {"is_true": "none", "is_false": "none"},
}

MAX_DEPTH = 8
MAX_LEAVES = 50


class ConditionError(ValueError):
    """An invalid tree. `path` says where, e.g. ``and[1].or[0].value``."""

    def __init__(self, path: str, message: str) -> None:
        self.path = path
        self.message = message
        super().__init__(f"{path}: {message}" if path else message)


@dataclass(frozen=True)
class Leaf:
    path: str
    metric: Metric
    params: Any
    op: str
    value: Any

    def describe(self) -> str:
        return self.metric.describe(self.params)


@dataclass(frozen=True)
class Group:
    path: str
    kind: str  # "and", "or", "not"
    children: tuple[Node, ...]


type Node = Leaf | Group


@dataclass(frozen=True)
class Condition:
    """A parsed, valid tree."""

    root: Node
    source: Mapping[str, Any]

    def leaves(self) -> list[Leaf]:
        found: list[Leaf] = []

        def walk(node: Node) -> None:
            if isinstance(node, Leaf):
                found.append(node)
            else:
                for child in node.children:
                    walk(child)

        walk(self.root)
        return found

    def depends_on(self) -> frozenset[str]:
        kinds: set[str] = set()
        for leaf in self.leaves():
            kinds |= leaf.metric.depends_on
        return frozenset(kinds)

    def references(self) -> set[tuple[str, int]]:
        found: set[tuple[str, int]] = set()
        for leaf in self.leaves():
            found |= leaf.metric.references(leaf.params)
        return found


EVERYTHING: dict[str, Any] = {"and": []}


def parse(tree: Any, *, check: bool = True) -> Condition:
    """Validate a tree and return it parsed. Raises ConditionError naming where it is wrong.

    `check` runs the metrics' database checks (the custom field or segment exists)."""
    counter = [0]
    root = _parse(tree, "", 0, counter, check)
    return Condition(root=root, source=tree)


def _join(path: str, part: str) -> str:
    return f"{path}.{part}" if path else part


def _parse(node: Any, path: str, depth: int, counter: list[int], check: bool) -> Node:
    if depth > MAX_DEPTH:
        raise ConditionError(
            path, _("Conditions are nested too deeply (at most %d levels).") % MAX_DEPTH
        )
    if not isinstance(node, dict):
        raise ConditionError(path, _("A condition must be an object."))
    for kind in ("and", "or"):
        if kind in node:
            if len(node) != 1:
                raise ConditionError(path, _("“%s” cannot be combined with other keys.") % kind)
            children = node[kind]
            if not isinstance(children, list):
                raise ConditionError(_join(path, kind), _("Expected a list of conditions."))
            return Group(
                path=path,
                kind=kind,
                children=tuple(
                    _parse(child, f"{_join(path, kind)}[{index}]", depth + 1, counter, check)
                    for index, child in enumerate(children)
                ),
            )
    if "not" in node:
        if len(node) != 1:
            raise ConditionError(path, _("“not” cannot be combined with other keys."))
        return Group(
            path=path,
            kind="not",
            children=(_parse(node["not"], _join(path, "not"), depth + 1, counter, check),),
        )
    counter[0] += 1
    if counter[0] > MAX_LEAVES:
        raise ConditionError(path, _("A tree has at most %d conditions.") % MAX_LEAVES)
    return _parse_leaf(node, path, check)


def _parse_leaf(node: dict[str, Any], path: str, check: bool) -> Leaf:
    unknown = set(node) - {"metric", "params", "op", "value"}
    if unknown:
        raise ConditionError(
            path, _("Unknown key(s): %s.") % ", ".join(sorted(str(key) for key in unknown))
        )
    key = node.get("metric")
    if not isinstance(key, str) or not key:
        raise ConditionError(
            path, _("A condition needs “and”, “or”, “not”, or a “metric” to compare.")
        )
    metric = metrics.get(key)
    if metric is None:
        raise ConditionError(_join(path, "metric"), _("Unknown metric “%s”.") % key)
    try:
        params = metric.parse(node.get("params"))
    except pydantic.ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"])
        raise ConditionError(
            _join(_join(path, "params"), where) if where else _join(path, "params"),
            _("Invalid parameter: %s.") % first["msg"],
        ) from exc
    if check:
        try:
            metric.check(params)
        except ValueError as exc:
            raise ConditionError(_join(path, "params"), str(exc)) from exc
    value_type = metric.value_type(params)
    op = node.get("op")
    allowed = OPERATORS[value_type]
    if op not in allowed:
        raise ConditionError(
            _join(path, "op"),
            _("Operator “%(op)s” does not apply to %(type)s values; use one of: %(ops)s.")
            % {"op": op, "type": value_type.value, "ops": ", ".join(allowed)},
        )
    value = _parse_value(metric, params, value_type, allowed[op], node.get("value"), path)
    return Leaf(path=path, metric=metric, params=params, op=op, value=value)


def _number(raw: Any, path: str) -> Decimal:
    if isinstance(raw, bool) or not isinstance(raw, int | float | str | Decimal):
        raise ConditionError(path, _("Expected a number."))
    try:
        number = Decimal(str(raw).strip())
    except ArithmeticError as exc:
        raise ConditionError(path, _("Expected a number.")) from exc
    if not number.is_finite():
        raise ConditionError(path, _("Expected a number."))
    return number


def _scalar(metric: Metric, params: Any, value_type: ValueType, raw: Any, path: str) -> Any:
    if value_type is ValueType.NUMBER:
        return _number(raw, path)
    if not isinstance(raw, str):
        raise ConditionError(path, _("Expected text."))
    if value_type is ValueType.CHOICE:
        known = {value for value, _label in metric.choices(params)}
        if raw not in known:
            raise ConditionError(
                path,
                _("“%(value)s” is not one of: %(known)s.")
                % {"value": raw, "known": ", ".join(sorted(known))},
            )
    return raw


def _parse_value(
    metric: Metric, params: Any, value_type: ValueType, arity: str, raw: Any, path: str
) -> Any:
    where = _join(path, "value")
    if arity == "none":
        if raw not in (None, "", []):
            raise ConditionError(where, _("This operator takes no value."))
        return None
    if arity == "one":
        if raw is None or raw == "":
            raise ConditionError(where, _("A value is required."))
        return _scalar(metric, params, value_type, raw, where)
    if not isinstance(raw, list) or not raw:
        raise ConditionError(where, _("Expected a list of values."))
    values = [
        _scalar(metric, params, value_type, item, f"{where}[{i}]") for i, item in enumerate(raw)
    ]
    if arity == "two":
        if len(values) != 2:
            raise ConditionError(
                where, _("“between” takes two values: the lowest and the highest.")
            )
        if values[0] > values[1]:
            raise ConditionError(where, _("The first value must not be above the second."))
    return tuple(values)


# --- Compiling to one query over all accounts -------------------------------------------------


@dataclass
class Compiled:
    """Annotations to add with ``queryset.alias(**aliases)`` and the filter to apply."""

    aliases: dict[str, Any]
    q: Q

    def apply[T: QuerySet[Any]](self, queryset: T) -> T:
        return queryset.alias(**self.aliases).filter(self.q)


def _leaf_q(name: str, op: str, value: Any) -> Q:
    present = Q(**{f"{name}__isnull": False})
    match op:
        case "empty":
            return Q(**{f"{name}__isnull": True})
        case "not_empty":
            return present
        case "is_true":
            return present & Q(**{name: True})
        case "is_false":
            return present & Q(**{name: False})
        case "eq" | "gt" | "gte" | "lt" | "lte":
            lookup = "exact" if op == "eq" else op
            return present & Q(**{f"{name}__{lookup}": value})
        case "ne":
            return present & ~Q(**{f"{name}__exact": value})
        case "between":
            return present & Q(**{f"{name}__gte": value[0], f"{name}__lte": value[1]})
        case "contains":
            return present & Q(**{f"{name}__icontains": value})
        case "not_contains":
            return present & ~Q(**{f"{name}__icontains": value})
        case "in":
            return present & Q(**{f"{name}__in": list(value)})
        case "not_in":
            return present & ~Q(**{f"{name}__in": list(value)})
    raise AssertionError(op)


def compile_condition(condition: Condition, ctx: Context, *, prefix: str = "c") -> Compiled:
    """The tree as aliases (one expression per leaf) and a Q over them."""
    aliases: dict[str, Any] = {}

    def build(node: Node) -> Q:
        if isinstance(node, Leaf):
            name = f"{prefix}{len(aliases)}"
            aliases[name] = node.metric.expression(node.params, ctx)
            return _leaf_q(name, node.op, node.value)
        parts = [build(child) for child in node.children]
        if node.kind == "not":
            return ~parts[0]
        if not parts:
            # An empty "and" is true; an empty "or" is false. (Not Q(): Django drops an
            # empty Q from an OR, which would turn "x or true" into "x".)
            return Q(pk__isnull=False) if node.kind == "and" else Q(pk__in=[])
        combined = parts[0]
        for part in parts[1:]:
            combined = combined & part if node.kind == "and" else combined | part
        return combined

    q = build(condition.root)
    return Compiled(aliases=aliases, q=q)


def matching[T: QuerySet[Any]](condition: Condition, queryset: T, ctx: Context | None = None) -> T:
    """The accounts of `queryset` that match (one query when evaluated)."""
    return compile_condition(condition, ctx or Context.now()).apply(queryset)


# --- Evaluating for one account, with the explanation -----------------------------------------


@dataclass(frozen=True)
class LeafOutcome:
    path: str
    description: str
    op: str
    expected: Any
    value: Any
    matched: bool


@dataclass(frozen=True)
class Evaluation:
    matched: bool
    leaves: tuple[LeafOutcome, ...]


def _compare(op: str, value: Any, expected: Any) -> bool:
    if op == "empty":
        return value is None
    if value is None:
        return False
    if isinstance(value, bool) or op in ("is_true", "is_false"):
        return bool(value) is (op == "is_true")
    if isinstance(value, int | float | Decimal) and not isinstance(value, bool):
        value = Decimal(str(value))
    match op:
        case "not_empty":
            return True
        case "eq":
            return bool(value == expected)
        case "ne":
            return bool(value != expected)
        case "gt":
            return bool(value > expected)
        case "gte":
            return bool(value >= expected)
        case "lt":
            return bool(value < expected)
        case "lte":
            return bool(value <= expected)
        case "between":
            return bool(expected[0] <= value <= expected[1])
        case "contains":
            return str(expected).casefold() in str(value).casefold()
        case "not_contains":
            return str(expected).casefold() not in str(value).casefold()
        case "in":
            return value in expected
        case "not_in":
            return value not in expected
    raise AssertionError(op)


def leaf_values(
    condition: Condition, account_ids: Iterable[int], ctx: Context, queryset: QuerySet[Any]
) -> dict[int, list[Any]]:
    """Each leaf's value for each of the accounts, read with one query."""
    leaves = condition.leaves()
    names = {
        f"v{index}": leaf.metric.expression(leaf.params, ctx) for index, leaf in enumerate(leaves)
    }
    rows = queryset.filter(pk__in=list(account_ids)).annotate(**names).values_list("pk", *names)
    return {row[0]: _normalise(list(row[1:]), leaves) for row in rows}


def _normalise(values: list[Any], leaves: Sequence[Leaf]) -> list[Any]:
    normal: list[Any] = []
    for value, leaf in zip(values, leaves, strict=True):
        if leaf.metric.value_type(leaf.params) is ValueType.BOOLEAN and value is not None:
            value = bool(value)
        elif isinstance(value, datetime.date | datetime.datetime):
            value = value.isoformat()
        normal.append(value)
    return normal


def evaluate(
    condition: Condition,
    account_id: int,
    ctx: Context | None = None,
    *,
    values: Sequence[Any] | None = None,
    queryset: QuerySet[Any] | None = None,
) -> Evaluation:
    """Whether one account matches, and why: each leaf with the value it saw.

    The values are read with one query (the same expressions the compiled query uses), or
    taken from `values` (one per leaf, in order) when the caller already has them — a flow
    that reacts to an event, say. The logic runs here, in memory."""
    ctx = ctx or Context.now()
    leaves = condition.leaves()
    if values is None:
        if queryset is None:
            from kizuna.customers.models import Account

            queryset = Account.objects.all()
        found = leaf_values(condition, [account_id], ctx, queryset)
        values = found.get(account_id, [None] * len(leaves))
    by_path = {leaf.path: value for leaf, value in zip(leaves, values, strict=True)}
    outcomes: list[LeafOutcome] = []

    def run(node: Node) -> bool:
        if isinstance(node, Leaf):
            value = by_path[node.path]
            matched = _compare(node.op, value, node.value)
            outcomes.append(
                LeafOutcome(node.path, node.describe(), node.op, node.value, value, matched)
            )
            return matched
        results = [run(child) for child in node.children]  # every leaf, for the explanation
        if node.kind == "not":
            return not results[0]
        return all(results) if node.kind == "and" else any(results)

    return Evaluation(matched=run(condition.root), leaves=tuple(outcomes))


# Called by the builder UI and the API to describe operators in people's words.
def operator_labels() -> dict[str, str]:
    return {
        "eq": _("is"),
        "ne": _("is not"),
        "gt": _("is more than"),
        "gte": _("is at least"),
        "lt": _("is less than"),
        "lte": _("is at most"),
        "between": _("is between"),
        "empty": _("has no value"),
        "not_empty": _("has a value"),
        "contains": _("contains"),
        "not_contains": _("does not contain"),
        "in": _("is one of"),
        "not_in": _("is none of"),
        "is_true": _("is yes"),
        "is_false": _("is no"),
    }
