"""Health as metrics for condition trees: segments such as "health band is red" or "usage
pillar below 40", flow triggers, campaign audiences (see kizuna.core.conditions.metrics).

Today they read the current score (HealthScore); on a past day (a backtest, a segment's
history) the snapshot of that day (HealthSnapshot).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pydantic
from django.db.models import CharField, FloatField, OuterRef, Subquery, Value
from django.db.models.fields.json import KT
from django.db.models.functions import Cast, NullIf
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from kizuna.core.conditions.metrics import Context, Metric, Params, ValueType, register
from kizuna.health.choices import Band
from kizuna.health.definition import KEY_PATTERN, label_of
from kizuna.health.models import HealthScore, HealthSnapshot, Scorecard, ScorecardVersion

HEALTH = _("Health")


def _rows(ctx: Context) -> Any:
    if ctx.is_today:
        return HealthScore.objects.filter(account=OuterRef("pk"))
    return HealthSnapshot.objects.filter(account=OuterRef("pk"), day=ctx.today)


def _group_keys() -> dict[str, str]:
    """Group keys of the scorecards' current versions, with a label (one query)."""
    keys: dict[str, str] = {}
    definitions = ScorecardVersion.objects.filter(
        pk__in=Scorecard.objects.values("current_version")
    ).values_list("definition", flat=True)
    for definition in definitions:
        for group in (definition or {}).get("groups", []):
            key = group.get("key")
            if isinstance(key, str) and key not in keys:
                keys[key] = label_of(group.get("label_ja", ""), group.get("label_en", ""), key)
    return keys


class ScoreParams(Params):
    group: str | None = pydantic.Field(default=None, max_length=40, pattern=KEY_PATTERN)


@register
class HealthScoreMetric(Metric):
    """The health score, 0–100, or one group's (pillar's) score. NULL when the account has
    no score (no scorecard fits, or no measure had data)."""

    key = "health.score"
    label = _("Health score")
    category = HEALTH
    Params = ScoreParams
    historical = True
    depends_on = frozenset({"health"})

    def value_type(self, params: Any) -> ValueType:
        return ValueType.NUMBER

    def expression(self, params: ScoreParams, ctx: Context) -> Any:
        rows = _rows(ctx)
        if params.group:
            rows = rows.annotate(value=Cast(KT(f"groups__{params.group}"), FloatField()))
            return Subquery(rows.values("value")[:1], output_field=FloatField())
        return Subquery(rows.values("score")[:1], output_field=FloatField())

    def check(self, params: ScoreParams) -> None:
        if params.group and params.group not in _group_keys():
            raise ValueError(gettext("No scorecard has a group “%s”.") % params.group)

    def describe(self, params: ScoreParams) -> str:
        if params.group:
            name = _group_keys().get(params.group, params.group)
            return gettext("Health score of “%s”") % name
        return str(self.label)


@register
class HealthBand(Metric):
    """The band: red, yellow or green. NULL when the account has no score."""

    key = "health.band"
    label = _("Health band")
    category = HEALTH
    historical = True
    depends_on = frozenset({"health"})

    def value_type(self, params: Any) -> ValueType:
        return ValueType.CHOICE

    def expression(self, params: Any, ctx: Context) -> Any:
        band = _rows(ctx).values("band")[:1]
        return NullIf(
            Subquery(band, output_field=CharField()), Value(Band.NONE), output_field=CharField()
        )

    def choices(self, params: Any) -> Sequence[tuple[str, str]]:
        return [(value, str(label)) for value, label in Band.choices if value != Band.NONE]
