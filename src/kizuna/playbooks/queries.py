"""Read side of CTAs: My work lists, the account panel and the team view's figures.

Every figure of the team view is one GROUP BY query over the whole team, whatever the
number of CSMs, CTAs or accounts.
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db.models import Case, Count, IntegerField, Q, QuerySet, Sum, Value, When
from django.db.models.functions import TruncWeek
from django.utils import timezone

from kizuna.core.models import User
from kizuna.customers import search
from kizuna.customers.choices import Tier
from kizuna.customers.models import Touchpoint
from kizuna.playbooks.choices import (
    OPEN_STATUSES,
    PRIORITY_RANK,
    CtaStatus,
    CtaType,
    Outcome,
    Priority,
)
from kizuna.playbooks.models import Cta, CtaTask, Notification, Playbook

WEEKS = 8

PRIORITY_ORDER = Case(
    *(When(priority=value, then=Value(rank)) for value, rank in PRIORITY_RANK.items()),
    default=Value(9),
    output_field=IntegerField(),
)


def awake(today: datetime.date | None = None) -> Q:
    """CTAs that ask for work today: open, or snoozed until today or earlier."""
    today = today or timezone.localdate()
    return Q(status=CtaStatus.OPEN) | Q(status=CtaStatus.SNOOZED, snoozed_until__lte=today)


@dataclass(frozen=True)
class WorkFilter:
    """The filters of My work, read from the query string. `status` is "open" (awake
    CTAs, the default), "snoozed", "closed" or "all"."""

    status: str = "open"
    type: str = ""
    priority: str = ""
    overdue: bool = False
    q: str = ""
    owner: str = "me"  # "me", "all", "none" or a user id (managers)

    STATUSES = ("open", "snoozed", "closed", "all")

    @classmethod
    def from_query(cls, data: Mapping[str, Any]) -> WorkFilter:
        status = str(data.get("status") or "open")
        kind = str(data.get("type") or "")
        priority = str(data.get("priority") or "")
        owner = str(data.get("owner") or "me")
        if not (owner in ("me", "all", "none") or owner.isdigit()):
            owner = "me"
        return cls(
            status=status if status in cls.STATUSES else "open",
            type=kind if kind in CtaType.values else "",
            priority=priority if priority in Priority.values else "",
            overdue=data.get("overdue") in ("1", "on", "true"),
            q=str(data.get("q") or "").strip()[:100],
            owner=owner,
        )

    @property
    def is_default(self) -> bool:
        return self == WorkFilter(owner=self.owner)


def work(spec: WorkFilter, user: User) -> QuerySet[Cta]:
    """The CTAs of My work: by priority (high first), then due date."""
    today = timezone.localdate()
    rows = Cta.objects.select_related("account", "owner")
    if spec.owner == "me" or not user.can_configure:
        rows = rows.filter(owner=user)
    elif spec.owner == "none":
        rows = rows.filter(owner__isnull=True)
    elif spec.owner.isdigit():
        rows = rows.filter(owner_id=int(spec.owner))
    if spec.status == "open":
        rows = rows.filter(awake(today))
    elif spec.status == "snoozed":
        rows = rows.filter(status=CtaStatus.SNOOZED, snoozed_until__gt=today)
    elif spec.status == "closed":
        rows = rows.filter(status__in=(CtaStatus.DONE, CtaStatus.CANCELLED))
    if spec.type:
        rows = rows.filter(type=spec.type)
    if spec.priority:
        rows = rows.filter(priority=spec.priority)
    if spec.overdue:
        rows = rows.filter(status__in=OPEN_STATUSES, due_on__lt=today)
    if spec.q:
        rows = rows.filter(account__search_text__contains=search.normalize(spec.q))
    if spec.status == "closed":
        return rows.order_by("-closed_at", "-id")
    return rows.annotate(priority_rank=PRIORITY_ORDER).order_by("priority_rank", "due_on", "id")


def work_counts(user: User) -> dict[str, int]:
    """Open, overdue and due-today counts of a user's CTAs, in one query."""
    today = timezone.localdate()
    open_q = awake(today)
    return Cta.objects.filter(owner=user).aggregate(
        open=Count("id", filter=open_q),
        overdue=Count("id", filter=open_q & Q(due_on__lt=today)),
        today=Count("id", filter=open_q & Q(due_on=today)),
        snoozed=Count("id", filter=Q(status=CtaStatus.SNOOZED, snoozed_until__gt=today)),
    )


def unread_notifications(user: User, limit: int = 10) -> list[Notification]:
    return list(
        Notification.objects.filter(user=user, read_at__isnull=True)
        .select_related("account")
        .order_by("-created_at", "-id")[:limit]
    )


def unread_count(user: User) -> int:
    return Notification.objects.filter(user=user, read_at__isnull=True).count()


def account_ctas(account_id: int) -> QuerySet[Cta]:
    """An account's open and snoozed CTAs, by priority then due date."""
    return (
        Cta.objects.filter(account_id=account_id, status__in=OPEN_STATUSES)
        .select_related("owner")
        .annotate(priority_rank=PRIORITY_ORDER)
        .order_by("priority_rank", "due_on", "id")
    )


# --- Team view --------------------------------------------------------------------------


@dataclass
class TierLine:
    accounts: int = 0
    arr: Decimal = Decimal(0)


