"""Milestones as metrics, so segments, flow triggers, campaign audiences and health
scorecards can use them (see kizuna.core.conditions.metrics):

- ``milestone.reached`` (param ``milestone``: its id) — yes/no, has the account reached it;
- ``milestone.overdue_count`` — milestones of the account's current stage past their due
  day and not reached;
- ``milestone.progress`` — % of the current stage's enabled milestones reached (no value
  when the stage has none).

They read the rows the "milestones" recompute step keeps (order 25, so health, order 30,
sees this pass's ticks).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pydantic
from django.db.models import (
    Count,
    Exists,
    ExpressionWrapper,
    FloatField,
    IntegerField,
    OuterRef,
    Subquery,
    Value,
)
from django.db.models.functions import Cast, Coalesce, NullIf
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from kizuna.core.conditions.metrics import Context, Metric, Params, ValueType, register
from kizuna.customers.choices import LifecycleStage
from kizuna.milestones.models import AccountMilestone, Milestone

MILESTONES = _("Milestones")


class MilestoneParams(Params):
    milestone: int = pydantic.Field(ge=1, le=2**63 - 1)


def _count(rows: Any) -> Any:
    counted = rows.order_by().values("account").annotate(n=Count("pk")).values("n")
    return Coalesce(Subquery(counted, output_field=IntegerField()), Value(0))


@register
class MilestoneReached(Metric):
    """Whether the account has reached the milestone; on a past day, whether it had by the
    end of that day."""

    key = "milestone.reached"
    label = _("Milestone reached")
    category = MILESTONES
    Params = MilestoneParams
    historical = True
    depends_on = frozenset({"milestone"})

    def value_type(self, params: Any) -> ValueType:
        return ValueType.BOOLEAN

    def expression(self, params: MilestoneParams, ctx: Context) -> Any:
        rows = AccountMilestone.objects.filter(
            account=OuterRef("pk"), milestone_id=params.milestone, reached_on__isnull=False
        )
        if not ctx.is_today:
            rows = rows.filter(reached_on__lte=ctx.today)
        return Exists(rows)

    def check(self, params: MilestoneParams) -> None:
        if not Milestone.objects.filter(pk=params.milestone).exists():
            raise ValueError(gettext("There is no milestone with id %d.") % params.milestone)

    def param_choices(self, name: str) -> Sequence[tuple[str, str]] | None:
        if name != "milestone":
            return None
        stages = dict(LifecycleStage.choices)
        return [
            (str(pk), f"{stages.get(stage, stage)} · {label}")
            for pk, stage, label in Milestone.objects.order_by("stage", "order", "id").values_list(
                "pk", "stage", "name"
            )
        ]

    def references(self, params: MilestoneParams) -> set[tuple[str, int]]:
        return {("milestone", params.milestone)}

    def describe(self, params: MilestoneParams) -> str:
        name = Milestone.objects.filter(pk=params.milestone).values_list("name", flat=True).first()
        return gettext("Reached milestone «%s»") % (name or f"#{params.milestone}")


@register
class OverdueCount(Metric):
    """Enabled milestones of the account's current stage, not reached, whose due day (in
    this stay in the stage) has passed. 0 when none."""

    key = "milestone.overdue_count"
    label = _("Overdue milestones")
    category = MILESTONES
    # The stage the account was in on a past day is not read here.
    historical = False
    depends_on = frozenset({"milestone", "account"})

    def value_type(self, params: Any) -> ValueType:
        return ValueType.NUMBER

    def expression(self, params: Any, ctx: Context) -> Any:
        rows = AccountMilestone.objects.filter(
            account=OuterRef("pk"),
            milestone__enabled=True,
            milestone__stage=OuterRef("stage"),
            stage_entered_on=OuterRef("stage_entered_on"),
            reached_on__isnull=True,
            due_on__lt=ctx.today,
        )
        return _count(rows)


@register
class Progress(Metric):
    """% of the enabled milestones of the account's current stage it has reached. No value
    when its stage has no milestones."""

    key = "milestone.progress"
    label = _("Milestone progress")
    category = MILESTONES
    unit = "%"
    historical = False
    depends_on = frozenset({"milestone", "account"})

    def value_type(self, params: Any) -> ValueType:
        return ValueType.NUMBER

    def expression(self, params: Any, ctx: Context) -> Any:
        reached = _count(
            AccountMilestone.objects.filter(
                account=OuterRef("pk"),
                milestone__enabled=True,
                milestone__stage=OuterRef("stage"),
                reached_on__isnull=False,
            )
        )
        total = (
            Milestone.objects.filter(stage=OuterRef("stage"), enabled=True)
            .order_by()
            .values("stage")
            .annotate(n=Count("pk"))
            .values("n")
        )
        whole = Subquery(total, output_field=IntegerField())
        return ExpressionWrapper(
            Cast(reached, FloatField())
            * Value(100.0)
            / Cast(NullIf(whole, Value(0)), FloatField()),
            output_field=FloatField(),
        )
