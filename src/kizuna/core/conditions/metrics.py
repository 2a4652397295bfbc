"""Metrics: the one place that says what a figure about an account *is*.

A metric is a value per account — ARR, logins in the last N days, the last touchpoint's
rating, a custom field, the health band — with typed parameters. It is defined once, as a
SQL expression correlated to the account row (`expression`), so that:

- a condition tree over all accounts compiles to one query (segments, tiers, stage rules,
  flow triggers, campaign audiences);
- a scorecard computes every measure of every account in one INSERT … SELECT;
- the same expression, filtered to one account, gives the value a condition or a measure
  saw for that account — the explanation is the computation, not a second implementation.

Apps register their metrics in a `metrics.py` module (imported when Django starts, see
`autodiscover`). Keys are namespaced by the app: ``usage.logins``, ``subscription.arr``.

Parameters are a pydantic model per metric (`Params`), so a tree is validated with messages
that name the parameter. Every metric takes a `Context`: the day it is evaluated for. A
backtest evaluates at past days; metrics that cannot look into the past say so
(`historical = False`) and then give today's value, which the backtest reports.
"""

from __future__ import annotations

import datetime
import enum
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar

import pydantic
from django.db.models import Expression, Func
from django.db.models.fields import IntegerField
from django.utils import timezone
from django.utils.functional import Promise


class ValueType(enum.StrEnum):
    NUMBER = "number"
    TEXT = "text"
    CHOICE = "choice"
    BOOLEAN = "boolean"


@dataclass(frozen=True)
class Context:
    """When a condition or measure is evaluated. `today` is a date in Kizuna's time zone;
    windows ("the last 30 days") end on it."""

    today: datetime.date
    # Event names that count as a login; filled by the usage app when it is evaluated.
    extra: dict[str, Any] = field(default_factory=dict, compare=False, hash=False)

    @classmethod
    def now(cls) -> Context:
        return cls(today=timezone.localdate())

    @property
    def is_today(self) -> bool:
        return self.today >= timezone.localdate()


class NoParams(pydantic.BaseModel):
    model_config = pydantic.ConfigDict(extra="forbid")


class Params(pydantic.BaseModel):
    """Base of metric parameter schemas: unknown keys are refused."""

    model_config = pydantic.ConfigDict(extra="forbid", str_strip_whitespace=True)


class Metric:
    """A value per account. Subclasses set the class attributes and `expression`."""

    key: ClassVar[str]
    label: ClassVar[str | Promise]
    # The group the builder lists it under (Account, Subscription, Usage, …).
    category: ClassVar[str | Promise]
    Params: ClassVar[type[pydantic.BaseModel]] = NoParams
    # Whether the value can be computed as of a past day (for backtests).
    historical: ClassVar[bool] = True
    # What kind of data moves the value: recomputation after a change of that kind only
    # looks at conditions and measures that depend on it.
    depends_on: ClassVar[frozenset[str]] = frozenset({"account"})
    # Shown after a number: "days", "%", "¥".
    unit: ClassVar[str | Promise] = ""
    # Labels of parameters in the condition builder, where the name alone says too little
    # (see kizuna.core.conditions.catalogue for the common ones: days, event, kind…).
    param_labels: ClassVar[Mapping[str, str | Promise]] = {}

    def value_type(self, params: Any) -> ValueType:
        raise NotImplementedError

    def expression(self, params: Any, ctx: Context) -> Expression | Any:
        """A SQL expression of the value, correlated to the account row (``OuterRef("pk")``
        inside subqueries). NULL means "no value" (no contract, never seen, field empty)."""
        raise NotImplementedError

    def choices(self, params: Any) -> Sequence[tuple[str, str]]:
        """The values a CHOICE metric takes, as (value, label)."""
        return ()

    def describe(self, params: Any) -> str:
        """The metric with its parameters, for people: "Logins in the last 30 days"."""
        return str(self.label)

    def check(self, params: Any) -> None:
        """Checks that need the database (the custom field exists, the segment exists);
        raise ValueError with a message for people."""

    def param_choices(self, name: str) -> Sequence[tuple[str, str]] | None:
        """The values parameter `name` may take, as (value, label), when they come from the
        database or need people's labels (custom fields, segments): the builder offers them
        as a list. None: taken from the Params schema (an enum or Literal), or typed in."""
        return None

    def references(self, params: Any) -> set[tuple[str, int]]:
        """Other configured objects the value reads, e.g. {("segment", 3)}: used to refuse
        cycles between segments."""
        return set()

    def parse(self, raw: Any) -> Any:
        return self.Params.model_validate(raw if raw is not None else {})


_REGISTRY: dict[str, Metric] = {}


def register[M: type[Metric]](cls: M) -> M:
    """Class decorator: make a metric available to every condition tree and scorecard."""
    if cls.key in _REGISTRY and type(_REGISTRY[cls.key]) is not cls:
        raise RuntimeError(f"Two metrics are registered as {cls.key!r}.")
    _REGISTRY[cls.key] = cls()
    return cls


def get(key: str) -> Metric | None:
    return _REGISTRY.get(key)


def all_metrics() -> Iterator[Metric]:
    yield from sorted(_REGISTRY.values(), key=lambda metric: metric.key)


def autodiscover() -> None:
    """Import every installed Kizuna app's `metrics` module (called from CoreConfig.ready)."""
    from django.utils.module_loading import autodiscover_modules

    autodiscover_modules("metrics")


class DaysBetween(Func):
    """Whole days from `start` to `end` (date expressions): positive when `start` is
    earlier, NULL when either is NULL."""

    output_field = IntegerField()
    arity = 2

    def __init__(self, start: Any, end: Any, **extra: Any) -> None:
        super().__init__(start, end, **extra)

    def _parts(self, compiler: Any, connection: Any) -> tuple[str, str, list[Any]]:
        start, end = self.get_source_expressions()
        start_sql, start_params = compiler.compile(start)
        end_sql, end_params = compiler.compile(end)
        # The SQL reads "end - start": parameters in that order.
        return start_sql, end_sql, [*end_params, *start_params]

    def as_sqlite(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        start, end, params = self._parts(compiler, connection)
        return f"CAST(julianday(date({end})) - julianday(date({start})) AS INTEGER)", params

    def as_postgresql(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        start, end, params = self._parts(compiler, connection)
        return f"(({end})::date - ({start})::date)", params
