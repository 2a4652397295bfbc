"""Reading health: one account's score with its explanation and history, and the portfolio
figures of the health overview. Aggregates are GROUP BY queries over all accounts; the
explanation reads what the set-based computation stored (the same numbers, not a second
implementation)."""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db.models import (
    Count,
    F,
    FloatField,
    OuterRef,
    QuerySet,
    Subquery,
    Sum,
    Value,
)
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.formats import number_format
from django.utils.translation import gettext as _

from kizuna.core.conditions import metrics
from kizuna.customers.choices import LifecycleStage, Tier
from kizuna.customers.models import Account
from kizuna.health import definition as schema
from kizuna.health import scoring
from kizuna.health.choices import Band, Trend
from kizuna.health.models import (
    HealthScore,
    HealthSnapshot,
    MeasureOverride,
    Scorecard,
    ScorecardVersion,
)

HISTORY_DAYS = 90
COMPARE_DAYS = 7
# A score that moved less than this many points since last week is "flat".
TREND_THRESHOLD = 1.0
BAND_ORDER = [Band.RED, Band.YELLOW, Band.GREEN, Band.NONE]


def trend(now: float | None, then: float | None) -> str | None:
    if now is None or then is None:
        return None
    if now - then >= TREND_THRESHOLD:
        return Trend.UP
    if then - now >= TREND_THRESHOLD:
        return Trend.DOWN
    return Trend.FLAT


# --- One account --------------------------------------------------------------------------------


@dataclass(frozen=True)
class OverrideInfo:
    id: int
    points: float
    comment: str
    author: str
    created_at: datetime.datetime
    expires_at: datetime.datetime


@dataclass(frozen=True)
class MeasureLine:
    key: str
    label: str
    source: str  # the metric in words: "Login rate over the last 30 days (…)"
    value: Any
    value_text: str
    points: float | None
    weight: float  # as defined, % of the group
    weight_used: float | None  # after redistribution; None: no data
    computed_points: float | None  # what the data gave (differs when overridden)
    override: OverrideInfo | None
    points_then: float | None = None

    @property
    def no_data(self) -> bool:
        return self.points is None

    @property
    def delta(self) -> float | None:
        if self.points is None or self.points_then is None:
            return None
        return round(self.points - self.points_then, 1)


@dataclass(frozen=True)
class GroupLine:
    key: str
    label: str
    score: float | None
    weight: float
    weight_used: float | None
    measures: list[MeasureLine]
    score_then: float | None = None

    @property
    def trend(self) -> str | None:
        return trend(self.score, self.score_then)


@dataclass(frozen=True)
class Mover:
    """A measure whose points changed since last week, with its effect on the score."""

    measure: MeasureLine
    group: GroupLine
    delta: float
    impact: float  # points of the overall score


@dataclass(frozen=True)
class SinceLastWeek:
    day: datetime.date
    score: float | None
    band: str
    score_delta: float | None
    movers: list[Mover]
    version_changed: bool


@dataclass(frozen=True)
class HistoryPoint:
    day: datetime.date
    score: float | None
    band: str


@dataclass(frozen=True)
class Explanation:
    account_id: int
    score: float | None
    band: str
    computed_at: datetime.datetime | None
    error: str
    previous_band: str
    band_changed_at: datetime.datetime | None
    scorecard: Scorecard | None
    version: ScorecardVersion | None
    red_below: float | None
    green_from: float | None
    groups: list[GroupLine]
    since_last_week: SinceLastWeek | None
    trend: str | None
    history: list[HistoryPoint] = field(default_factory=list)

    @property
    def has_score(self) -> bool:
        return self.score is not None


def _number(value: Any, unit: str) -> str:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return str(value)
    digits = 0 if number == int(number) or abs(number) >= 100 else 1
    text = number_format(
        round(number, digits), decimal_pos=digits, use_l10n=True, force_grouping=True
    )
    if unit == "¥":
        return f"¥{text}"
    if unit == "%":
        return f"{text}%"
    return f"{text} {unit}" if unit else text


