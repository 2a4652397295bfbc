"""Customer 360 metrics for conditions and scorecards: account attributes and custom fields,
contracts, touchpoints (see kizuna.core.conditions.metrics)."""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from typing import Any, ClassVar, Literal

import pydantic
from django.db import models
from django.db.models import (
    BooleanField,
    Case,
    Count,
    DecimalField,
    F,
    FloatField,
    IntegerField,
    Max,
    Min,
    OuterRef,
    Q,
    Subquery,
    Sum,
    TextField,
    Value,
    When,
)
from django.db.models.fields.json import KT
from django.db.models.functions import Cast, Coalesce
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from kizuna.core.conditions.metrics import (
    Context,
    DaysBetween,
    Metric,
    Params,
    ValueType,
    register,
)
from kizuna.customers.choices import (
    Industry,
    LifecycleStage,
    Rating,
    Region,
    SubscriptionStatus,
    Tier,
    TouchpointKind,
)
from kizuna.customers.models import CustomFieldDefinition, Subscription, Touchpoint

ACCOUNT = _("Account")
CONTRACT = _("Contract")
TOUCHPOINTS = _("Touchpoints")
MONEY = DecimalField(max_digits=16, decimal_places=2)


# --- Account attributes -----------------------------------------------------------------------

# Attribute → (label, value type, choices or None). Tier and stage have their own metrics.
ATTRIBUTES: dict[str, tuple[Any, ValueType, Any]] = {
    "name": (_("name"), ValueType.TEXT, None),
    "domain": (_("domain"), ValueType.TEXT, None),
    "industry": (_("industry"), ValueType.CHOICE, Industry.choices),
    "region": (_("region"), ValueType.CHOICE, Region.choices),
    "employees": (_("employees"), ValueType.NUMBER, None),
    "external_id": (_("external id"), ValueType.TEXT, None),
}


class AttributeParams(Params):
    field: Literal["name", "domain", "industry", "region", "employees", "external_id"]


@register
class AccountAttribute(Metric):
    key = "account.attribute"
    label = _("Account attribute")
    category = ACCOUNT
    Params = AttributeParams
    historical = False

    def value_type(self, params: AttributeParams) -> ValueType:
        return ATTRIBUTES[params.field][1]

    def expression(self, params: AttributeParams, ctx: Context) -> Any:
        if params.field in ("industry", "region", "domain", "external_id"):
            # Blank means "not set": NULL, so that "has no value" matches it.
            return Case(When(**{params.field: ""}, then=Value(None)), default=F(params.field))
        return F(params.field)

    def choices(self, params: AttributeParams) -> Sequence[tuple[str, str]]:
        options = ATTRIBUTES[params.field][2] or []
        return [(value, str(label)) for value, label in options]

    def describe(self, params: AttributeParams) -> str:
        return str(ATTRIBUTES[params.field][0]).capitalize()

    def param_choices(self, name: str) -> Sequence[tuple[str, str]] | None:
        if name == "field":
            return [(key, str(spec[0]).capitalize()) for key, spec in ATTRIBUTES.items()]
        return None


class CustomFieldParams(Params):
    field: str = pydantic.Field(min_length=1, max_length=50)


def _definition(key: str) -> CustomFieldDefinition | None:
    return CustomFieldDefinition.objects.filter(key=key).first()


@register
class CustomField(Metric):
    """A custom field's value. Yes/no fields are BOOLEAN, number fields NUMBER, choice fields
    CHOICE, text TEXT; a date field gives the days since that date (negative before it)."""

    key = "account.custom_field"
    label = _("Custom field")
    category = ACCOUNT
    Params = CustomFieldParams
    historical = False

    def _type(self, params: CustomFieldParams) -> str:
        definition = _definition(params.field)
        return definition.field_type if definition else "text"

    def value_type(self, params: CustomFieldParams) -> ValueType:
        return {
            "number": ValueType.NUMBER,
            "date": ValueType.NUMBER,
            "boolean": ValueType.BOOLEAN,
            "choice": ValueType.CHOICE,
        }.get(self._type(params), ValueType.TEXT)

    def check(self, params: CustomFieldParams) -> None:
        if _definition(params.field) is None:
            raise ValueError(gettext("There is no custom field “%s”.") % params.field)

    def expression(self, params: CustomFieldParams, ctx: Context) -> Any:
        lookup = f"custom_attributes__{params.field}"
        kind = self._type(params)
        if kind == "boolean":
            return Case(
                When(Q(**{lookup: True}), then=Value(True)),
                When(Q(**{lookup: False}), then=Value(False)),
                default=Value(None),
                output_field=BooleanField(),
            )
        if kind == "number":
            return Cast(KT(lookup), FloatField())
        if kind == "date":
            return DaysBetween(KT(lookup), Value(ctx.today))
        # As plain text: "is one of" on a bare KT is a JSON lookup on SQLite ("malformed JSON").
        return Cast(KT(lookup), TextField())

    def choices(self, params: CustomFieldParams) -> Sequence[tuple[str, str]]:
        definition = _definition(params.field)
        return [(choice, choice) for choice in (definition.choices if definition else [])]

    def param_choices(self, name: str) -> Sequence[tuple[str, str]] | None:
        if name == "field":
            return [(d.key, d.label) for d in CustomFieldDefinition.objects.all()]
        return None

    def describe(self, params: CustomFieldParams) -> str:
        definition = _definition(params.field)
        name = definition.label if definition else params.field
        if definition and definition.field_type == "date":
            return gettext("Days since %s") % name
        return name


