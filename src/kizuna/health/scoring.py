"""Scoring as one query over any set of accounts, for any day.

`score_queryset(version, accounts, ctx)` is an Account queryset annotated with each
measure's value, points and weight used, each group's score, the overall score and the
band, computed by the database for all the accounts at once. Nothing is written: the
nightly and incremental recompute insert its rows into `HealthScore` (services.py), the
scorecard editor previews a draft with it, and a backtest evaluates it at past days
(``Context(today=past_day)``), joined with what happened to the accounts.

The query is built in layers, each a subquery in FROM: the metric values (the expensive
correlated subqueries, each evaluated once per account), then the points, then the group
scores, then the score and band. Stacking them as annotations instead would paste every
value's subquery into every expression that uses it — dozens of times per account.
"""

from __future__ import annotations

import datetime
import functools
import operator
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from django.db import connections
from django.db.models import (
    BooleanField,
    Case,
    CharField,
    Expression,
    ExpressionWrapper,
    FloatField,
    OuterRef,
    QuerySet,
    Subquery,
    TextField,
    Value,
    When,
)
from django.db.models.expressions import Col
from django.db.models.fields import Field
from django.db.models.functions import Cast, Coalesce, NullIf, Round
from django.db.models.lookups import (
    Exact,
    GreaterThanOrEqual,
    IsNull,
    LessThan,
    LessThanOrEqual,
)
from django.db.models.sql.datastructures import BaseTable
from django.utils import timezone

from kizuna.core.conditions.metrics import Context, ValueType
from kizuna.customers.models import Account
from kizuna.health import definition as schema
from kizuna.health.models import MeasureOverride, ScorecardVersion

SCORE = "score"
BAND = "band"


def value_column(measure_key: str) -> str:
    """The annotation with the measure's value (NULL: no data)."""
    return f"v_{measure_key}"


def override_column(measure_key: str) -> str:
    """The annotation with a CSM's live override of the measure's points (or NULL)."""
    return f"o_{measure_key}"


def points_column(measure_key: str) -> str:
    """The annotation with the measure's points, 0–100 (the override when there is one)."""
    return f"p_{measure_key}"


def weight_column(measure_key: str) -> str:
    """The annotation with the measure's share of its group in %, after redistribution."""
    return f"w_{measure_key}"


def group_column(group_key: str) -> str:
    """The annotation with the group's score, 0–100 (NULL: none of its measures had data)."""
    return f"g_{group_key}"


@dataclass(frozen=True)
class Columns:
    """The names `score_queryset` annotates, for a definition."""

    values: dict[str, str]
    overrides: dict[str, str]
    points: dict[str, str]
    weights: dict[str, str]
    groups: dict[str, str]
    score: str = SCORE
    band: str = BAND

    def all(self) -> list[str]:
        return [
            *self.values.values(),
            *self.overrides.values(),
            *self.points.values(),
            *self.weights.values(),
            *self.groups.values(),
            self.score,
            self.band,
        ]


def columns(definition: schema.Definition) -> Columns:
    keys = [measure.key for _group, measure in definition.measures()]
    return Columns(
        values={key: value_column(key) for key in keys},
        overrides={key: override_column(key) for key in keys},
        points={key: points_column(key) for key in keys},
        weights={key: weight_column(key) for key in keys},
        groups={group.key: group_column(group.key) for group in definition.groups},
    )


# --- Subqueries in FROM -----------------------------------------------------------------------


def _fence(vendor: str) -> str:
    # Keeps the database from merging the layer into the query around it (which would copy
    # each value's subquery into every expression that reads it): OFFSET is the documented
    # optimisation fence on PostgreSQL, and SQLite never flattens a subquery with one.
    return " LIMIT -1 OFFSET 0" if vendor == "sqlite" else " OFFSET 0"