def format_value(measure: schema.Measure, value: Any) -> str:
    """The value as people read it: with the metric's unit, a choice's label, yes / no."""
    if value is None:
        return _("no data")
    kind = measure.mapping.kind
    metric = metrics.get(measure.metric.metric)
    if kind == "boolean":
        return _("yes") if value in (True, 1, "true") else _("no")
    if kind == "choices":
        if metric is not None:
            try:
                labels = dict(metric.choices(metric.parse(measure.metric.params)))
            except Exception:
                labels = {}
            return labels.get(str(value), str(value))
        return str(value)
    return _number(value, str(metric.unit) if metric is not None else "")


def describe(measure: schema.Measure) -> str:
    metric = metrics.get(measure.metric.metric)
    if metric is None:
        return measure.metric.metric
    try:
        return metric.describe(metric.parse(measure.metric.params))
    except Exception:
        return str(metric.label)


def _float(value: Any) -> float | None:
    return None if value is None else float(value)


def _group_lines(
    definition: schema.Definition,
    groups: dict[str, Any],
    measures: dict[str, Any],
    overrides: dict[str, OverrideInfo],
    then: HealthSnapshot | None,
) -> list[GroupLine]:
    present = sum(g.weight for g in definition.groups if groups.get(g.key) is not None)
    then_groups = (then.groups or {}) if then else {}
    then_measures = (then.measures or {}) if then else {}
    lines = []
    for group in definition.groups:
        score = _float(groups.get(group.key))
        measure_lines = []
        for measure in group.measures:
            stored = measures.get(measure.key) or {}
            override = overrides.get(measure.key) if stored.get("override") is not None else None
            value = stored.get("value")
            before = then_measures.get(measure.key) or {}
            measure_lines.append(
                MeasureLine(
                    key=measure.key,
                    label=measure.label(),
                    source=describe(measure),
                    value=value,
                    value_text=format_value(measure, value),
                    points=_float(stored.get("points")),
                    weight=measure.weight,
                    weight_used=_float(stored.get("weight_used")),
                    computed_points=_computed(measure, value),
                    override=override,
                    points_then=_float(before.get("points")) if then else None,
                )
            )
        lines.append(
            GroupLine(
                key=group.key,
                label=group.label(),
                score=score,
                weight=group.weight,
                weight_used=(
                    round(group.weight * 100 / present, 1)
                    if score is not None and present
                    else None
                ),
                measures=measure_lines,
                score_then=_float(then_groups.get(group.key)) if then else None,
            )
        )
    return lines


def _computed(measure: schema.Measure, value: Any) -> float | None:
    """The points the value gives by the mapping (the SQL's rule, for the one value shown
    next to an override)."""
    mapping = measure.mapping
    if value is None:
        return None
    if isinstance(mapping, schema.LinearMapping):
        number = float(value)
        low, high = mapping.from_, mapping.to
        share = (number - low) / (high - low)
        return round(min(max(share, 0.0), 1.0) * 100, 1)
    if isinstance(mapping, schema.BandsMapping):
        number = float(value)
        points = mapping.bands[0].points
        for band in mapping.bands:
            if number >= band.min:
                points = band.points
        return points
    if isinstance(mapping, schema.ChoicesMapping):
        return mapping.points.get(str(value))
    assert isinstance(mapping, schema.BooleanMapping)
    return mapping.true if value in (True, 1) else mapping.false


def _movers(groups: list[GroupLine]) -> list[Mover]:
    movers = []
    for group in groups:
        for measure in group.measures:
            delta = measure.delta
            if delta is None or delta == 0:
                continue
            share = (measure.weight_used or 0) / 100 * (group.weight_used or 0) / 100
            movers.append(Mover(measure, group, delta, round(delta * share, 1)))
    return sorted(movers, key=lambda mover: (-abs(mover.impact), -abs(mover.delta)))


