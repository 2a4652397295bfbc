"""The read side of product usage: every usage figure Kizuna shows or computes with.

Other apps call only these functions (they return plain values and frozen dataclasses), so the
store behind them — today the daily rollups in the main database — can change without them
noticing. Every function reads rollups, never raw events (except the few recent events shown
for one contact), so each costs the same whether there are a thousand events or ten million.

Vocabulary: a *feature* is a track event name; a *login* is a track event whose name is one
of `UsageSettings.login_events`; *active users* of an account are the distinct contacts with
any usage event (track, page, screen) in the window; the *login rate* is active users divided
by the seats of the account's live contracts. Windows are whole days in Kizuna's time zone
ending today: "30 days" is today and the 29 days before.
"""

from __future__ import annotations

import datetime
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from django.db.models import (
    Count,
    IntegerField,
    Max,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
)
from django.db.models.functions import Coalesce
from django.utils import timezone

from kizuna.customers.choices import LIVE_SUBSCRIPTION_STATUSES
from kizuna.customers.models import Account, Subscription
from kizuna.usage.choices import ALL_ACTIVITY, USAGE_TYPES, EventType
from kizuna.usage.models import (
    AccountActivity,
    AccountDailyUsage,
    ContactActivity,
    ContactDailyUsage,
    Event,
    Feature,
    UsageSettings,
)


def _window(days: int, today: datetime.date | None = None) -> tuple[datetime.date, datetime.date]:
    if days < 1:
        raise ValueError("A window has at least one day.")
    today = today or timezone.localdate()
    return today - datetime.timedelta(days=days - 1), today


def _start_of(day: datetime.date) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time.min))


def login_events() -> list[str]:
    """The track event names that count as a login (configurable on the sources page)."""
    return list(UsageSettings.current().login_events)


# --- Figures for many accounts at once (set-based) -------------------------------------------


def logins(
    account_ids: Iterable[int], days: int = 30, *, names: Sequence[str] | None = None
) -> dict[int, int]:
    """Logins per account in the last `days` days (accounts without any are left out)."""
    first, last = _window(days)
    rows = (
        AccountDailyUsage.objects.filter(
            account_id__in=list(account_ids),
            type=EventType.TRACK,
            event__in=login_events() if names is None else list(names),
            day__gte=first,
            day__lte=last,
        )
        .values("account_id")
        .annotate(total=Sum("count"))
        .values_list("account_id", "total")
    )
    return {account_id: int(total) for account_id, total in rows}


def event_counts(
    account_ids: Iterable[int], event: str, days: int = 30, type: str = EventType.TRACK
) -> dict[int, int]:
    """How many `event` events (of `type`) each account had in the last `days` days."""
    first, last = _window(days)
    rows = (
        AccountDailyUsage.objects.filter(
            account_id__in=list(account_ids), type=type, event=event, day__gte=first, day__lte=last
        )
        .values("account_id")
        .annotate(total=Sum("count"))
        .values_list("account_id", "total")
    )
    return {account_id: int(total) for account_id, total in rows}


def active_users(account_ids: Iterable[int], days: int = 30) -> dict[int, int]:
    """Distinct contacts active in each account in the last `days` days."""
    first, _last = _window(days)
    rows = (
        ContactActivity.objects.filter(
            account_id__in=list(account_ids), last_seen_at__gte=_start_of(first)
        )
        .values("account_id")
        .annotate(users=Count("contact_id"))
        .values_list("account_id", "users")
    )
    return dict(rows)


def last_seen(account_ids: Iterable[int]) -> dict[int, datetime.datetime]:
    """When each account last used the product (accounts never seen are left out)."""
    rows = AccountActivity.objects.filter(
        account_id__in=list(account_ids), last_seen_at__isnull=False
    ).values_list("account_id", "last_seen_at")
    return {account_id: seen for account_id, seen in rows if seen is not None}


def with_logins_30d(accounts: QuerySet[Account]) -> QuerySet[Account]:
    """`accounts` annotated with `logins_30d` (0 when none).

    The figure is maintained by the rollup worker (see `AccountActivity`), so the account list
    can show it and sort by it without aggregating anything. It is a subquery on the
    account's primary key rather than a join, so that counting the list's rows leaves it out.
    """
    figure = AccountActivity.objects.filter(account_id=OuterRef("pk")).values("logins_30d")[:1]
    return accounts.annotate(
        logins_30d=Coalesce(Subquery(figure), Value(0), output_field=IntegerField())
    )


# The account list's sort orders on the annotation above.
LOGINS_SORT = ("-logins_30d", "id")


