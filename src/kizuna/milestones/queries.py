"""The read side of milestones: the counts per milestone for the settings page, and an
account's progress for its panel and the API."""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field

from django.db.models import Count, F, Q

from kizuna.customers.choices import LifecycleStage
from kizuna.customers.models import Account
from kizuna.milestones.choices import MilestoneStatus
from kizuna.milestones.models import AccountMilestone, Milestone
from kizuna.milestones.services import due_on


@dataclass(frozen=True)
class Counts:
    reached: int = 0
    overdue: int = 0
    pending: int = 0


def counts(today: datetime.date) -> dict[int, Counts]:
    """Per milestone: accounts that reached it (ever), and, of the accounts in its stage
    now, those overdue and those still before their due day — one GROUP BY."""
    current = Q(
        reached_on__isnull=True,
        account__stage=F("milestone__stage"),
        account__stage_entered_on=F("stage_entered_on"),
    )
    rows = (
        AccountMilestone.objects.order_by()
        .values("milestone_id")
        .annotate(
            reached=Count("pk", filter=Q(reached_on__isnull=False)),
            overdue=Count("pk", filter=current & Q(due_on__lt=today)),
            pending=Count("pk", filter=current & Q(due_on__gte=today)),
        )
        .values_list("milestone_id", "reached", "overdue", "pending")
    )
    return {pk: Counts(reached, overdue, pending) for pk, reached, overdue, pending in rows}


@dataclass(frozen=True)
class StageMilestones:
    stage: str
    label: str
    milestones: list[tuple[Milestone, Counts]]


def by_stage(today: datetime.date) -> list[StageMilestones]:
    """Every milestone with its counts, grouped by stage in lifecycle order (two queries)."""
    found = counts(today)
    milestones = list(Milestone.objects.order_by("order", "id"))
    return [
        StageMilestones(
            stage=stage,
            label=str(label),
            milestones=[
                (milestone, found.get(milestone.pk, Counts()))
                for milestone in milestones
                if milestone.stage == stage
            ],
        )
        for stage, label in LifecycleStage.choices
    ]


@dataclass(frozen=True)
class Item:
    """A milestone of the account's current stage, as the account stands on it."""

    milestone: Milestone
    status: MilestoneStatus
    due_on: datetime.date
    row: AccountMilestone | None


@dataclass(frozen=True)
class Progress:
    stage: str
    items: list[Item]
    # Milestones of other stages the account reached (earlier stays), newest first.
    elsewhere: list[AccountMilestone] = field(default_factory=list)

    @property
    def reached(self) -> int:
        return sum(1 for item in self.items if item.status == MilestoneStatus.REACHED)

    @property
    def overdue(self) -> int:
        return sum(1 for item in self.items if item.status == MilestoneStatus.OVERDUE)

    @property
    def percent(self) -> int | None:
        """As the `milestone.progress` metric: None when the stage has no milestones."""
        if not self.items:
            return None
        return round(100 * self.reached / len(self.items))


def account_progress(account: Account, today: datetime.date) -> Progress:
    """The enabled milestones of the account's current stage, each reached (with when and
    why), overdue or due, and the milestones of other stages it reached — two queries.

    A milestone the recompute has not seen yet for the account (just created, or the
    account just moved) shows as due from the day it entered the stage."""
    milestones = list(
        Milestone.objects.filter(stage=account.stage, enabled=True).order_by("order", "id")
    )
    rows = list(
        AccountMilestone.objects.filter(account=account)
        .filter(Q(milestone__stage=account.stage) | Q(reached_on__isnull=False))
        .select_related("milestone")
    )
    mine = {row.milestone_id: row for row in rows if row.milestone.stage == account.stage}
    items: list[Item] = []
    for milestone in milestones:
        row = mine.get(milestone.pk)
        if row is not None and row.reached_on is not None:
            items.append(Item(milestone, MilestoneStatus.REACHED, row.due_on, row))
            continue
        due = due_on(account.stage_entered_on, milestone.target_days)
        status = MilestoneStatus.OVERDUE if due < today else MilestoneStatus.PENDING
        items.append(Item(milestone, status, due, row))
    elsewhere = sorted(
        (row for row in rows if row.milestone.stage != account.stage and row.reached_on),
        key=lambda row: (row.reached_on, row.pk),
        reverse=True,
    )
    return Progress(stage=account.stage, items=items, elsewhere=elsewhere)