def explain(account_id: int, today: datetime.date | None = None) -> Explanation:
    """Why the account has its score: the scorecard and version, each group's score and
    weight, each measure's value, points, weight used (or "no data"), override, and what
    changed since the snapshot a week ago; with 90 days of history for the trend chart.
    Three queries: the score, the snapshots, the live overrides."""
    today = today or timezone.localdate()
    row = (
        HealthScore.objects.select_related("version__scorecard")
        .filter(account_id=account_id)
        .first()
    )
    snapshots = list(
        HealthSnapshot.objects.filter(
            account_id=account_id, day__gte=today - datetime.timedelta(days=HISTORY_DAYS - 1)
        ).order_by("day")
    )
    history = [HistoryPoint(s.day, s.score, s.band) for s in snapshots]
    if row is None:
        return _empty(account_id, history)
    version = row.version
    scorecard = version.scorecard if version else None
    then = next(
        (s for s in reversed(snapshots) if s.day <= today - datetime.timedelta(days=COMPARE_DAYS)),
        None,
    )
    overrides: dict[str, OverrideInfo] = {}
    if scorecard is not None:
        now = timezone.now()
        for override in (
            MeasureOverride.objects.filter(
                account_id=account_id, scorecard=scorecard, expires_at__gt=now
            )
            .select_related("created_by")
            .order_by("created_at", "id")
        ):
            overrides[override.measure_key] = OverrideInfo(
                id=override.pk,
                points=override.points,
                comment=override.comment,
                author=str(override.created_by or "—"),
                created_at=override.created_at,
                expires_at=override.expires_at,
            )
    groups: list[GroupLine] = []
    definition = None
    if version is not None:
        definition = scoring.definition_of(version)
        groups = _group_lines(definition, row.groups or {}, row.measures or {}, overrides, then)
    since = None
    if then is not None:
        since = SinceLastWeek(
            day=then.day,
            score=then.score,
            band=then.band,
            score_delta=(
                round(row.score - then.score, 1)
                if row.score is not None and then.score is not None
                else None
            ),
            movers=_movers(groups),
            version_changed=then.version_id != row.version_id,
        )
    return Explanation(
        account_id=account_id,
        score=row.score,
        band=row.band,
        computed_at=row.computed_at,
        error=row.error,
        previous_band=row.previous_band,
        band_changed_at=row.band_changed_at,
        scorecard=scorecard,
        version=version,
        red_below=definition.bands.red_below if definition else None,
        green_from=definition.bands.green_from if definition else None,
        groups=groups,
        since_last_week=since,
        trend=trend(row.score, then.score if then else None),
        history=history,
    )


def _empty(account_id: int, history: list[HistoryPoint]) -> Explanation:
    return Explanation(
        account_id=account_id,
        score=None,
        band=Band.NONE,
        computed_at=None,
        error="",
        previous_band="",
        band_changed_at=None,
        scorecard=None,
        version=None,
        red_below=None,
        green_from=None,
        groups=[],
        since_last_week=None,
        trend=None,
        history=history,
    )


def history(account_id: int, days: int = HISTORY_DAYS) -> QuerySet[HealthSnapshot]:
    today = timezone.localdate()
    return HealthSnapshot.objects.filter(
        account_id=account_id, day__gte=today - datetime.timedelta(days=days - 1)
    ).order_by("day")


# --- The portfolio ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Cell:
    accounts: int = 0
    arr: Decimal = Decimal(0)


@dataclass(frozen=True)
class Row:
    key: str
    label: str
    cells: dict[str, Cell]
    total: Cell

    def share(self, band: str) -> float:
        cell = self.cells.get(band)
        return cell.accounts * 100 / self.total.accounts if cell and self.total.accounts else 0.0

    def ordered(self) -> list[tuple[str, Cell, float]]:
        return [(band, self.cells.get(band, Cell()), self.share(band)) for band in BAND_ORDER]

    @property
    def risk_arr(self) -> Decimal:
        """ARR of the red and yellow accounts."""
        return sum(
            (self.cells.get(band, Cell()).arr for band in (Band.RED, Band.YELLOW)), Decimal(0)
        )


@dataclass(frozen=True)
class Distribution:
    by_band: dict[str, Cell]
    by_tier: list[Row]
    by_stage: list[Row]
    accounts: int
    arr: Decimal

    def band(self, band: str) -> Cell:
        return self.by_band.get(band, Cell())

    def band_share(self, band: str) -> float:
        return self.band(band).accounts * 100 / self.accounts if self.accounts else 0.0

    @property
    def ordered(self) -> list[tuple[str, Cell, float]]:
        return [(band, self.band(band), self.band_share(band)) for band in BAND_ORDER]


def _add(cell: Cell | None, accounts: int, arr: Decimal) -> Cell:
    cell = cell or Cell()
    return Cell(cell.accounts + accounts, cell.arr + arr)