class ChoiceColumn(Metric):
    """An account column holding one of a TextChoices' values (tier, stage)."""

    category = ACCOUNT
    historical = False
    column: ClassVar[str]
    options: ClassVar[type[models.TextChoices]]

    def value_type(self, params: Any) -> ValueType:
        return ValueType.CHOICE

    def expression(self, params: Any, ctx: Context) -> Any:
        return F(self.column)

    def choices(self, params: Any) -> Sequence[tuple[str, str]]:
        return [(value, str(label)) for value, label in self.options.choices]


@register
class AccountTier(ChoiceColumn):
    key = "account.tier"
    label = _("Tier")
    depends_on = frozenset({"account", "tier"})
    column = "tier"
    options = Tier


@register
class AccountStage(ChoiceColumn):
    key = "account.stage"
    label = _("Lifecycle stage")
    depends_on = frozenset({"account", "stage"})
    column = "stage"
    options = LifecycleStage


@register
class DaysInStage(Metric):
    key = "account.days_in_stage"
    label = _("Days in the current stage")
    category = ACCOUNT
    historical = False
    depends_on = frozenset({"account", "stage"})
    unit = _("days")

    def value_type(self, params: Any) -> ValueType:
        return ValueType.NUMBER

    def expression(self, params: Any, ctx: Context) -> Any:
        return DaysBetween(F("stage_entered_on"), Value(ctx.today))


@register
class AccountOwner(Metric):
    key = "account.owner"
    label = _("Owner")
    category = ACCOUNT
    historical = False

    def value_type(self, params: Any) -> ValueType:
        return ValueType.CHOICE

    def expression(self, params: Any, ctx: Context) -> Any:
        return Cast(F("owner_id"), output_field=IntegerField())

    def choices(self, params: Any) -> Sequence[tuple[str, str]]:
        from kizuna.core.models import Role, User

        # Condition values are text: the owner's id as a string.
        staff = User.objects.filter(is_active=True).exclude(role=Role.VIEWER)
        return [(str(user.pk), user.get_full_name() or user.username) for user in staff]


# --- Contracts ----------------------------------------------------------------------------------


def live_subscriptions(ctx: Context) -> Any:
    """The account's contracts that were live on `ctx.today`. Today that is the live
    statuses; on a past day, a contract that had started and not yet ended then (a
    cancelled or churned contract counts until its end date)."""
    account_subs = Subscription.objects.filter(account=OuterRef("pk"))
    if ctx.is_today:
        return account_subs.filter(status__in=[SubscriptionStatus.TRIAL, SubscriptionStatus.ACTIVE])
    return account_subs.filter(start_date__lte=ctx.today).filter(
        Q(
            end_date__gte=ctx.today,
            status__in=[SubscriptionStatus.CANCELLED, SubscriptionStatus.CHURNED],
        )
        | Q(
            status__in=[SubscriptionStatus.TRIAL, SubscriptionStatus.ACTIVE],
        )
        & (Q(end_date__isnull=True) | Q(end_date__gte=ctx.today))
    )


def _contract_sum(column: str, ctx: Context, output: Any) -> Any:
    total = (
        live_subscriptions(ctx)
        .order_by()
        .values("account")
        .annotate(total=Sum(column))
        .values("total")
    )
    return Coalesce(Subquery(total, output_field=output), Value(0), output_field=output)


class ContractMetric(Metric):
    category = CONTRACT
    depends_on = frozenset({"subscription"})

    def value_type(self, params: Any) -> ValueType:
        return ValueType.NUMBER


@register
class Arr(ContractMetric):
    key = "subscription.arr"
    label = _("ARR")
    unit = "¥"

    def expression(self, params: Any, ctx: Context) -> Any:
        return F("arr") if ctx.is_today else _contract_sum("arr", ctx, MONEY)


@register
class Mrr(ContractMetric):
    key = "subscription.mrr"
    label = _("MRR")
    unit = "¥"

    def expression(self, params: Any, ctx: Context) -> Any:
        return F("mrr") if ctx.is_today else _contract_sum("mrr", ctx, MONEY)


@register
class Seats(ContractMetric):
    key = "subscription.seats"
    label = _("Licensed seats")

    def expression(self, params: Any, ctx: Context) -> Any:
        return _contract_sum("seats", ctx, IntegerField())