class AccountsByLogins:
    """Accounts in order of logins in the last 30 days, most first (ties, and the accounts
    without logins, by id), as a sequence a Paginator can page through cheaply.

    Sorting every account by a figure kept in another table would read all of them for each
    page. Instead a page is read along the index on `AccountActivity.logins_30d` (the
    accounts with logins), then, past their end, along the accounts' primary key (the
    others): each page costs a few index range reads, whatever the number of accounts.
    """

    def __init__(self, accounts: QuerySet[Account]) -> None:
        self.accounts = accounts.order_by()

    def count(self) -> int:
        return self.accounts.count()

    def __len__(self) -> int:
        return self.count()

    def _active(self) -> QuerySet[Account]:
        return with_logins_30d(self.accounts.filter(usage_activity__logins_30d__gt=0)).order_by(
            "-usage_activity__logins_30d", "id"
        )

    def _quiet(self) -> QuerySet[Account]:
        return with_logins_30d(self.accounts.exclude(usage_activity__logins_30d__gt=0)).order_by(
            "id"
        )

    def __getitem__(self, index: slice) -> list[Account]:
        start = index.start or 0
        stop = index.stop if index.stop is not None else self.count()
        rows = list(self._active()[start:stop])
        if len(rows) < stop - start:
            skip = max(0, start - self._active().count())
            rows += list(self._quiet()[skip : skip + (stop - start - len(rows))])
        return rows


# --- One account ------------------------------------------------------------------------------


@dataclass(frozen=True)
class DayUsage:
    day: datetime.date
    events: int
    users: int  # distinct contacts active that day


@dataclass(frozen=True)
class WeekUsage:
    week_start: datetime.date  # a Monday
    events: int
    users: int  # distinct contacts active that week
    logins: int


@dataclass(frozen=True)
class FeatureUse:
    name: str
    events: int
    users: int  # distinct contacts who used it in the window
    last_used: datetime.date


@dataclass(frozen=True)
class AccountUsage:
    """Everything the account 360 usage panel shows."""

    account_id: int
    window_days: int
    last_seen_at: datetime.datetime | None
    active_users: int
    seats: int
    logins: int
    events: int
    daily: list[DayUsage]  # every day of the trend window, oldest first, zeros included
    top_features: list[FeatureUse]
    unused_features: list[str]

    @property
    def login_rate(self) -> float | None:
        """Active users per licensed seat (0–1, may exceed 1), None without seats."""
        return self.active_users / self.seats if self.seats else None

    @property
    def has_data(self) -> bool:
        return self.last_seen_at is not None

    @property
    def peak_day_events(self) -> int:
        return max((day.events for day in self.daily), default=0)


def live_seats(account_id: int) -> int:
    """Seats of the account's live (trial or active) contracts."""
    total = Subscription.objects.filter(
        account_id=account_id, status__in=LIVE_SUBSCRIPTION_STATUSES
    ).aggregate(seats=Sum("seats"))["seats"]
    return int(total or 0)


def daily_usage(
    account_id: int, days: int = 90, today: datetime.date | None = None
) -> list[DayUsage]:
    """Events and daily active users of each of the last `days` days, zeros included."""
    first, last = _window(days, today)
    rows = dict(
        (day, (count, users))
        for day, count, users in AccountDailyUsage.objects.filter(
            account_id=account_id,
            type=ALL_ACTIVITY,
            event=ALL_ACTIVITY,
            day__gte=first,
            day__lte=last,
        ).values_list("day", "count", "users")
    )
    series = []
    for offset in range(days):
        day = first + datetime.timedelta(days=offset)
        count, users = rows.get(day, (0, 0))
        series.append(DayUsage(day=day, events=int(count), users=int(users)))
    return series


def weekly_trend(
    account_id: int, weeks: int = 13, today: datetime.date | None = None
) -> list[WeekUsage]:
    """Events, distinct active users and logins per week (Monday to Sunday), oldest first,
    for the last `weeks` weeks including the current one."""
    today = today or timezone.localdate()
    this_monday = today - datetime.timedelta(days=today.weekday())
    first = this_monday - datetime.timedelta(weeks=weeks - 1)
    events: dict[datetime.date, int] = defaultdict(int)
    logins_per_week: dict[datetime.date, int] = defaultdict(int)
    names = set(login_events())
    for day, type_, event, count in AccountDailyUsage.objects.filter(
        account_id=account_id, day__gte=first, day__lte=today
    ).values_list("day", "type", "event", "count"):
        monday = day - datetime.timedelta(days=day.weekday())
        if type_ == ALL_ACTIVITY:
            events[monday] += count
        elif type_ == EventType.TRACK and event in names:
            logins_per_week[monday] += count
    people: dict[datetime.date, set[int]] = defaultdict(set)
    for day, contact_id in ContactDailyUsage.objects.filter(
        account_id=account_id, type=ALL_ACTIVITY, event=ALL_ACTIVITY, day__gte=first, day__lte=today
    ).values_list("day", "contact_id"):
        people[day - datetime.timedelta(days=day.weekday())].add(contact_id)
    return [
        WeekUsage(
            week_start=monday,
            events=events[monday],
            users=len(people[monday]),
            logins=logins_per_week[monday],
        )
        for monday in (first + datetime.timedelta(weeks=index) for index in range(weeks))
    ]