@dataclass
class CsmRow:
    user: User | None
    open: int = 0
    overdue: int = 0
    closed: list[int] = field(default_factory=list)  # per week, oldest first
    touchpoints: list[int] = field(default_factory=list)
    tiers: dict[str, TierLine] = field(default_factory=dict)

    @property
    def accounts(self) -> int:
        return sum(line.accounts for line in self.tiers.values())

    @property
    def arr(self) -> Decimal:
        return sum((line.arr for line in self.tiers.values()), Decimal(0))

    @property
    def tier_lines(self) -> list[tuple[str, TierLine]]:
        return [(value, self.tiers.get(value, TierLine())) for value in Tier.values]

    @property
    def closed_total(self) -> int:
        return sum(self.closed)

    @property
    def touchpoints_total(self) -> int:
        return sum(self.touchpoints)


@dataclass(frozen=True)
class Team:
    weeks: list[datetime.date]
    rows: list[CsmRow]


def week_start(day: datetime.date) -> datetime.date:
    return day - datetime.timedelta(days=day.weekday())


def _week(value: datetime.datetime | datetime.date) -> datetime.date:
    if isinstance(value, datetime.datetime):
        value = timezone.localtime(value).date() if timezone.is_aware(value) else value.date()
    return week_start(value)


def team(today: datetime.date | None = None, weeks: int = WEEKS) -> Team:
    """Per CSM (active users who are not viewers, plus "nobody" when something is
    unowned): open and overdue CTAs; CTAs closed and touchpoints logged per week over the
    last `weeks` weeks (Monday to Sunday, this week last); accounts and ARR by tier.
    Five queries: the users and one GROUP BY per figure."""
    today = today or timezone.localdate()
    first = week_start(today) - datetime.timedelta(weeks=weeks - 1)
    week_days = [first + datetime.timedelta(weeks=index) for index in range(weeks)]
    since = timezone.make_aware(datetime.datetime.combine(first, datetime.time.min))
    users = list(User.objects.filter(is_active=True).exclude(role="viewer").order_by("pk"))
    rows: dict[int | None, CsmRow] = {
        user.pk: CsmRow(user, closed=[0] * weeks, touchpoints=[0] * weeks) for user in users
    }

    def row(owner_id: int | None) -> CsmRow:
        if owner_id not in rows:
            rows[owner_id] = CsmRow(None, closed=[0] * weeks, touchpoints=[0] * weeks)
        return rows[owner_id]

    open_q = awake(today)
    for owner_id, open_count, overdue in (
        Cta.objects.filter(status__in=OPEN_STATUSES)
        .values("owner")
        .annotate(
            open=Count("id", filter=open_q),
            overdue=Count("id", filter=open_q & Q(due_on__lt=today)),
        )
        .values_list("owner", "open", "overdue")
    ):
        line = row(owner_id)
        line.open, line.overdue = open_count, overdue
    index = {day: position for position, day in enumerate(week_days)}
    for owner_id, week, count in (
        Cta.objects.filter(status=CtaStatus.DONE, closed_at__gte=since)
        .annotate(week=TruncWeek("closed_at"))
        .values("owner", "week")
        .annotate(count=Count("id"))
        .values_list("owner", "week", "count")
    ):
        position = index.get(_week(week))
        if position is not None:
            row(owner_id).closed[position] += count
    for author_id, week, count in (
        Touchpoint.objects.filter(occurred_at__gte=since, author__isnull=False)
        .annotate(week=TruncWeek("occurred_at"))
        .values("author", "week")
        .annotate(count=Count("id"))
        .values_list("author", "week", "count")
    ):
        position = index.get(_week(week))
        if position is not None and author_id in rows:
            rows[author_id].touchpoints[position] += count
    from kizuna.customers.models import Account

    for owner_id, tier, accounts, arr in (
        Account.objects.values("owner", "tier")
        .annotate(accounts=Count("id"), total=Sum("arr"))
        .values_list("owner", "tier", "accounts", "total")
        .order_by()
    ):
        row(owner_id).tiers[tier] = TierLine(accounts, Decimal(arr or 0))
    ordered = [rows[user.pk] for user in users]
    if None in rows:
        ordered.append(rows[None])
    return Team(week_days, ordered)


@dataclass
class PlaybookStats:
    """What came of a playbook's CTAs: how many by status, their outcomes, and the share
    of checklist steps ticked."""

    by_status: dict[str, int]
    by_outcome: list[tuple[str, int]]
    tasks: int
    tasks_done: int

    @property
    def total(self) -> int:
        return sum(self.by_status.values())

    @property
    def tasks_done_share(self) -> float | None:
        return self.tasks_done / self.tasks if self.tasks else None


def playbook_stats(playbook: Playbook) -> PlaybookStats:
    """Two grouped queries, whatever the number of CTAs."""
    rows = (
        Cta.objects.filter(playbook=playbook)
        .values("status", "outcome")
        .annotate(n=Count("id"))
        .order_by()
    )
    by_status: dict[str, int] = {}
    by_outcome: dict[str, int] = {}
    for row in rows:
        by_status[row["status"]] = by_status.get(row["status"], 0) + row["n"]
        if row["outcome"]:
            by_outcome[row["outcome"]] = by_outcome.get(row["outcome"], 0) + row["n"]
    labels = dict(Outcome.choices)
    tasks = CtaTask.objects.filter(cta__playbook=playbook).aggregate(
        n=Count("id"), done=Count("id", filter=Q(done_at__isnull=False))
    )
    return PlaybookStats(
        by_status=by_status,
        by_outcome=sorted(
            ((str(labels.get(key, key)), n) for key, n in by_outcome.items()),
            key=lambda item: -item[1],
        ),
        tasks=int(tasks["n"]),
        tasks_done=int(tasks["done"]),
    )
