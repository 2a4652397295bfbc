"""Tech touch as metrics, so segments, flow triggers and health scorecards can use how an
account responds to email and in-app guidance (seed 004 lists "the click rate of marketing
emails" among the churn-risk signals):

- ``email.click_rate`` / ``email.open_rate`` — % of the emails delivered to the account's
  contacts in the last N days (campaigns and flows; test sends and transactional mail left
  out) that were clicked / opened. No value when none was delivered.
- ``email.delivered`` — how many such emails were delivered in the window.
- ``inapp.completion_rate`` — % of the in-app messages shown to the account's people in the
  last N days that they completed (finished the tour, pressed the button). No value when none
  was shown.

Windows end on the context's day, like the usage metrics, so a backtest can look back.
"""

from __future__ import annotations

import datetime
from typing import Any

import pydantic
from django.db.models import (
    Count,
    ExpressionWrapper,
    FloatField,
    IntegerField,
    OuterRef,
    Q,
    Subquery,
    Value,
)
from django.db.models.functions import Cast, Coalesce, NullIf
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from kizuna.core.conditions.metrics import Context, Metric, Params, ValueType, register
from kizuna.engagement.choices import MessageStatus
from kizuna.engagement.models import EmailMessage, InAppState

TECH_TOUCH = _("Tech touch")
MAX_WINDOW = 365


class WindowParams(Params):
    days: int = pydantic.Field(default=90, ge=1, le=MAX_WINDOW)


def _window(ctx: Context, days: int) -> tuple[datetime.datetime, datetime.datetime]:
    """[start, end) of the `days` whole days ending on the context's day, as aware times."""
    tz = timezone.get_current_timezone()
    end_day = ctx.today + datetime.timedelta(days=1)
    start_day = end_day - datetime.timedelta(days=days)
    start = datetime.datetime.combine(start_day, datetime.time.min, tzinfo=tz)
    end = datetime.datetime.combine(end_day, datetime.time.min, tzinfo=tz)
    return start, end


def _count(rows: Any, condition: Q | None = None) -> Any:
    counted = (
        rows.order_by()
        .values("account")
        .annotate(n=Count("pk", filter=condition) if condition is not None else Count("pk"))
        .values("n")
    )
    return Subquery(counted, output_field=IntegerField())


def _delivered(ctx: Context, days: int) -> Any:
    start, end = _window(ctx, days)
    return EmailMessage.objects.filter(
        account=OuterRef("pk"),
        status=MessageStatus.SENT,
        transactional=False,
        sent_at__gte=start,
        sent_at__lt=end,
    ).exclude(source="test")


def _rate(part: Any, whole: Any) -> Any:
    return ExpressionWrapper(
        Cast(Coalesce(part, Value(0)), FloatField())
        * Value(100.0)
        / Cast(NullIf(whole, Value(0)), FloatField()),
        output_field=FloatField(),
    )


class _EmailRate(Metric):
    category = TECH_TOUCH
    Params = WindowParams
    unit = "%"
    depends_on = frozenset({"email"})
    field: str

    def value_type(self, params: Any) -> ValueType:
        return ValueType.NUMBER

    def expression(self, params: WindowParams, ctx: Context) -> Any:
        delivered = _delivered(ctx, params.days)
        _start, end = _window(ctx, params.days)
        # As of a past day, a click after that day had not happened yet.
        responded = Q(**{f"{self.field}__isnull": False, f"{self.field}__lt": end})
        return _rate(_count(delivered, responded), _count(delivered))


@register
class EmailClickRate(_EmailRate):
    key = "email.click_rate"
    label = _("Email click rate")
    field = "clicked_at"

    def describe(self, params: WindowParams) -> str:
        return gettext("Email click rate, last %d days") % params.days


@register
class EmailOpenRate(_EmailRate):
    key = "email.open_rate"
    label = _("Email open rate")
    field = "opened_at"

    def describe(self, params: WindowParams) -> str:
        return gettext("Email open rate, last %d days") % params.days


@register
class EmailsDelivered(Metric):
    key = "email.delivered"
    label = _("Emails delivered")
    category = TECH_TOUCH
    Params = WindowParams
    depends_on = frozenset({"email"})

    def value_type(self, params: Any) -> ValueType:
        return ValueType.NUMBER

    def expression(self, params: WindowParams, ctx: Context) -> Any:
        return Coalesce(_count(_delivered(ctx, params.days)), Value(0))

    def describe(self, params: WindowParams) -> str:
        return gettext("Emails delivered, last %d days") % params.days


@register
class InAppCompletionRate(Metric):
    key = "inapp.completion_rate"
    label = _("In-app completion rate")
    category = TECH_TOUCH
    Params = WindowParams
    unit = "%"
    depends_on = frozenset({"email"})

    def value_type(self, params: Any) -> ValueType:
        return ValueType.NUMBER

    def expression(self, params: WindowParams, ctx: Context) -> Any:
        start, end = _window(ctx, params.days)
        shown = InAppState.objects.filter(
            account=OuterRef("pk"), first_shown_at__gte=start, first_shown_at__lt=end
        )
        completed = Q(completed_at__isnull=False, completed_at__lt=end)
        return _rate(_count(shown, completed), _count(shown))

    def describe(self, params: WindowParams) -> str:
        return gettext("In-app completion rate, last %d days") % params.days