def top_features(
    account_id: int,
    days: int = 30,
    limit: int = 8,
    today: datetime.date | None = None,
    *,
    names: Sequence[str] | None = None,
) -> list[FeatureUse]:
    """The account's most used features (track events) in the window, login events aside."""
    first, last = _window(days, today)
    names = login_events() if names is None else list(names)
    rows = (
        ContactDailyUsage.objects.filter(
            account_id=account_id, type=EventType.TRACK, day__gte=first, day__lte=last
        )
        .exclude(event__in=names)
        .values("event")
        .annotate(users=Count("contact_id", distinct=True))
        .values_list("event", "users")
    )
    users = dict(rows)
    totals = (
        AccountDailyUsage.objects.filter(
            account_id=account_id, type=EventType.TRACK, day__gte=first, day__lte=last
        )
        .exclude(event__in=names)
        .values("event")
        .annotate(total=Sum("count"), last_day=Max("day"))
        .order_by("-total", "event")
        .values_list("event", "total", "last_day")[:limit]
    )
    return [
        FeatureUse(name=name, events=int(total), users=users.get(name, 0), last_used=last_day)
        for name, total, last_day in totals
    ]


def unused_features(
    account_id: int,
    days: int = 90,
    limit: int = 20,
    today: datetime.date | None = None,
    *,
    names: Sequence[str] | None = None,
) -> list[str]:
    """Features other customers used in the window that this account did not use at all."""
    first, last = _window(days, today)
    names = login_events() if names is None else list(names)
    used = AccountDailyUsage.objects.filter(
        account_id=account_id, type=EventType.TRACK, day__gte=first, day__lte=last
    ).values("event")
    return list(
        Feature.objects.filter(last_seen_on__gte=first)
        .exclude(name__in=names)
        .exclude(name__in=used)
        .order_by("name")
        .values_list("name", flat=True)[:limit]
    )


def account_usage(
    account_id: int, *, days: int = 30, trend_days: int = 90, today: datetime.date | None = None
) -> AccountUsage:
    """The account 360 usage panel: active users vs licensed seats, logins, the daily trend,
    top features and features never used, last seen."""
    today = today or timezone.localdate()
    first, last = _window(days, today)
    daily = daily_usage(account_id, trend_days, today)
    window_events = sum(day.events for day in daily if first <= day.day <= last)
    activity = AccountActivity.objects.filter(account_id=account_id).first()
    names = login_events()
    return AccountUsage(
        account_id=account_id,
        window_days=days,
        last_seen_at=activity.last_seen_at if activity else None,
        active_users=active_users([account_id], days).get(account_id, 0),
        seats=live_seats(account_id),
        logins=logins([account_id], days, names=names).get(account_id, 0),
        events=window_events,
        daily=daily,
        top_features=top_features(account_id, days, today=today, names=names),
        unused_features=unused_features(
            account_id, max(days, trend_days), today=today, names=names
        ),
    )


# --- One contact -----------------------------------------------------------------------------


@dataclass(frozen=True)
class RecentEvent:
    at: datetime.datetime
    type: str
    name: str
    page: str


@dataclass(frozen=True)
class ContactUsage:
    """A person's activity: last seen, active days and events in the window, what they used
    most, and their latest events."""

    contact_id: int
    window_days: int
    last_seen_at: datetime.datetime | None
    active_days: int
    events: int
    features: list[tuple[str, int]]
    recent: list[RecentEvent]


