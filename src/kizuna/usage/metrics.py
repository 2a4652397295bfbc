"""Product usage metrics for conditions and scorecards, read from the daily rollups (never the
raw events), so each costs the same with a thousand events or ten million.

Windows are whole days ending on the context's day: "30 days" is that day and the 29 before.
Vocabulary as in kizuna.usage.queries: a login is a track event named in the usage settings,
active users are distinct contacts with any usage in the window, the login rate is active
users per licensed seat of the live contracts, in %.
"""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from typing import Any, ClassVar, Literal

import pydantic
from django.db.models import (
    Case,
    Count,
    ExpressionWrapper,
    F,
    FloatField,
    IntegerField,
    Max,
    OuterRef,
    Subquery,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Cast, Coalesce, NullIf, TruncDate
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from kizuna.core.conditions.metrics import (
    Context,
    DaysBetween,
    Metric,
    NoParams,
    Params,
    ValueType,
    register,
)
from kizuna.customers.metrics import live_subscriptions
from kizuna.usage.choices import ALL_ACTIVITY, EventType
from kizuna.usage.models import AccountDailyUsage, ContactDailyUsage, UsageSettings
from kizuna.usage.rollups import WINDOWS

USAGE = _("Usage")
MAX_WINDOW = 365


def _logins(ctx: Context) -> list[str]:
    names = ctx.extra.get("login_events")
    if names is None:
        names = list(UsageSettings.current().login_events)
        ctx.extra["login_events"] = names
    return names


def _days(ctx: Context, days: int, offset: int = 0) -> tuple[datetime.date, datetime.date]:
    """The window of `days` days ending `offset` windows before the context's day."""
    last = ctx.today - datetime.timedelta(days=days * offset)
    return last - datetime.timedelta(days=days - 1), last


class WindowParams(Params):
    days: int = pydantic.Field(default=30, ge=1, le=MAX_WINDOW)


class EventParams(WindowParams):
    event: str = pydantic.Field(min_length=1, max_length=200)


def _windowed(
    model: type[AccountDailyUsage] | type[ContactDailyUsage],
    total: Any,
    ctx: Context,
    days: int,
    offset: int,
    **rows: Any,
) -> Any:
    """`total` over the account's daily rollup rows of the window (0 when none)."""
    first, last = _days(ctx, days, offset)
    figure = (
        model.objects.filter(account=OuterRef("pk"), day__gte=first, day__lte=last, **rows)
        .order_by()
        .values("account")
        .annotate(total=total)
        .values("total")
    )
    return Coalesce(Subquery(figure, output_field=IntegerField()), Value(0))


def event_count(ctx: Context, days: int, *, events: Sequence[str], offset: int = 0) -> Any:
    """Track events named `events` in the window, per account (0 when none)."""
    return _windowed(
        AccountDailyUsage,
        Sum("count"),
        ctx,
        days,
        offset,
        type=EventType.TRACK,
        event__in=list(events),
    )


def activity_count(ctx: Context, days: int, offset: int = 0) -> Any:
    """Usage events of any kind in the window."""
    return _windowed(
        AccountDailyUsage, Sum("count"), ctx, days, offset, type=ALL_ACTIVITY, event=ALL_ACTIVITY
    )


def active_users(ctx: Context, days: int, offset: int = 0) -> Any:
    """Distinct people with any usage in the window."""
    return _windowed(
        ContactDailyUsage,
        Count("contact", distinct=True),
        ctx,
        days,
        offset,
        type=ALL_ACTIVITY,
        event=ALL_ACTIVITY,
    )


def counter(ctx: Context, figure: str, days: int, offset: int, computed: Any) -> Any:
    """`computed` (an aggregate over the daily rollups), or — for today and the usual
    windows — the same figure read from the account's precomputed counters
    (AccountActivity, kept by the rollup worker), which costs one joined row instead of an
    aggregate per account. Counters not refreshed today (just after midnight) fall back to
    `computed`; an account with no counters row has never been seen, so its figure is 0."""
    if not ctx.is_today or days not in WINDOWS or (offset == 1 and days != 30) or offset > 1:
        return computed
    name = f"{figure}_{days}d" if offset == 0 else f"{figure}_prev_30d"
    return Case(
        When(usage_activity__window_end=ctx.today, then=F(f"usage_activity__{name}")),
        When(usage_activity__isnull=True, then=Value(0)),
        default=computed,
        output_field=IntegerField(),
    )


def _seats(ctx: Context) -> Any:
    if ctx.is_today:
        return F("seats")  # kept by customers.services.refresh_rollups
    seats = (
        live_subscriptions(ctx).order_by().values("account").annotate(s=Sum("seats")).values("s")
    )
    return Subquery(seats, output_field=IntegerField())


def _percent(part: Any, whole: Any) -> Any:
    """part / whole in %, NULL when whole is 0 or NULL."""
    return ExpressionWrapper(
        Cast(part, FloatField()) * Value(100.0) / Cast(NullIf(whole, Value(0)), FloatField()),
        output_field=FloatField(),
    )


class UsageMetric(Metric):
    category = USAGE
    Params: ClassVar[type[pydantic.BaseModel]] = WindowParams
    depends_on = frozenset({"usage"})

    def value_type(self, params: Any) -> ValueType:
        return ValueType.NUMBER


@register
class Logins(UsageMetric):
    key = "usage.logins"
    label = _("Logins")

    def expression(self, params: WindowParams, ctx: Context) -> Any:
        computed = event_count(ctx, params.days, events=_logins(ctx))
        return counter(ctx, "logins", params.days, 0, computed)

    def describe(self, params: WindowParams) -> str:
        return gettext("Logins in the last %d days") % params.days


@register
class EventCount(UsageMetric):
    key = "usage.event_count"
    label = _("Times an event was done")
    Params = EventParams

    def expression(self, params: EventParams, ctx: Context) -> Any:
        return event_count(ctx, params.days, events=[params.event])

    def describe(self, params: EventParams) -> str:
        return gettext("“%(event)s” in the last %(days)d days") % {
            "event": params.event,
            "days": params.days,
        }


@register
class Activity(UsageMetric):
    key = "usage.activity"
    label = _("Usage events (all)")

    def expression(self, params: WindowParams, ctx: Context) -> Any:
        return counter(ctx, "activity", params.days, 0, activity_count(ctx, params.days))

    def describe(self, params: WindowParams) -> str:
        return gettext("Usage events in the last %d days") % params.days


@register
class ActiveUsers(UsageMetric):
    key = "usage.active_users"
    label = _("Active users")

    def expression(self, params: WindowParams, ctx: Context) -> Any:
        return counter(ctx, "active_users", params.days, 0, active_users(ctx, params.days))

    def describe(self, params: WindowParams) -> str:
        return gettext("Active users in the last %d days") % params.days


@register
class LoginRate(UsageMetric):
    key = "usage.login_rate"
    label = _("Login rate (active users per seat)")
    unit = "%"
    depends_on = frozenset({"usage", "subscription"})

    def expression(self, params: WindowParams, ctx: Context) -> Any:
        users = counter(ctx, "active_users", params.days, 0, active_users(ctx, params.days))
        return _percent(users, _seats(ctx))

    def describe(self, params: WindowParams) -> str:
        return gettext("Login rate over the last %d days (active users per seat)") % params.days


@register
class DaysSinceLastSeen(UsageMetric):
    key = "usage.days_since_last_seen"
    label = _("Days since last seen")
    unit = _("days")

    Params = NoParams

    def expression(self, params: Any, ctx: Context) -> Any:
        last = (
            AccountDailyUsage.objects.filter(
                account=OuterRef("pk"), type=ALL_ACTIVITY, event=ALL_ACTIVITY, day__lte=ctx.today
            )
            .order_by()
            .values("account")
            .annotate(last=Max("day"))
            .values("last")
        )
        computed = DaysBetween(Subquery(last), Value(ctx.today))
        if not ctx.is_today:
            return computed
        # Today: from the last-seen time the rollup worker keeps (one joined row), unless it
        # lies ahead of today (a sender's clock), which the daily rollups leave out.
        seen = TruncDate("usage_activity__last_seen_at")
        return Case(
            When(usage_activity__isnull=True, then=Value(None)),
            When(
                usage_activity__last_seen_at__date__lte=ctx.today,
                then=DaysBetween(seen, Value(ctx.today)),
            ),
            default=computed,
            output_field=IntegerField(),
        )


class ChangeParams(WindowParams):
    of: Literal["logins", "active_users", "activity"] = "active_users"


CHANGE_OF = {
    "logins": _("logins"),
    "active_users": _("active users"),
    "activity": _("usage events"),
}


@register
class Change(UsageMetric):
    """How a usage figure moved: the last N days against the N days before, in %.
    NULL when the previous window had nothing (no base to compare with)."""

    key = "usage.change"
    label = _("Change vs the previous window")
    Params = ChangeParams
    unit = "%"

    def _figure(self, params: ChangeParams, ctx: Context, offset: int) -> Any:
        if params.of == "logins":
            computed = event_count(ctx, params.days, events=_logins(ctx), offset=offset)
        elif params.of == "activity":
            computed = activity_count(ctx, params.days, offset)
        else:
            computed = active_users(ctx, params.days, offset)
        return counter(ctx, params.of, params.days, offset, computed)

    def expression(self, params: ChangeParams, ctx: Context) -> Any:
        now = self._figure(params, ctx, 0)
        before = self._figure(params, ctx, 1)
        return _percent(now - before, before)

    def param_choices(self, name: str) -> Sequence[tuple[str, str]] | None:
        if name == "of":
            return [(key, str(label).capitalize()) for key, label in CHANGE_OF.items()]
        return None

    def describe(self, params: ChangeParams) -> str:
        return gettext("Change in %(of)s, last %(days)d days vs the %(days)d before (%%)") % {
            "of": CHANGE_OF[params.of],
            "days": params.days,
        }