class DerivedTable(BaseTable):
    """The base table of a queryset, replaced by a subquery with the same columns (plus
    computed ones): ``FROM (SELECT …) "customers_account"``."""

    def __init__(self, table_name: str, alias: str, sql: str, params: Sequence[Any]) -> None:
        super().__init__(table_name, alias)
        self.sql = sql
        self.params = tuple(params)

    def as_sql(self, compiler: Any, connection: Any) -> tuple[str, tuple[Any, ...]]:
        alias = compiler.quote_name(self.table_alias)
        return f"({self.sql}{_fence(connection.vendor)}) {alias}", self.params

    def relabeled_clone(self, change_map: dict[str | None, str]) -> DerivedTable:
        alias = change_map.get(self.table_alias) or str(self.table_alias)
        return DerivedTable(self.table_name, alias, self.sql, self.params)

    @property
    def identity(self) -> tuple[Any, ...]:
        return (self.__class__, self.table_name, self.table_alias, self.sql, self.params)


ACCOUNT_COLUMNS = [field.attname for field in Account._meta.concrete_fields]


def _over(inner: QuerySet[Any]) -> tuple[QuerySet[Account], str]:
    """An Account queryset reading from `inner` (a `.values()` queryset with every account
    column) as its base table, and that table's alias."""
    sql, params = inner.query.sql_with_params()
    outer = Account.objects.using(inner.db).order_by()
    query = outer.query
    alias = query.get_initial_alias()
    assert alias is not None
    query.alias_map[alias] = DerivedTable(query.alias_map[alias].table_name, alias, sql, params)
    return outer, alias


def _field(name: str, kind: type[Field[Any, Any]]) -> Field[Any, Any]:
    field = kind()
    field.set_attributes_from_name(name)
    # Expressions identify a column by its model and name.
    field.model = Account
    return field


def _col(alias: str, name: str, kind: type[Field[Any, Any]] = FloatField) -> Col:
    return Col(alias, _field(name, kind))


def _carry(
    alias: str, names: Iterable[str], kinds: dict[str, type[Field[Any, Any]]]
) -> dict[str, Col]:
    """The columns of the layer below, annotated again so the next layer selects them."""
    return {name: _col(alias, name, kinds.get(name, FloatField)) for name in names}


def _float(expression: Any) -> ExpressionWrapper:
    return ExpressionWrapper(expression, output_field=FloatField())


def _rounded(expression: Any) -> Cast:
    # One decimal, the same on both databases (PostgreSQL rounds numeric, not float).
    return Cast(Round(_float(expression), 1), FloatField())


def _sum(parts: Iterable[Any]) -> ExpressionWrapper:
    return _float(functools.reduce(operator.add, parts))


# --- Mappings as SQL ------------------------------------------------------------------------------

_VALUE_FIELDS: dict[ValueType, type[Field[Any, Any]]] = {
    ValueType.NUMBER: FloatField,
    ValueType.TEXT: TextField,
    ValueType.CHOICE: TextField,
    ValueType.BOOLEAN: BooleanField,
}


def _points(mapping: Any, value: Col) -> Expression:
    """The 0–100 points of a value (NULL stays NULL), as a CASE over the value column."""
    if isinstance(mapping, schema.LinearMapping):
        low, high = mapping.from_, mapping.to
        number = Cast(value, FloatField())
        slope = 100.0 / (high - low)
        scaled = _float((number - Value(low)) * Value(slope))
        zero: Any
        full: Any
        if low < high:
            zero, full = (
                LessThanOrEqual(number, Value(low)),
                GreaterThanOrEqual(number, Value(high)),
            )
        else:
            zero, full = (
                GreaterThanOrEqual(number, Value(low)),
                LessThanOrEqual(number, Value(high)),
            )
        return Case(
            When(zero, then=Value(0.0)),
            When(full, then=Value(100.0)),
            default=scaled,
            output_field=FloatField(),
        )
    if isinstance(mapping, schema.BandsMapping):
        number = Cast(value, FloatField())
        bands = mapping.bands
        whens = [
            When(GreaterThanOrEqual(number, Value(band.min)), then=Value(band.points))
            for band in reversed(bands[1:])
        ]
        # Below every band: the first band's points (NULL matches no WHEN and stays NULL).
        whens.append(When(IsNull(number, False), then=Value(bands[0].points)))
        return Case(*whens, default=Value(None), output_field=FloatField())
    if isinstance(mapping, schema.ChoicesMapping):
        text = Cast(value, TextField())
        return Case(
            *[
                When(Exact(text, Value(choice)), then=Value(points))
                for choice, points in mapping.points.items()
            ],
            default=Value(None),
            output_field=FloatField(),
        )
    assert isinstance(mapping, schema.BooleanMapping)
    return Case(
        When(Exact(value, Value(True)), then=Value(mapping.true)),
        When(Exact(value, Value(False)), then=Value(mapping.false)),
        default=Value(None),
        output_field=FloatField(),
    )