def contact_usage(
    contact_id: int, *, days: int = 30, recent: int = 15, today: datetime.date | None = None
) -> ContactUsage:
    first, last = _window(days, today)
    seen = ContactActivity.objects.filter(contact_id=contact_id).order_by("-last_seen_at")
    last_seen_at = seen.values_list("last_seen_at", flat=True).first()
    rows = list(
        ContactDailyUsage.objects.filter(contact_id=contact_id, day__gte=first, day__lte=last)
        .values("type", "event")
        .annotate(total=Sum("count"), active_days=Count("day", distinct=True))
        .values_list("type", "event", "total", "active_days")
    )
    totals = [row for row in rows if row[0] == ALL_ACTIVITY]
    features = sorted(
        ((event, int(total)) for type_, event, total, _days in rows if type_ == EventType.TRACK),
        key=lambda item: (-item[1], item[0]),
    )
    latest = (
        Event.objects.filter(contact_id=contact_id, type__in=USAGE_TYPES)
        .order_by("-timestamp", "-id")
        .values_list("timestamp", "type", "event", "page_path")[:recent]
    )
    return ContactUsage(
        contact_id=contact_id,
        window_days=days,
        last_seen_at=last_seen_at,
        active_days=int(totals[0][3]) if totals else 0,
        events=int(totals[0][2]) if totals else 0,
        features=features[:8],
        recent=[
            RecentEvent(at=at, type=kind, name=name, page=path) for at, kind, name, path in latest
        ],
    )


# --- Raw events (for the API and exports) -------------------------------------------------


@dataclass(frozen=True)
class EventRecord:
    id: int
    message_id: str
    type: str
    event: str
    user_id: str
    anonymous_id: str
    contact_id: int | None
    account_id: int | None
    timestamp: datetime.datetime
    received_at: datetime.datetime
    properties: dict[str, object]
    page_url: str


def events(
    *,
    account_id: int | None = None,
    contact_id: int | None = None,
    since: datetime.datetime | None = None,
    until: datetime.datetime | None = None,
    before: tuple[datetime.datetime, int] | None = None,
    limit: int = 100,
) -> list[EventRecord]:
    """Stored events, newest first, of one account or contact (or all) in a time range.

    Page through them by passing the last record's ``(timestamp, id)`` as `before`; each page
    is one index range scan, however far back it is.
    """
    rows = Event.objects.all()
    if account_id is not None:
        rows = rows.filter(account_id=account_id)
    if contact_id is not None:
        rows = rows.filter(contact_id=contact_id)
    if since is not None:
        rows = rows.filter(timestamp__gte=since)
    if until is not None:
        rows = rows.filter(timestamp__lt=until)
    if before is not None:
        moment, last_id = before
        rows = rows.filter(Q(timestamp__lt=moment) | Q(timestamp=moment, id__lt=last_id))
    fields = (
        "id",
        "message_id",
        "type",
        "event",
        "user_id",
        "anonymous_id",
        "contact_id",
        "account_id",
        "timestamp",
        "received_at",
        "properties",
        "page_url",
    )
    return [
        EventRecord(*row)
        for row in rows.order_by("-timestamp", "-id").values_list(*fields)[
            : max(1, min(limit, 1000))
        ]
    ]


# --- Timeline ------------------------------------------------------------------------------


@dataclass(frozen=True)
class DaySummary:
    """One day of an account's usage for its timeline: totals and the largest parts."""

    day: datetime.date
    events: int
    users: int
    parts: list[tuple[str, str, int]]  # (type, event, count), largest first


def day_summaries(account_id: int, before: datetime.date, limit: int) -> list[DaySummary]:
    """The account's last `limit` days with usage up to and including `before`, newest
    first, read in one query."""
    days = (
        AccountDailyUsage.objects.filter(
            account_id=account_id, type=ALL_ACTIVITY, event=ALL_ACTIVITY, day__lte=before
        )
        .order_by("-day")
        .values("day")[:limit]
    )
    rows = AccountDailyUsage.objects.filter(account_id=account_id, day__in=days).values_list(
        "day", "type", "event", "count", "users"
    )
    totals: dict[datetime.date, tuple[int, int]] = {}
    parts: dict[datetime.date, list[tuple[str, str, int]]] = defaultdict(list)
    for day, type_, event, count, users in rows:
        if type_ == ALL_ACTIVITY:
            totals[day] = (int(count), int(users))
        else:
            parts[day].append((type_, event, int(count)))
    return [
        DaySummary(
            day=day,
            events=totals[day][0],
            users=totals[day][1],
            parts=sorted(parts[day], key=lambda part: (-part[2], part[0], part[1])),
        )
        for day in sorted(totals, reverse=True)
    ]


def features_catalogue(since: datetime.date | None = None) -> Sequence[str]:
    """Every feature seen (since a day), alphabetically."""
    features = Feature.objects.all()
    if since is not None:
        features = features.filter(last_seen_on__gte=since)
    return list(features.order_by("name").values_list("name", flat=True))
