"""Backtesting a scorecard against what really happened to the accounts.

For a scorecard version — or a draft not saved yet — `run` computes the score each account
*would have had* at past dates and sets it beside what happened next:

- **churned**: the account churned (a contract with status churned, or the account is in
  the churned stage) within `horizon` days after the date; its churn date is the end date
  of its churned contract;
- **renewed**: a won renewal opportunity closed in those days, or a live contract passed a
  yearly anniversary of its end date (its term rolled over);
- **expanded / contracted**: its ARR `horizon` days later was higher / lower than on the date
  (ARR on a past day comes from the contracts live that day).

The evaluation dates are every `step` days from `horizon` days ago back over `lookback`
days; dates before the usage history covers the measures' windows are left out (usage
measures would read nothing there and make every account look inactive).

Cost: the scores of a date are ONE query (`scoring.score_queryset` with
``Context(today=date)``, which also fetches the ARR then and `horizon` days later); the
outcomes are three queries over contracts, opportunities and churned accounts, read in
Python. The "red N days before they churned" figure scores each churned account at exactly
its churn date − N: one query per distinct such day (a handful), or, when there are more than
`MAX_LEAD_DAYS`, at the nearest earlier day of a weekly grid (the figure then says so). The
number of queries never grows with the number of accounts.

The figures (`Backtest.figures`) are computed in Python from the fetched scores, so trying
other band thresholds re-reads nothing: the scores do not depend on the thresholds.
Measures whose metric cannot look back (custom fields, tier, stage…) use today's value at
every date; `Backtest.static_measures` names them, because they can flatter the result
(a field filled in after the fact "predicts" what already happened).
"""

from __future__ import annotations