def _end_of(day: datetime.date) -> datetime.datetime:
    return timezone.make_aware(
        datetime.datetime.combine(day + datetime.timedelta(days=1), datetime.time.min)
    )


def override_moment(ctx: Context) -> datetime.datetime:
    """The moment overrides are looked at: now today; the end of a past day in a backtest."""
    return timezone.now() if ctx.is_today else _end_of(ctx.today)


def live_override_keys(scorecard_id: int, moment: datetime.datetime) -> set[str]:
    """The measures of the scorecard with an override live at `moment` on any account (one
    query): only those get the override subquery."""
    return set(
        MeasureOverride.objects.filter(
            scorecard_id=scorecard_id, created_at__lte=moment, expires_at__gt=moment
        )
        .order_by()
        .values_list("measure_key", flat=True)
        .distinct()
    )


def _override(scorecard_id: int, measure_key: str, moment: datetime.datetime) -> Subquery:
    live = (
        MeasureOverride.objects.filter(
            account=OuterRef("pk"),
            scorecard_id=scorecard_id,
            measure_key=measure_key,
            created_at__lte=moment,
            expires_at__gt=moment,
        )
        .order_by("-created_at", "-id")
        .values("points")[:1]
    )
    return Subquery(live, output_field=FloatField())


# --- The queryset ---------------------------------------------------------------------------------


def definition_of(version: ScorecardVersion) -> schema.Definition:
    """The parsed definition of a version (saved ones were validated when saved)."""
    cached = getattr(version, "_parsed_definition", None)
    if cached is None:
        cached = schema.parse(version.definition, check=False)
        version._parsed_definition = cached  # type: ignore[attr-defined]
    return cached