def distribution(scope: QuerySet[Account]) -> Distribution:
    """Accounts and ARR by band, by tier × band and by stage × band: one GROUP BY over the
    accounts (an account not scored yet counts as "no score")."""
    rows = (
        scope.order_by()
        .annotate(health_band=Coalesce(F("health__band"), Value(Band.NONE)))
        .values("tier", "stage", "health_band")
        .annotate(n=Count("id"), total=Sum("arr"))
    )
    by_band: dict[str, Cell] = {}
    by_tier: dict[str, dict[str, Cell]] = {}
    by_stage: dict[str, dict[str, Cell]] = {}
    accounts, arr = 0, Decimal(0)
    for row in rows:
        band, count, total = row["health_band"], row["n"], row["total"] or Decimal(0)
        by_band[band] = _add(by_band.get(band), count, total)
        stage_cells = by_stage.setdefault(row["stage"], {})
        stage_cells[band] = _add(stage_cells.get(band), count, total)
        if row["stage"] != LifecycleStage.CHURNED:
            tier_cells = by_tier.setdefault(row["tier"], {})
            tier_cells[band] = _add(tier_cells.get(band), count, total)
        accounts += count
        arr += total
    return Distribution(
        by_band=by_band,
        by_tier=_rows(by_tier, Tier.choices),
        by_stage=_rows(by_stage, LifecycleStage.choices),
        accounts=accounts,
        arr=arr,
    )


def _rows(cells: dict[str, dict[str, Cell]], choices: Sequence[tuple[str, Any]]) -> list[Row]:
    rows = []
    for key, label in choices:
        found = cells.get(key, {})
        total = Cell(
            sum(c.accounts for c in found.values()),
            sum((c.arr for c in found.values()), Decimal(0)),
        )
        rows.append(Row(key, str(label), found, total))
    return rows


@dataclass(frozen=True)
class ScoreMove:
    account: Account
    score: float | None
    band: str
    then: float | None
    delta: float


def movers(
    scope: QuerySet[Account], *, days: int = COMPARE_DAYS, limit: int = 8
) -> tuple[list[ScoreMove], list[ScoreMove]]:
    """The accounts whose score rose most and fell most since `days` ago (two queries)."""
    day = timezone.localdate() - datetime.timedelta(days=days)
    then = HealthSnapshot.objects.filter(account=OuterRef("account_id"), day=day).values("score")
    moved = (
        HealthScore.objects.filter(account__in=scope.order_by().values("pk"), score__isnull=False)
        .annotate(then=Subquery(then[:1], output_field=FloatField()))
        .filter(then__isnull=False)
        .annotate(delta=F("score") - F("then"))
        .exclude(delta=0)
        .select_related("account")
    )

    def take(queryset: QuerySet[HealthScore]) -> list[ScoreMove]:
        return [
            ScoreMove(row.account, row.score, row.band, row.then, round(row.delta, 1))  # type: ignore[attr-defined]
            for row in queryset[:limit]
        ]

    up = take(moved.filter(delta__gt=0).order_by("-delta", "account_id"))
    down = take(moved.filter(delta__lt=0).order_by("delta", "account_id"))
    return up, down


def errors(scope: QuerySet[Account], limit: int = 20) -> QuerySet[HealthScore]:
    """Accounts whose last computation failed (they keep the score before)."""
    return (
        HealthScore.objects.filter(account__in=scope.order_by().values("pk"))
        .exclude(error="")
        .select_related("account")
        .order_by("account__name_kana", "account_id")[:limit]
    )


def scorecards() -> QuerySet[Scorecard]:
    """Every scorecard with its current version, for the list and the overview."""
    return Scorecard.objects.select_related("current_version").order_by(
        "-is_active", "priority", "name", "id"
    )


def at_risk(distribution: Distribution) -> dict[str, Cell]:
    return {band: distribution.band(band) for band in (Band.RED, Band.YELLOW)}


def scored_accounts(scorecard: Scorecard) -> QuerySet[HealthScore]:
    return HealthScore.objects.filter(version__scorecard=scorecard)


def owner_scope(user: Any, mine: bool) -> QuerySet[Account]:
    accounts = Account.objects.all()
    return accounts.filter(owner=user) if mine else accounts


def band_counts(queryset: QuerySet[HealthScore]) -> dict[str, int]:
    return dict(
        queryset.order_by()
        .values_list("band")
        .annotate(n=Count("account_id"))
        .values_list("band", "n")
    )