import datetime
import hashlib
import json
import logging
import math
from array import array
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.cache import BaseCache, caches
from django.db.models import (
    Case,
    CharField,
    DecimalField,
    Exists,
    F,
    Min,
    OuterRef,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.db.models.functions import Coalesce
from django.tasks import task
from django.utils import timezone
from django.utils.translation import gettext

from kizuna.core.conditions import metrics
from kizuna.core.conditions.metrics import Context
from kizuna.customers.choices import (
    LifecycleStage,
    OpportunityKind,
    OpportunityStage,
    SubscriptionStatus,
)
from kizuna.customers.metrics import live_subscriptions
from kizuna.customers.models import Account, Opportunity, Subscription
from kizuna.health import definition as schema
from kizuna.health import scoring
from kizuna.health.choices import Band
from kizuna.health.models import ScorecardVersion

HORIZONS = (30, 60, 90)
DEFAULT_HORIZON = 60
DEFAULT_LOOKBACK = 180
DEFAULT_STEP = 30
MAX_LOOKBACK = 730
# Churned accounts are scored at their exact churn date − N when their churn days are at
# most this many; otherwise at the nearest earlier day of a weekly grid.
MAX_LEAD_DAYS = 40
LEAD_GRID_DAYS = 7
# Fewer churned accounts than this: the figures are shown, with a warning that they are thin.
FEW_CHURNED = 10
CACHE_SECONDS = 600
SEGMENT_METRIC = "segment.member"

MONEY = DecimalField(max_digits=16, decimal_places=2)

logger = logging.getLogger(__name__)


class BacktestError(ValueError):
    """Parameters a backtest cannot run with (the message says which)."""


# --- Results ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Observation:
    """One account scored at one evaluation date, and what happened in the next N days."""

    account_id: int
    day: datetime.date
    score: float | None
    churned: bool
    renewed: bool
    expanded: bool
    contracted: bool


@dataclass(frozen=True)
class LeadScore:
    """A churned account scored `days_before` days before its churn date."""

    account_id: int
    churn_date: datetime.date
    day: datetime.date
    score: float | None


@dataclass(frozen=True)
class StaticMeasure:
    """A measure whose metric gives today's value at every past date."""

    key: str
    label: str
    metric: str


@dataclass
class BandRow:
    band: str
    scores: int = 0
    churned: int = 0
    renewed: int = 0
    expanded: int = 0
    contracted: int = 0

    @property
    def churn_rate(self) -> float | None:
        """Churned within the horizon, in % of the scores in this band."""
        return self.churned * 100.0 / self.scores if self.scores else None


@dataclass
class DateRow:
    day: datetime.date
    scores: int = 0
    red: int = 0
    churned: int = 0
    red_churned: int = 0


@dataclass
class Figures:
    """The backtest read with one pair of band thresholds."""

    red_below: float
    green_from: float
    horizon: int
    bands: list[BandRow]
    dates: list[DateRow]
    unscored: int
    # ROC AUC of the score for "churns within the horizon" (lower score = more risk):
    # 0.5 is chance, 1 a perfect ranking. None without both outcomes.
    auc: float | None
    auc_churned: int
    auc_stayed: int
    # Churn rate of red ÷ churn rate of green; None when either is missing or green's is 0.
    lift: float | None
    red_rate: float | None
    green_rate: float | None
    # Churned accounts red / yellow `horizon` days before they churned, out of those scored.
    caught: int
    caught_yellow: int
    churned_accounts: int
    # Accounts that stayed (never churned) yet were red `horizon` days ago, out of those scored.
    flagged: int
    stayed_accounts: int

    @property
    def band_table(self) -> list[BandRow]:
        return [row for row in self.bands if row.band != Band.NONE]

    @property
    def observations(self) -> int:
        return sum(row.scores for row in self.bands)

    @property
    def churned_observations(self) -> int:
        return sum(row.churned for row in self.bands)

    @property
    def caught_share(self) -> float | None:
        return self.caught * 100.0 / self.churned_accounts if self.churned_accounts else None

    @property
    def flagged_share(self) -> float | None:
        return self.flagged * 100.0 / self.stayed_accounts if self.stayed_accounts else None

    @property
    def lift_infinite(self) -> bool:
        """Red accounts churned while no green one did."""
        return bool(self.red_rate) and self.green_rate == 0


CHURNED, RENEWED, EXPANDED, CONTRACTED = 1, 2, 4, 8


@dataclass
class Observations:
    """The scores of a backtest as columns (compact to remember between requests: a
    hundred thousand accounts at five dates stay a few megabytes). A missing score is NaN."""

    account_ids: array[int] = field(default_factory=lambda: array("q"))
    day_index: array[int] = field(default_factory=lambda: array("H"))
    scores: array[float] = field(default_factory=lambda: array("d"))
    flags: array[int] = field(default_factory=lambda: array("B"))

    def add(self, account_id: int, day_index: int, score: float | None, flags: int) -> None:
        self.account_ids.append(account_id)
        self.day_index.append(day_index)
        self.scores.append(math.nan if score is None else float(score))
        self.flags.append(flags)

    def __len__(self) -> int:
        return len(self.account_ids)


@dataclass
class Backtest:
    """Scores at past dates with their outcomes; read it with `figures(thresholds)`."""

    today: datetime.date
    horizon: int
    red_below: float
    green_from: float
    step: int = DEFAULT_STEP
    lookback: int = DEFAULT_LOOKBACK
    dates: list[datetime.date] = field(default_factory=list)
    skipped_dates: list[datetime.date] = field(default_factory=list)
    usage_starts: datetime.date | None = None
    scored: Observations = field(default_factory=Observations)
    lead: list[LeadScore] = field(default_factory=list)
    lead_snapped: bool = False
    stayed: dict[int, float | None] = field(default_factory=dict)
    stayed_day: datetime.date | None = None
    static_measures: list[StaticMeasure] = field(default_factory=list)
    all_stages: bool = False
    stage: str = ""
    queries: int = 0
    # The ROC AUC does not depend on the thresholds: computed once.
    _auc: tuple[float | None, int, int] | None = None

    @property
    def observations(self) -> list[Observation]:
        """Each account scored at each date, with what happened next."""
        columns = self.scored
        return [
            Observation(
                account_id=columns.account_ids[n],
                day=self.dates[columns.day_index[n]],
                score=None if math.isnan(columns.scores[n]) else columns.scores[n],
                churned=bool(columns.flags[n] & CHURNED),
                renewed=bool(columns.flags[n] & RENEWED),
                expanded=bool(columns.flags[n] & EXPANDED),
                contracted=bool(columns.flags[n] & CONTRACTED),
            )
            for n in range(len(columns))
        ]

    @property
    def accounts(self) -> int:
        """Distinct accounts scored at one date or more."""
        return len(set(self.scored.account_ids))

    @property
    def churned_accounts(self) -> int:
        columns = self.scored
        churned = {
            columns.account_ids[n] for n in range(len(columns)) if columns.flags[n] & CHURNED
        }
        return len(churned | self.lead_ids)

    @property
    def lead_ids(self) -> set[int]:
        return {row.account_id for row in self.lead}

    @property
    def few_churned(self) -> bool:
        return self.churned_accounts < FEW_CHURNED

    def auc(self) -> tuple[float | None, int, int]:
        """The ROC AUC over every score, and how many churned / stayed scores it ranked."""
        if self._auc is None:
            columns = self.scored
            pairs = [
                (score, bool(flags & CHURNED))
                for score, flags in zip(columns.scores, columns.flags, strict=True)
                if not math.isnan(score)
            ]
            churned = sum(1 for _score, is_churned in pairs if is_churned)
            self._auc = (roc_auc(pairs), churned, len(pairs) - churned)
        return self._auc

    def figures(self, red_below: float | None = None, green_from: float | None = None) -> Figures:
        """The figures with these band thresholds (the version's when None). Pure Python
        over the fetched scores: no query."""
        red = self.red_below if red_below is None else float(red_below)
        green = self.green_from if green_from is None else float(green_from)
        if red > green:
            raise BacktestError(gettext("“Red below” cannot be above “green from”."))

        def band(score: float | None) -> str:
            if score is None or math.isnan(score):
                return Band.NONE
            if score < red:
                return Band.RED
            if score >= green:
                return Band.GREEN
            return Band.YELLOW

        rows: dict[str, BandRow] = {
            str(value): BandRow(value) for value in (Band.RED, Band.YELLOW, Band.GREEN, Band.NONE)
        }
        dates = [DateRow(day) for day in self.dates]
        columns = self.scored
        for index, score, flags in zip(
            columns.day_index, columns.scores, columns.flags, strict=True
        ):
            name = band(score)
            row = rows[name]
            churned = bool(flags & CHURNED)
            row.scores += 1
            row.churned += churned
            row.renewed += bool(flags & RENEWED)
            row.expanded += bool(flags & EXPANDED)
            row.contracted += bool(flags & CONTRACTED)
            if name != Band.NONE:
                per_date = dates[index]
                per_date.scores += 1
                per_date.red += name == Band.RED
                per_date.churned += churned
                per_date.red_churned += churned and name == Band.RED
        red_rate = rows[Band.RED].churn_rate
        green_rate = rows[Band.GREEN].churn_rate
        lift = red_rate / green_rate if red_rate is not None and green_rate else None
        lead_scored = [row for row in self.lead if row.score is not None]
        stayed_scored = [score for score in self.stayed.values() if score is not None]
        auc, auc_churned, auc_stayed = self.auc()
        return Figures(
            red_below=red,
            green_from=green,
            horizon=self.horizon,
            bands=list(rows.values()),
            dates=sorted(dates, key=lambda row: row.day),
            unscored=rows[Band.NONE].scores,
            auc=auc,
            auc_churned=auc_churned,
            auc_stayed=auc_stayed,
            lift=lift,
            red_rate=red_rate,
            green_rate=green_rate,
            caught=sum(1 for row in lead_scored if band(row.score) == Band.RED),
            caught_yellow=sum(1 for row in lead_scored if band(row.score) == Band.YELLOW),
            churned_accounts=len(lead_scored),
            flagged=sum(1 for score in stayed_scored if band(score) == Band.RED),
            stayed_accounts=len(stayed_scored),
        )


# --- ROC AUC ------------------------------------------------------------------------------


def roc_auc(pairs: Iterable[tuple[float, bool]]) -> float | None:
    """The ROC AUC of a score for predicting churn, where a LOWER score means more risk:
    the probability that a churned account scored below one that stayed (ties count half).

    Rank-based (Mann–Whitney U) with average ranks for ties. None unless there is at least
    one churned and one stayed account. Example: scores (10, churned), (20, stayed),
    (30, churned), (40, stayed) give 0.75.
    """
    ordered = sorted(pairs, key=lambda pair: -pair[0])  # most at risk (lowest) ranks highest
    positives = sum(1 for _score, churned in ordered if churned)
    negatives = len(ordered) - positives
    if not positives or not negatives:
        return None
    rank_sum = 0.0
    index = 0
    while index < len(ordered):
        end = index
        while end + 1 < len(ordered) and ordered[end + 1][0] == ordered[index][0]:
            end += 1
        average_rank = (index + end) / 2 + 1  # ranks are 1-based
        rank_sum += average_rank * sum(1 for k in range(index, end + 1) if ordered[k][1])
        index = end + 1
    u = rank_sum - positives * (positives + 1) / 2
    return u / (positives * negatives)


# --- Outcomes -----------------------------------------------------------------------------


@dataclass
class Outcomes:
    """What happened to each account, from the contracts and opportunities (three
    queries, then Python)."""

    churn_dates: dict[int, datetime.date]
    # account → contracts as (status, start, end)
    contracts: dict[int, list[tuple[str, datetime.date, datetime.date | None]]]
    renewals_won: dict[int, list[datetime.date]]

    def churned_between(self, account_id: int, after: datetime.date, until: datetime.date) -> bool:
        churn = self.churn_dates.get(account_id)
        return churn is not None and after < churn <= until

    def renewed_between(self, account_id: int, after: datetime.date, until: datetime.date) -> bool:
        if any(after < day <= until for day in self.renewals_won.get(account_id, ())):
            return True
        for status, start, end in self.contracts.get(account_id, ()):
            if status != SubscriptionStatus.ACTIVE or end is None or start > after:
                continue
            # The contract's yearly anniversaries before its current end: each is an end
            # of term it rolled over.
            years = 1
            while True:
                anniversary = _years_before(end, years)
                if anniversary <= after or anniversary <= start:
                    break
                if anniversary <= until:
                    return True
                years += 1
        return False


def _years_before(day: datetime.date, years: int) -> datetime.date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February
        return day.replace(year=day.year - years, day=28)


def outcomes() -> Outcomes:
    """Churn dates, contracts and won renewals of every account (three queries)."""
    contracts: dict[int, list[tuple[str, datetime.date, datetime.date | None]]] = defaultdict(list)
    churned_ends: dict[int, datetime.date] = {}
    any_ends: dict[int, datetime.date] = {}
    live: set[int] = set()
    rows = Subscription.objects.order_by().values_list(
        "account_id", "status", "start_date", "end_date"
    )
    for account_id, status, start, end in rows.iterator(chunk_size=5000):
        contracts[account_id].append((status, start, end))
        if status in (SubscriptionStatus.TRIAL, SubscriptionStatus.ACTIVE):
            live.add(account_id)
        if end is not None:
            any_ends[account_id] = max(end, any_ends.get(account_id, end))
            if status == SubscriptionStatus.CHURNED:
                churned_ends[account_id] = max(end, churned_ends.get(account_id, end))
    churn_dates: dict[int, datetime.date] = {
        account_id: end for account_id, end in churned_ends.items() if account_id not in live
    }
    in_churned_stage = Account.objects.filter(stage=LifecycleStage.CHURNED).values_list(
        "pk", "stage_entered_on"
    )
    for account_id, entered in in_churned_stage:
        churn_dates[account_id] = (
            churned_ends.get(account_id) or any_ends.get(account_id) or entered
        )
    won: dict[int, list[datetime.date]] = defaultdict(list)
    for account_id, closed in Opportunity.objects.filter(
        kind=OpportunityKind.RENEWAL, stage=OpportunityStage.WON
    ).values_list("account_id", "close_date"):
        won[account_id].append(closed)
    return Outcomes(churn_dates, dict(contracts), dict(won))


# --- Populations --------------------------------------------------------------------------


def _end_of(day: datetime.date) -> datetime.datetime:
    return timezone.make_aware(
        datetime.datetime.combine(day + datetime.timedelta(days=1), datetime.time.min)
    )


def stage_at(day: datetime.date) -> Any:
    """The account's lifecycle stage at the end of `day`, from its stage history: the stage
    of its last move before then, else the stage its first later move left, else today's —
    except that an account churned today without a history had an unknown stage ("") then,
    not "churned" (it was still a customer)."""
    unknown_if_churned = Case(
        When(stage=LifecycleStage.CHURNED, then=Value("")),
        default=F("stage"),
        output_field=CharField(),
    )
    try:
        from kizuna.lifecycle.models import StageChange
    except ImportError:  # pragma: no cover - lifecycle is always installed with health
        return unknown_if_churned
    end = _end_of(day)
    moves = StageChange.objects.filter(account=OuterRef("pk"))
    before = moves.filter(changed_at__lt=end).order_by("-changed_at", "-id").values("to_stage")[:1]
    after = moves.filter(changed_at__gte=end).order_by("changed_at", "id").values("from_stage")[:1]
    return Coalesce(Subquery(before), Subquery(after), unknown_if_churned, output_field=CharField())


def arr_at(day: datetime.date) -> Any:
    """The account's ARR on `day` (from the contracts live then; today's ARR today)."""
    return metrics.get("subscription.arr").expression(None, Context(today=day))  # type: ignore[union-attr]


@dataclass(frozen=True)
class Selector:
    """Which accounts a backtest scores at a date: customers then (a contract live), in the
    scorecard's stage then (any stage but churned for a scorecard without one) and its
    segment then; with `all_stages`, every customer then."""

    stage: str = ""
    segment_id: int | None = None
    all_stages: bool = False

    def accounts(
        self, day: datetime.date, base: QuerySet[Account] | None = None
    ) -> QuerySet[Account]:
        ctx = Context(today=day)
        accounts = (base if base is not None else Account.objects.all()).alias(
            _bt_live=Exists(live_subscriptions(ctx))
        )
        accounts = accounts.filter(_bt_live=True)
        if not self.all_stages:
            accounts = accounts.alias(_bt_stage=stage_at(day))
            if self.stage:
                accounts = accounts.filter(_bt_stage=self.stage)
            else:
                accounts = accounts.exclude(_bt_stage=LifecycleStage.CHURNED)
            if self.segment_id is not None:
                metric = metrics.get(SEGMENT_METRIC)
                if metric is None:
                    raise BacktestError(gettext("Segments are not available."))
                params = metric.parse({"segment": self.segment_id})
                accounts = accounts.alias(_bt_segment=metric.expression(params, ctx)).filter(
                    _bt_segment=True
                )
        return accounts


# --- Running ------------------------------------------------------------------------------


def static_measures(definition: schema.Definition) -> list[StaticMeasure]:
    """The measures whose metric cannot look back (today's value at every date)."""
    found = []
    for _group, measure in definition.measures():
        metric, params = schema.resolve(measure)
        if not metric.historical:
            found.append(StaticMeasure(measure.key, measure.label(), metric.describe(params)))
    return found


def _usage_window(definition: schema.Definition) -> int:
    """The most days of usage history a measure reads back from its date (0: none)."""
    longest = 0
    for _group, measure in definition.measures():
        metric, params = schema.resolve(measure)
        if "usage" not in metric.depends_on:
            continue
        days = int(getattr(params, "days", 1) or 1)
        longest = max(longest, days * (2 if metric.key == "usage.change" else 1))
    return longest


def _usage_start() -> datetime.date | None:
    from kizuna.usage.models import AccountDailyUsage

    first: datetime.date | None = AccountDailyUsage.objects.aggregate(first=Min("day"))["first"]
    return first


def evaluation_dates(
    today: datetime.date, horizon: int, lookback: int, step: int
) -> list[datetime.date]:
    """Every `step` days from `horizon` days ago back to `lookback` days ago, newest first."""
    dates = []
    offset = horizon
    while offset <= lookback:
        dates.append(today - datetime.timedelta(days=offset))
        offset += step
    return dates


def _check(horizon: int, lookback: int, step: int) -> None:
    if not 1 <= horizon <= 365:
        raise BacktestError(gettext("The horizon must be between 1 and 365 days."))
    if not 1 <= step <= 365:
        raise BacktestError(gettext("The step must be between 1 and 365 days."))
    if not horizon <= lookback <= MAX_LOOKBACK:
        raise BacktestError(
            gettext("The look-back must be between the horizon and %d days.") % MAX_LOOKBACK
        )


Progress = Callable[[int, int], None]


def run(
    version: ScorecardVersion,
    *,
    horizon: int = DEFAULT_HORIZON,
    lookback: int = DEFAULT_LOOKBACK,
    step: int = DEFAULT_STEP,
    selector: Selector | None = None,
    today: datetime.date | None = None,
    progress: Progress | None = None,
) -> Backtest:
    """Backtest `version` (saved, or a draft: ``ScorecardVersion(definition=…)``).

    Scores the accounts `selector` picks at each evaluation date (one query per date) and
    the churned accounts `horizon` days before their churn (one query per distinct day);
    reads the outcomes (three queries). Nothing is written. `progress(done, total)` is
    called after each scoring query. Raises BacktestError for parameters out of range and
    DefinitionError for an invalid draft.

    Example: ``run(card.current_version, horizon=60).figures(red_below=45)``.
    """
    _check(horizon, lookback, step)
    today = today or timezone.localdate()
    selector = selector or Selector()
    definition = scoring.definition_of(version)
    window = _usage_window(definition)
    usage_starts = _usage_start() if window else None
    queries = 1 if window else 0

    candidates = evaluation_dates(today, horizon, lookback, step)
    earliest = usage_starts + datetime.timedelta(days=window - 1) if usage_starts else None
    dates = [day for day in candidates if earliest is None or day >= earliest]
    skipped = [day for day in candidates if day not in dates]

    happened = outcomes()
    queries += 3
    lead_days, churn_of, snapped = _lead_days(happened, today, horizon, lookback, earliest)
    total = len(dates) + len(lead_days)
    per_query = 1 + (version.scorecard_id is not None)  # and the live overrides of the day
    scored = Observations()
    stayed: dict[int, float | None] = {}
    stayed_day = today - datetime.timedelta(days=horizon)
    for index, day in enumerate(dates):
        later = min(day + datetime.timedelta(days=horizon), today)
        rows = (
            scoring.score_queryset(version, selector.accounts(day), Context(today=day))
            .annotate(
                _bt_arr_then=Coalesce(arr_at(day), Decimal(0), output_field=MONEY),
                _bt_arr_later=Coalesce(arr_at(later), Decimal(0), output_field=MONEY),
            )
            .values_list("pk", scoring.SCORE, "_bt_arr_then", "_bt_arr_later")
        )
        for account_id, score, arr_then, arr_later in rows:
            churn = happened.churn_dates.get(account_id)
            if churn is not None and churn <= day:
                continue  # already gone (its contract ran to that day)
            if churn is not None and churn <= later:
                flags = CHURNED
            else:
                flags = (
                    (RENEWED if happened.renewed_between(account_id, day, later) else 0)
                    | (EXPANDED if arr_later > arr_then else 0)
                    | (CONTRACTED if arr_later < arr_then else 0)
                )
            scored.add(account_id, index, score, flags)
            if day == stayed_day and churn is None:
                stayed[account_id] = score
        queries += per_query
        if progress is not None:
            progress(index + 1, total)

    lead: list[LeadScore] = []
    for index, day in enumerate(sorted(lead_days)):
        accounts = selector.accounts(day, Account.objects.filter(pk__in=lead_days[day]))
        lead_rows = scoring.score_queryset(version, accounts, Context(today=day)).values_list(
            "pk", scoring.SCORE
        )
        lead.extend(
            LeadScore(account_id, churn_of[account_id], day, score)
            for account_id, score in lead_rows
        )
        queries += per_query
        if progress is not None:
            progress(len(dates) + index + 1, total)

    return Backtest(
        today=today,
        horizon=horizon,
        step=step,
        lookback=lookback,
        red_below=definition.bands.red_below,
        green_from=definition.bands.green_from,
        dates=dates,
        skipped_dates=skipped,
        usage_starts=usage_starts,
        scored=scored,
        lead=lead,
        lead_snapped=snapped,
        stayed=stayed,
        stayed_day=stayed_day if stayed_day in dates else None,
        static_measures=static_measures(definition),
        all_stages=selector.all_stages,
        stage=selector.stage,
        queries=queries,
    )


def _lead_days(
    happened: Outcomes,
    today: datetime.date,
    horizon: int,
    lookback: int,
    earliest: datetime.date | None,
) -> tuple[dict[datetime.date, list[int]], dict[int, datetime.date], bool]:
    """The days to score churned accounts on — `horizon` days before each churn date within
    the look-back (and the usage history) — with the accounts of each day, each account's
    churn date, and whether the days were snapped to a weekly grid (too many of them)."""
    first = today - datetime.timedelta(days=lookback)
    if earliest is not None:
        first = max(first, earliest)
    by_day: dict[datetime.date, list[int]] = defaultdict(list)
    churn_of: dict[int, datetime.date] = {}
    for account_id, churn in happened.churn_dates.items():
        day = churn - datetime.timedelta(days=horizon)
        if first <= day and churn <= today:
            by_day[day].append(account_id)
            churn_of[account_id] = churn
    snapped = len(by_day) > MAX_LEAD_DAYS
    if snapped:
        # A weekly grid ending `horizon` days ago; each account goes to the grid day at or
        # before its exact day (scored `horizon` to `horizon` + 6 days before it churned).
        anchor = today - datetime.timedelta(days=horizon)
        grid: dict[datetime.date, list[int]] = defaultdict(list)
        for day, ids in by_day.items():
            back = (anchor - day).days
            grid_day = anchor - datetime.timedelta(days=-(-back // LEAD_GRID_DAYS) * LEAD_GRID_DAYS)
            grid[grid_day if grid_day >= first else day].extend(ids)
        by_day = grid
    return dict(by_day), churn_of, snapped


# --- History for a first install or a demo --------------------------------------------------


def history_days(
    days: int, *, daily: int, every: int, today: datetime.date | None = None
) -> list[datetime.date]:
    """The past days `backfill_snapshots` fills: each of the last `daily` days, then every
    `every` days back to `days` days ago, oldest first."""
    today = today or timezone.localdate()
    chosen = {
        today - datetime.timedelta(days=back)
        for back in range(1, days + 1)
        if back <= daily or back % every == 0
    }
    return sorted(chosen)


def backfill_snapshots(
    days: int, *, daily: int | None = None, every: int = 7, today: datetime.date | None = None
) -> int:
    """Fill in the health snapshots of the past `days` days that have none, each day scored
    as of that day (`services.backfill_snapshots`: one INSERT … SELECT per day and
    scorecard). With `daily`, only the last `daily` days are filled every day and older
    ones every `every` days — enough for "changed since last week" and the trend chart,
    at a fraction of the cost. Returns the snapshots written."""
    from kizuna.health import services

    chosen = history_days(days, daily=days if daily is None else daily, every=every, today=today)
    return sum(services.backfill_snapshots(day, day) for day in chosen)


# --- Remembered and background runs --------------------------------------------------------
#
# The editor re-reads the figures each time a threshold moves: the scores are remembered
# for a few minutes in the "backtest" cache (files under the data directory, shared by the
# web processes and the worker; the default cache when it is not configured). A portfolio
# of more than `BACKGROUND_FROM` accounts is backtested by the background worker, the
# editor showing its progress.

BACKGROUND_FROM = 20_000
CACHE_ALIAS = "backtest"


def store() -> BaseCache:
    return caches[CACHE_ALIAS] if CACHE_ALIAS in settings.CACHES else caches["default"]


@dataclass(frozen=True)
class Spec:
    """What to backtest, as plain values (the background task's argument)."""

    definition: dict[str, Any]
    version_id: int | None
    scorecard_id: int | None
    horizon: int
    lookback: int
    step: int
    stage: str
    segment_id: int | None
    all_stages: bool
    today: str

    @classmethod
    def of(
        cls,
        version: ScorecardVersion,
        *,
        horizon: int,
        lookback: int = DEFAULT_LOOKBACK,
        step: int = DEFAULT_STEP,
        selector: Selector | None = None,
        today: datetime.date | None = None,
    ) -> Spec:
        selector = selector or Selector()
        return cls(
            definition=scoring.definition_of(version).dump(),
            version_id=version.pk,
            scorecard_id=version.scorecard_id,
            horizon=horizon,
            lookback=lookback,
            step=step,
            stage=selector.stage,
            segment_id=selector.segment_id,
            all_stages=selector.all_stages,
            today=(today or timezone.localdate()).isoformat(),
        )

    @property
    def key(self) -> str:
        """The cache key. The thresholds are left out: they do not change the scores, so
        drafts that differ only there share a backtest."""
        payload = {**asdict(self), "definition": {**self.definition, "bands": None}}
        text = json.dumps(payload, sort_keys=True, default=str)
        return "health-backtest:" + hashlib.sha256(text.encode()).hexdigest()

    @property
    def progress_key(self) -> str:
        return self.key + ":progress"

    def version(self) -> ScorecardVersion:
        if self.version_id is not None:
            return ScorecardVersion.objects.get(pk=self.version_id)
        draft = ScorecardVersion(definition=self.definition)
        if self.scorecard_id is not None:
            # The scorecard's overrides of the past days count for its drafts too.
            draft.scorecard_id = self.scorecard_id
        return draft

    def run(self, progress: Progress | None = None) -> Backtest:
        return run(
            self.version(),
            horizon=self.horizon,
            lookback=self.lookback,
            step=self.step,
            selector=Selector(self.stage, self.segment_id, self.all_stages),
            today=datetime.date.fromisoformat(self.today),
            progress=progress,
        )


@dataclass(frozen=True)
class Running:
    """A backtest the worker is on: scoring queries done of the total (0 of 0: queued)."""

    done: int = 0
    total: int = 0
    error: str = ""

    @property
    def percent(self) -> int:
        return round(self.done * 100 / self.total) if self.total else 0


@dataclass(frozen=True)
class Fetched:
    backtest: Backtest | None = None
    cached: bool = False
    running: Running | None = None


def compute(spec: Spec) -> Backtest:
    """Run a backtest and remember it (the background task's body)."""
    cache = store()

    def progress(done: int, total: int) -> None:
        cache.set(spec.progress_key, Running(done, total), CACHE_SECONDS)

    try:
        result = spec.run(progress)
    except Exception as exc:
        cache.set(spec.progress_key, Running(error=f"{type(exc).__name__}: {exc}"), CACHE_SECONDS)
        raise
    cache.set(spec.key, result, CACHE_SECONDS)
    cache.delete(spec.progress_key)
    return result


@task
def backtest_in_background(spec: dict[str, Any]) -> None:
    """The worker's entry point: a backtest too big for a web request."""
    compute(Spec(**spec))


def fetch(spec: Spec, *, background_from: int | None = None) -> Fetched:
    """The backtest `spec` asks for: remembered, computed now (a portfolio up to
    `BACKGROUND_FROM` accounts), or handed to the background worker (`running` then says
    how far it is; ask again to get it)."""
    cache = store()
    found = cache.get(spec.key)
    if isinstance(found, Backtest):
        return Fetched(found, cached=True)
    limit = BACKGROUND_FROM if background_from is None else background_from
    if Account.objects.count() <= limit:
        return Fetched(compute(spec))
    running = cache.get(spec.progress_key)
    if isinstance(running, Running):
        return Fetched(running=running)
    # add() is atomic: of two requests for the same backtest only one queues it.
    if cache.add(spec.progress_key, Running(), CACHE_SECONDS):
        try:
            backtest_in_background.enqueue(asdict(spec))
        except Exception:
            logger.exception("Could not queue a backtest; running it now")
            return Fetched(compute(spec))
    found = cache.get(spec.key)  # an immediate task backend has already run it
    if isinstance(found, Backtest):
        return Fetched(found)
    return Fetched(running=cache.get(spec.progress_key) or Running())