def score_queryset(
    version: ScorecardVersion,
    accounts: QuerySet[Account],
    ctx: Context,
    *,
    overrides: bool = True,
) -> QuerySet[Any]:
    """`accounts` scored with `version` as of `ctx.today`, without writing anything.

    The result is an Account queryset (typed ``QuerySet[Any]`` so that its annotations can
    be named in `.values()` and `.filter()`) annotated with `score` (0–100, one decimal, NULL when
    no measure had data), `band` ("red", "yellow", "green", "none") and, per measure and
    group, the columns named by `columns(definition)`: ``v_<measure>`` (value),
    ``o_<measure>`` (live override), ``p_<measure>`` (points), ``w_<measure>`` (weight used,
    % of its group), ``g_<group>`` (group score). Filter `accounts` before calling: the
    scores are computed for every account it holds. `version` may be unsaved (a draft);
    overrides are read when it belongs to a saved scorecard and `overrides` is true (a
    backtest of a past day sees the overrides that were live at the end of that day). One
    query runs now (which measures have live overrides); the rest is the returned queryset.

    Example, a backtest: ``score_queryset(v, Account.objects.all(),
    Context(today=day)).values_list("pk", "score", "band")``.
    """
    definition = definition_of(version)
    names = columns(definition)
    pairs = definition.measures()

    # Layer 1: each measure's value (and live override), evaluated once per account.
    values: dict[str, Any] = {}
    value_fields: dict[str, type[Field[Any, Any]]] = {}
    moment = override_moment(ctx)
    overridden = (
        live_override_keys(version.scorecard_id, moment)
        if overrides and version.scorecard_id is not None
        else set()
    )
    for _group, measure in pairs:
        metric, params = schema.resolve(measure)
        values[names.values[measure.key]] = metric.expression(params, ctx)
        value_fields[measure.key] = _VALUE_FIELDS[metric.value_type(params)]
        values[names.overrides[measure.key]] = (
            _override(version.scorecard_id, measure.key, moment)
            if measure.key in overridden
            # Typed: an untyped NULL in a subquery's columns is text to PostgreSQL.
            else Cast(Value(None), FloatField())
        )
    layer = accounts.order_by().annotate(**values).values(*ACCOUNT_COLUMNS, *values)
    carried = list(values)
    kinds = {names.values[key]: kind for key, kind in value_fields.items()}

    # Layer 2: points, one decimal; an override replaces the computed points.
    base, alias = _over(layer)
    points = {
        names.points[measure.key]: _rounded(
            Coalesce(
                _col(alias, names.overrides[measure.key]),
                _points(
                    measure.mapping,
                    _col(alias, names.values[measure.key], value_fields[measure.key]),
                ),
            )
        )
        for _group, measure in pairs
    }
    layer = base.annotate(**_carry(alias, carried, kinds), **points).values(
        *ACCOUNT_COLUMNS, *carried, *points
    )
    carried += list(points)

    # Layer 3: group scores over the measures that have points, and the weight each used.
    base, alias = _over(layer)
    grouped: dict[str, Any] = {}
    for group in definition.groups:
        present = []
        weighted = []
        for measure in group.measures:
            column = _col(alias, names.points[measure.key])
            present.append(Coalesce(column * Value(0.0) + Value(measure.weight), Value(0.0)))
            weighted.append(Coalesce(column * Value(measure.weight), Value(0.0)))
        total = NullIf(_sum(present), Value(0.0))
        for measure in group.measures:
            column = _col(alias, names.points[measure.key])
            grouped[names.weights[measure.key]] = _rounded(
                (column * Value(0.0) + Value(measure.weight * 100.0)) / total
            )
        grouped[names.groups[group.key]] = _rounded(_sum(weighted) / total)
    layer = base.annotate(**_carry(alias, carried, kinds), **grouped).values(
        *ACCOUNT_COLUMNS, *carried, *grouped
    )
    carried += list(grouped)

    # Layer 4: the overall score over the groups that have one, and its band.
    base, alias = _over(layer)
    group_cols = [
        (_col(alias, names.groups[group.key]), group.weight) for group in definition.groups
    ]
    score = _rounded(
        _sum(Coalesce(column * Value(weight), Value(0.0)) for column, weight in group_cols)
        / NullIf(
            _sum(
                Coalesce(column * Value(0.0) + Value(weight), Value(0.0))
                for column, weight in group_cols
            ),
            Value(0.0),
        )
    )
    band = Case(
        When(IsNull(score, True), then=Value("none")),
        When(LessThan(score, Value(definition.bands.red_below)), then=Value("red")),
        When(GreaterThanOrEqual(score, Value(definition.bands.green_from)), then=Value("green")),
        default=Value("yellow"),
        output_field=CharField(),
    )
    scored: QuerySet[Any] = base.annotate(
        **_carry(alias, carried, kinds), **{SCORE: score, BAND: band}
    )
    return scored


def compile_sql(queryset: QuerySet[Any]) -> tuple[str, tuple[Any, ...]]:
    """The SQL and parameters of a queryset, for INSERT … SELECT."""
    sql, params = queryset.query.sql_with_params()
    return sql, tuple(params)


def vendor(queryset: QuerySet[Any]) -> str:
    return connections[queryset.db].vendor