# --- Preview of a draft definition ----------------------------------------------------------------

PREVIEW_SAMPLES = 10
BUCKETS = 10


@dataclass(frozen=True)
class Sample:
    account_id: int
    name: str
    arr: Decimal
    current: float | None
    current_band: str
    draft: float | None
    draft_band: str

    @property
    def delta(self) -> float | None:
        if self.current is None or self.draft is None:
            return None
        return round(self.draft - self.current, 1)


@dataclass(frozen=True)
class Preview:
    """What a draft definition would give on real accounts, computed without writing."""

    accounts: int
    draft: dict[str, Cell]
    current: dict[str, Cell]
    histogram: list[int]  # accounts per 10-point bucket of the draft score, 0–9 … 90–100
    samples: list[Sample]

    def ordered(self) -> list[tuple[str, Cell, Cell]]:
        return [
            (band, self.draft.get(band, Cell()), self.current.get(band, Cell()))
            for band in BAND_ORDER
        ]

    def histogram_bars(self) -> list[tuple[int, int, float]]:
        peak = max(self.histogram, default=0)
        return [
            (index * 10, count, count * 100 / peak if peak else 0.0)
            for index, count in enumerate(self.histogram)
        ]


def preview_accounts(stage: str, segment_id: int | None, ctx: Any) -> QuerySet[Account]:
    """The accounts a scorecard with this stage and segment would fit (ignoring other
    scorecards that might be more specific)."""
    from kizuna.health import services

    aliases, q = services._selector(
        Scorecard(stage=stage, segment_id=segment_id), ctx, "_preview_segment"
    )
    return Account.objects.alias(**aliases).filter(q)


def preview(
    draft: ScorecardVersion, accounts: QuerySet[Account], ctx: Any, samples: int = PREVIEW_SAMPLES
) -> Preview:
    """The band distribution and score histogram `draft` would give `accounts`, next to
    their current bands, and the accounts whose score would move most (current vs draft).
    Two scoring queries, plus one for the current bands."""
    from django.db.models import Case, IntegerField, When
    from django.db.models.functions import Abs, Floor

    scored = scoring.score_queryset(draft, accounts, ctx)
    rows = (
        scored.annotate(
            bucket=Case(
                When(score__gte=100, then=Value(BUCKETS - 1)),
                default=Floor(F("score") / 10),
                output_field=IntegerField(),
            )
        )
        .values("band", "bucket")
        .annotate(n=Count("id"), total=Sum("arr"))
    )
    draft_cells: dict[str, Cell] = {}
    histogram = [0] * BUCKETS
    accounts_count = 0
    for row in rows:
        draft_cells[row["band"]] = _add(
            draft_cells.get(row["band"]), row["n"], row["total"] or Decimal(0)
        )
        if row["bucket"] is not None:
            histogram[min(max(int(row["bucket"]), 0), BUCKETS - 1)] += row["n"]
        accounts_count += row["n"]
    current: dict[str, Cell] = {}
    for now_row in (
        accounts.order_by()
        .annotate(health_band=Coalesce(F("health__band"), Value(Band.NONE)))
        .values("health_band")
        .annotate(n=Count("id"), total=Sum("arr"))
    ):
        current[now_row["health_band"]] = Cell(now_row["n"], now_row["total"] or Decimal(0))
    now = HealthScore.objects.filter(account=OuterRef("pk"))
    picked = (
        scored.annotate(
            current=Subquery(now.values("score")[:1], output_field=FloatField()),
            current_band=Coalesce(Subquery(now.values("band")[:1]), Value(Band.NONE)),
        )
        .annotate(change=Abs(F("score") - F("current")))
        .order_by(F("change").desc(nulls_last=True), "-arr", "id")
        .values("id", "name", "arr", "current", "current_band", "score", "band")[:samples]
    )
    return Preview(
        accounts=accounts_count,
        draft=draft_cells,
        current=current,
        histogram=histogram,
        samples=[
            Sample(
                account_id=row["id"],
                name=row["name"],
                arr=row["arr"] or Decimal(0),
                current=row["current"],
                current_band=row["current_band"],
                draft=row["score"],
                draft_band=row["band"],
            )
            for row in picked
        ],
    )