@register
class DaysToRenewal(ContractMetric):
    key = "subscription.days_to_renewal"
    label = _("Days to renewal")
    unit = _("days")

    def expression(self, params: Any, ctx: Context) -> Any:
        if ctx.is_today:
            return DaysBetween(Value(ctx.today), F("next_renewal_date"))
        upcoming = (
            live_subscriptions(ctx)
            .filter(end_date__gte=ctx.today)
            .order_by()
            .values("account")
            .annotate(first=Min("end_date"))
            .values("first")
        )
        return DaysBetween(Value(ctx.today), Subquery(upcoming))


@register
class ContractStatus(Metric):
    """The status of the account's most recent contract (latest start)."""

    key = "subscription.status"
    label = _("Contract status")
    category = CONTRACT
    historical = False
    depends_on = frozenset({"subscription"})

    def value_type(self, params: Any) -> ValueType:
        return ValueType.CHOICE

    def expression(self, params: Any, ctx: Context) -> Any:
        latest = Subscription.objects.filter(account=OuterRef("pk")).order_by("-start_date", "-id")
        return Subquery(latest.values("status")[:1])

    def choices(self, params: Any) -> Sequence[tuple[str, str]]:
        return [(value, str(label)) for value, label in SubscriptionStatus.choices]


# --- Touchpoints --------------------------------------------------------------------------------


def _end_of(day: datetime.date) -> datetime.datetime:
    return timezone.make_aware(
        datetime.datetime.combine(day + datetime.timedelta(days=1), datetime.time.min)
    )


class TouchpointParams(Params):
    kind: TouchpointKind | None = None


def _touchpoints(params: TouchpointParams, ctx: Context) -> Any:
    rows = Touchpoint.objects.filter(account=OuterRef("pk"), occurred_at__lt=_end_of(ctx.today))
    if params.kind:
        rows = rows.filter(kind=params.kind)
    return rows


def _kind_suffix(params: TouchpointParams) -> str:
    return f" ({TouchpointKind(params.kind).label})" if params.kind else ""


@register
class LastRating(Metric):
    """The rating of the most recent rated touchpoint (very good / good / poor)."""

    key = "touchpoint.last_rating"
    label = _("Last touchpoint rating")
    category = TOUCHPOINTS
    Params = TouchpointParams
    depends_on = frozenset({"touchpoint"})

    def value_type(self, params: Any) -> ValueType:
        return ValueType.CHOICE

    def expression(self, params: TouchpointParams, ctx: Context) -> Any:
        rated = _touchpoints(params, ctx).exclude(rating="").order_by("-occurred_at", "-id")
        return Subquery(rated.values("rating")[:1])

    def choices(self, params: Any) -> Sequence[tuple[str, str]]:
        return [(value, str(label)) for value, label in Rating.choices]

    def describe(self, params: TouchpointParams) -> str:
        return str(self.label) + _kind_suffix(params)


@register
class DaysSinceTouchpoint(Metric):
    key = "touchpoint.days_since"
    label = _("Days since the last touchpoint")
    category = TOUCHPOINTS
    Params = TouchpointParams
    depends_on = frozenset({"touchpoint"})
    unit = _("days")

    def value_type(self, params: Any) -> ValueType:
        return ValueType.NUMBER

    def expression(self, params: TouchpointParams, ctx: Context) -> Any:
        last = (
            _touchpoints(params, ctx).order_by().values("account").annotate(last=Max("occurred_at"))
        )
        return DaysBetween(Subquery(last.values("last")), Value(ctx.today))

    def describe(self, params: TouchpointParams) -> str:
        return str(self.label) + _kind_suffix(params)


class TouchpointCountParams(TouchpointParams):
    days: int = pydantic.Field(default=90, ge=1, le=3650)
    rating: Rating | None = None


@register
class TouchpointCount(Metric):
    """Touchpoints in the last N days, of a type and/or with a rating (e.g. seminars
    attended in the last year, poor-rated calls in the last 90 days)."""

    key = "touchpoint.count"
    label = _("Touchpoints")
    category = TOUCHPOINTS
    Params = TouchpointCountParams
    depends_on = frozenset({"touchpoint"})

    def value_type(self, params: Any) -> ValueType:
        return ValueType.NUMBER

    def expression(self, params: TouchpointCountParams, ctx: Context) -> Any:
        rows = _touchpoints(params, ctx).filter(
            occurred_at__gte=_end_of(ctx.today - datetime.timedelta(days=params.days))
        )
        if params.rating:
            rows = rows.filter(rating=params.rating)
        counted = rows.order_by().values("account").annotate(n=Count("id")).values("n")
        return Coalesce(Subquery(counted, output_field=IntegerField()), Value(0))

    def describe(self, params: TouchpointCountParams) -> str:
        text = gettext("Touchpoints in the last %d days") % params.days + _kind_suffix(params)
        if params.rating:
            text += f" — {Rating(params.rating).label}"
        return text
