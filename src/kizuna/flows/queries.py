"""Does a flow work? Its funnel, its steps, and its outcomes against the hold-out group.

Accounts held out (chosen at random when they met the trigger, recorded, never run) are the
comparison: the same trigger, the same moment, no flow. Each outcome is computed for both
groups in one grouped query:

- health change after 30 days: the health score 30 days after entering minus the score on
  the day of entering (the latest daily snapshot of the week up to each day; enrolments
  younger than 30 days wait);
- churned within 90 days: the account moved to the churned stage in the 90 days after;
- renewed / expanded: a won renewal / upsell or cross-sell opportunity closing in the 180
  days after.

The lift is treated minus hold-out, with a 95% interval (normal approximation: Wald for
rates, Welch for means). With fewer than `MIN_GROUP` accounts in a group there is no
interval, and the page says the data are not enough.
"""

from __future__ import annotations

import datetime
import math
from dataclasses import dataclass, field
from typing import Any

from django.db.models import (
    Avg,
    Case,
    Count,
    DateField,
    DateTimeField,
    Exists,
    ExpressionWrapper,
    F,
    FloatField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.db.models.functions import TruncDate
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from kizuna.flows.models import Enrolment, FlowVersion, StepRun, SuccessFlow

MIN_GROUP = 5
Z95 = 1.959964


@dataclass(frozen=True)
class Comparison:
    key: str
    label: str | Promise
    kind: str  # "rate" (share of accounts) or "mean" (points)
    treated_n: int
    treated: float | None
    holdout_n: int
    holdout: float | None
    lift: float | None
    low: float | None
    high: float | None

    @property
    def enough(self) -> bool:
        return self.low is not None

    def _shown(self, value: float | None, signed: bool = False) -> str:
        if value is None:
            return "—"
        if self.kind == "rate":
            return f"{value * 100:+.1f}%" if signed else f"{value * 100:.1f}%"
        return f"{value:+.1f}" if signed else f"{value:.1f}"

    @property
    def treated_shown(self) -> str:
        """Rates in %, score changes in points."""
        return self._shown(self.treated)

    @property
    def holdout_shown(self) -> str:
        return self._shown(self.holdout)

    @property
    def lift_shown(self) -> str:
        return self._shown(self.lift, signed=True)

    @property
    def interval_shown(self) -> str:
        return f"{self._shown(self.low, signed=True)} … {self._shown(self.high, signed=True)}"

    @property
    def significant(self) -> bool:
        return self.low is not None and self.high is not None and (self.low > 0 or self.high < 0)


@dataclass
class Results:
    entered: int = 0
    held_out: int = 0
    active: int = 0
    completed: int = 0
    exited: int = 0
    failed: int = 0
    steps: dict[str, dict[str, int]] = field(default_factory=dict)
    outcomes: list[Comparison] = field(default_factory=list)


def _rate_interval(p1: float, n1: int, p2: float, n2: int) -> tuple[float | None, float | None]:
    if n1 < MIN_GROUP or n2 < MIN_GROUP:
        return None, None
    se = math.sqrt(p1 * (1 - p1) / n1 + p2 * (1 - p2) / n2)
    diff = p1 - p2
    return diff - Z95 * se, diff + Z95 * se


def _mean_interval(
    m1: float, sq1: float, n1: int, m2: float, sq2: float, n2: int
) -> tuple[float | None, float | None]:
    if n1 < MIN_GROUP or n2 < MIN_GROUP:
        return None, None
    var1 = max(sq1 - m1 * m1, 0.0) * n1 / (n1 - 1)
    var2 = max(sq2 - m2 * m2, 0.0) * n2 / (n2 - 1)
    se = math.sqrt(var1 / n1 + var2 / n2)
    diff = m1 - m2
    return diff - Z95 * se, diff + Z95 * se


def _share(flag: str) -> Case:
    """1.0 when the flag is set, else 0.0: its average is the share of accounts."""
    return Case(
        When(**{flag: True}, then=Value(1.0)), default=Value(0.0), output_field=FloatField()
    )


def _shift(day: Any, days: int) -> ExpressionWrapper:
    return ExpressionWrapper(day + _days(days), output_field=DateField())


def _days(n: int) -> Any:
    return Value(datetime.timedelta(days=n))


def _outcome_rows(enrolments: QuerySet[Enrolment]) -> dict[bool, dict[str, Any]]:
    """Both groups' outcome aggregates in one query (grouped by hold-out)."""
    from kizuna.customers.choices import LifecycleStage, OpportunityKind, OpportunityStage
    from kizuna.customers.models import Opportunity
    from kizuna.health.models import HealthSnapshot
    from kizuna.lifecycle.models import StageChange

    today = timezone.localdate()
    entered = ExpressionWrapper(TruncDate("entered_at"), output_field=DateField())
    enrolments = enrolments.annotate(entered_day=entered)
    score_on = HealthSnapshot.objects.filter(account=OuterRef("account_id"))
    enrolments = enrolments.annotate(
        # The latest snapshot of the week up to each day (snapshots may skip days).
        score_then=Subquery(
            score_on.filter(
                day__lte=OuterRef("entered_day"), day__gt=_shift(OuterRef("entered_day"), -7)
            )
            .order_by("-day")
            .values("score")[:1]
        ),
        score_after=Subquery(
            score_on.filter(
                day__lte=_shift(OuterRef("entered_day"), 30),
                day__gt=_shift(OuterRef("entered_day"), 23),
            )
            .order_by("-day")
            .values("score")[:1]
        ),
        churned=Exists(
            StageChange.objects.filter(
                account=OuterRef("account_id"),
                to_stage=LifecycleStage.CHURNED,
                changed_at__gte=OuterRef("entered_at"),
                changed_at__lt=ExpressionWrapper(
                    OuterRef("entered_at") + _days(90), output_field=DateTimeField()
                ),
            )
        ),
        renewed=Exists(
            Opportunity.objects.filter(
                account=OuterRef("account_id"),
                kind=OpportunityKind.RENEWAL,
                stage=OpportunityStage.WON,
                close_date__gte=OuterRef("entered_day"),
                close_date__lt=ExpressionWrapper(
                    OuterRef("entered_day") + _days(180), output_field=DateField()
                ),
            )
        ),
        expanded=Exists(
            Opportunity.objects.filter(
                account=OuterRef("account_id"),
                kind__in=[OpportunityKind.UPSELL, OpportunityKind.CROSS_SELL],
                stage=OpportunityStage.WON,
                close_date__gte=OuterRef("entered_day"),
                close_date__lt=ExpressionWrapper(
                    OuterRef("entered_day") + _days(180), output_field=DateField()
                ),
            )
        ),
    ).annotate(
        change=ExpressionWrapper(F("score_after") - F("score_then"), output_field=FloatField())
    )
    old_enough = Q(entered_day__lte=today - datetime.timedelta(days=30))
    has_change = old_enough & Q(score_then__isnull=False, score_after__isnull=False)
    rows = (
        enrolments.values("holdout")
        .annotate(
            n=Count("id"),
            n_change=Count("id", filter=has_change),
            change_mean=Avg("change", filter=has_change),
            change_sq=Avg(F("change") * F("change"), filter=has_change),
            churn_rate=Avg(_share("churned")),
            renew_rate=Avg(_share("renewed")),
            expand_rate=Avg(_share("expanded")),
        )
        .order_by("holdout")
    )
    return {bool(row["holdout"]): dict(row) for row in rows}


def _comparisons(rows: dict[bool, dict[str, Any]]) -> list[Comparison]:
    treated, held = rows.get(False) or {}, rows.get(True) or {}
    found: list[Comparison] = []
    n_t, n_h = int(treated.get("n_change") or 0), int(held.get("n_change") or 0)
    m_t, m_h = treated.get("change_mean"), held.get("change_mean")
    low = high = lift = None
    if m_t is not None and m_h is not None:
        lift = float(m_t) - float(m_h)
        low, high = _mean_interval(
            float(m_t), float(treated["change_sq"]), n_t, float(m_h), float(held["change_sq"]), n_h
        )
    found.append(
        Comparison(
            "health_change",
            _("Health score change after 30 days"),
            "mean",
            n_t,
            None if m_t is None else float(m_t),
            n_h,
            None if m_h is None else float(m_h),
            lift,
            low,
            high,
        )
    )
    labels = (
        ("churn_rate", _("Churned within 90 days")),
        ("renew_rate", _("Renewed within 180 days")),
        ("expand_rate", _("Expanded within 180 days")),
    )
    for key, label in labels:
        n_t, n_h = int(treated.get("n") or 0), int(held.get("n") or 0)
        p_t, p_h = treated.get(key), held.get(key)
        low = high = lift = None
        if p_t is not None and p_h is not None:
            lift = float(p_t) - float(p_h)
            low, high = _rate_interval(float(p_t), n_t, float(p_h), n_h)
        found.append(
            Comparison(
                key,
                label,
                "rate",
                n_t,
                None if p_t is None else float(p_t),
                n_h,
                None if p_h is None else float(p_h),
                lift,
                low,
                high,
            )
        )
    return found


def results(flow: SuccessFlow) -> Results:
    """The flow's funnel, its per-step outcomes and its outcomes against the hold-out group
    (three queries)."""
    result = Results()
    counts = Enrolment.objects.filter(flow=flow).values("status").annotate(n=Count("id"))
    for row in counts:
        status, n = row["status"], int(row["n"])
        if status == "held_out":
            result.held_out = n
        else:
            result.entered += n
            setattr(result, status, n)
    steps = (
        StepRun.objects.filter(flow=flow)
        .values("step_id", "status", "outcome")
        .annotate(n=Count("id"))
        .order_by()
    )
    for row in steps:
        outcome = row["outcome"] or row["status"]
        per_step = result.steps.setdefault(row["step_id"], {})
        per_step[outcome] = per_step.get(outcome, 0) + int(row["n"])
    result.outcomes = _comparisons(_outcome_rows(Enrolment.objects.filter(flow=flow)))
    return result


def playbook_comparison(playbook_key: str) -> tuple[list[str], list[Comparison]]:
    """Does a playbook work? The accounts that got a CTA with it from a success flow,
    against the same flows' hold-out groups (accounts that met the trigger and got
    nothing). Returns the names of those flows and the comparisons (one query each)."""
    from kizuna.flows import engine
    from kizuna.flows.definition import ActionStep

    reached = Q(pk__in=[])
    held = Q(pk__in=[])
    names: list[str] = []
    for version in FlowVersion.objects.select_related("flow").order_by("flow__name", "number"):
        try:
            steps = [
                step.id
                for step in engine.definition_of(version).steps
                if isinstance(step, ActionStep)
                and step.action == "cta.create"
                and step.params.get("playbook") == playbook_key
            ]
        except ValueError:
            continue
        if not steps:
            continue
        if version.flow.name not in names:
            names.append(version.flow.name)
        reached |= Q(version=version, holdout=False, runs__step_id__in=steps, runs__outcome="done")
        held |= Q(version=version, holdout=True)
    if not names:
        return [], []
    enrolments = Enrolment.objects.filter(
        pk__in=Enrolment.objects.filter(reached | held).values("pk")
    )
    return names, _comparisons(_outcome_rows(enrolments))
