"""The read side of lifecycle stages: the board's figures per stage and the accounts in
each column, an account's stage and tier history. Aggregates are one GROUP BY (or window)
query over all accounts, never a query per account or per stage."""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from decimal import Decimal
from statistics import fmean

from django.db.models import Avg, Count, F, Q, QuerySet, Sum, Value, Window
from django.db.models.functions import RowNumber

from kizuna.core.conditions import DaysBetween
from kizuna.customers.choices import LifecycleStage
from kizuna.customers.models import Account, TierChange
from kizuna.lifecycle.models import StageChange

# Accounts listed per column of the board; the column links to the full list.
COLUMN_LIMIT = 12


@dataclass
class BoardAccount:
    id: int
    name: str
    arr: Decimal
    days_in_stage: int
    owner: str
    tier: str


@dataclass
class StageColumn:
    stage: str
    label: str
    accounts: int = 0
    arr: Decimal = Decimal(0)
    average_days: float | None = None
    median_days: float | None = None
    rows: list[BoardAccount] = field(default_factory=list)
    list_url: str = ""  # the account list filtered to this stage (set by the view)

    @property
    def more(self) -> int:
        return max(self.accounts - len(self.rows), 0)


def _days(today: datetime.date) -> DaysBetween:
    return DaysBetween(F("stage_entered_on"), Value(today))


def board(
    scope: QuerySet[Account], today: datetime.date, limit: int = COLUMN_LIMIT
) -> list[StageColumn]:
    """One column per stage, in lifecycle order: how many accounts, their ARR, the average
    and median days in the stage, and the `limit` largest accounts by ARR. Three queries
    whatever the number of accounts: the figures (GROUP BY stage), the medians (a window
    over each stage) and the listed accounts (the first `limit` rows of each stage; none
    and no query when `limit` is 0)."""
    columns = {
        stage: StageColumn(stage=stage, label=str(label)) for stage, label in LifecycleStage.choices
    }
    scope = scope.order_by()
    figures = (
        scope.values("stage")
        .annotate(accounts=Count("id"), arr=Sum("arr"), average_days=Avg(_days(today)))
        .values_list("stage", "accounts", "arr", "average_days")
    )
    for stage, accounts, arr, average_days in figures:
        if stage in columns:
            column = columns[stage]
            column.accounts = accounts
            column.arr = arr or Decimal(0)
            column.average_days = float(average_days) if average_days is not None else None
    for stage, median in medians(scope, today).items():
        if stage in columns:
            columns[stage].median_days = median
    if limit <= 0:
        return list(columns.values())
    ranked = (
        scope.select_related("owner")
        .annotate(
            rank=Window(
                RowNumber(), partition_by=[F("stage")], order_by=[F("arr").desc(), F("id").asc()]
            )
        )
        .filter(rank__lte=limit)
        .order_by("stage", "rank")
    )
    for account in ranked:
        if account.stage in columns:
            columns[account.stage].rows.append(
                BoardAccount(
                    id=account.pk,
                    name=account.name,
                    arr=account.arr,
                    days_in_stage=(today - account.stage_entered_on).days,
                    owner=str(account.owner) if account.owner else "",
                    tier=account.tier,
                )
            )
    return list(columns.values())


def medians(scope: QuerySet[Account], today: datetime.date) -> dict[str, float]:
    """The median days in stage per stage, from one query: each stage's rows numbered by
    days in stage, keeping the middle one (odd count) or two (even count)."""
    ordered = [F("stage_entered_on").desc(), F("id").asc()]
    middle = (
        scope.order_by()
        .annotate(
            days=_days(today),
            position=Window(RowNumber(), partition_by=[F("stage")], order_by=ordered),
            total=Window(Count("id"), partition_by=[F("stage")]),
        )
        .filter(Q(position=(F("total") + 1) / 2) | Q(position=(F("total") + 2) / 2))
        .values_list("stage", "days")
    )
    found: dict[str, list[int]] = {}
    for stage, days in middle:
        found.setdefault(stage, []).append(int(days))
    return {stage: fmean(values) for stage, values in found.items()}


def stage_history(account_id: int, limit: int | None = None) -> QuerySet[StageChange]:
    rows = (
        StageChange.objects.filter(account_id=account_id)
        .select_related("actor")
        .order_by("-changed_at", "-id")
    )
    return rows[:limit] if limit else rows


def tier_history(account_id: int, limit: int | None = None) -> QuerySet[TierChange]:
    rows = TierChange.objects.filter(account_id=account_id).order_by("-changed_at", "-id")
    return rows[:limit] if limit else rows
