"""Customer 360: accounts, their contacts, contracts, opportunities and touchpoints."""

from __future__ import annotations

import zoneinfo
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator, RegexValidator
from django.db import models
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from kizuna.core.conditions import ConditionError, parse
from kizuna.customers import search
from kizuna.customers.choices import (
    Channel,
    Currency,
    CustomFieldType,
    Industry,
    LifecycleStage,
    OpportunityKind,
    OpportunityStage,
    Rating,
    Region,
    SubscriptionStatus,
    Tier,
    TierMode,
    TouchpointKind,
)


class TimestampedModel(models.Model):
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        abstract = True


def validate_time_zone(value: str) -> None:
    if value and value not in zoneinfo.available_timezones():
        raise ValidationError(
            _("“%(zone)s” is not a time zone (for example Asia/Tokyo)."), params={"zone": value}
        )


class Account(TimestampedModel):
    """A customer company. ARR, MRR, renewal date and tier are kept up to date from its
    subscriptions by `services.refresh_rollups`, so lists can sort and filter on them cheaply.
    """

    name = models.CharField(_("name"), max_length=200)
    name_kana = models.CharField(_("kana reading"), max_length=200, blank=True)
    domain = models.CharField(_("domain"), max_length=200, blank=True)
    industry = models.CharField(
        _("industry"), max_length=32, choices=Industry.choices, default=Industry.OTHER
    )
    employees = models.PositiveIntegerField(_("employees"), null=True, blank=True)
    region = models.CharField(_("region"), max_length=32, choices=Region.choices, blank=True)
    external_id = models.CharField(
        _("CRM / external ID"), max_length=100, unique=True, null=True, blank=True
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("owner CSM"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="owned_accounts",
    )
    tier = models.CharField(_("tier"), max_length=8, choices=Tier.choices, default=Tier.TECH_TOUCH)
    stage = models.CharField(
        _("lifecycle stage"),
        max_length=16,
        choices=LifecycleStage.choices,
        default=LifecycleStage.ONBOARDING,
        db_index=True,
    )
    # The day the account entered its current stage (time in stage; set by the lifecycle
    # service whenever the stage changes).
    stage_entered_on = models.DateField(_("in stage since"), default=timezone.localdate)
    custom_attributes = models.JSONField(_("custom fields"), default=dict, blank=True)
    # Where the customer works: success flows wait for business hours in this zone. Empty:
    # Kizuna's own time zone (settings.TIME_ZONE).
    time_zone = models.CharField(
        _("time zone"), max_length=64, blank=True, default="", validators=[validate_time_zone]
    )
    # Maintained from subscriptions (see services.refresh_rollups).
    arr = models.DecimalField(_("ARR"), default=Decimal(0), max_digits=16, decimal_places=2)
    mrr = models.DecimalField(_("MRR"), default=Decimal(0), max_digits=16, decimal_places=2)
    next_renewal_date = models.DateField(_("next renewal"), null=True, blank=True)
    # Licensed seats of the live contracts (login rate = active users / seats).
    seats = models.PositiveIntegerField(_("licensed seats"), default=0, db_default=0)
    # Normalised name, kana, domain and external id for partial-match search (see search.py).
    search_text = models.TextField(editable=False, default="")

    class Meta:
        verbose_name = _("account")
        verbose_name_plural = _("accounts")
        ordering = ["name_kana", "name", "id"]
        indexes = [
            models.Index(fields=["name_kana", "name", "id"], name="account_default_order"),
            models.Index(fields=["-arr", "id"], name="account_arr"),
            models.Index(fields=["next_renewal_date", "id"], name="account_renewal"),
            models.Index(fields=["owner", "name_kana", "name", "id"], name="account_owner"),
            models.Index(fields=["-updated_at", "id"], name="account_updated"),
            # These two cover the portfolio aggregate (queries.portfolio), for one owner's
            # book and for everyone's, so it reads an index only; the second also serves
            # the tier and tier+stage filters of the account list.
            models.Index(
                fields=["owner", "tier", "stage", "arr", "next_renewal_date"],
                name="account_portfolio",
            ),
            models.Index(
                fields=["tier", "stage", "arr", "next_renewal_date"],
                name="account_tier_portfolio",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def save(self, *args: object, **kwargs: object) -> None:
        self.search_text = self.build_search_text()
        update_fields = kwargs.get("update_fields")
        if update_fields is not None:
            kwargs["update_fields"] = {*update_fields, "search_text"}  # type: ignore[misc]
        super().save(*args, **kwargs)  # type: ignore[arg-type]

    def get_absolute_url(self) -> str:
        return reverse("customers:account", args=[self.pk])

    def build_search_text(self) -> str:
        return search.search_text(self.name, self.name_kana, self.domain, self.external_id)


class Contact(TimestampedModel):
    """A person at a customer: an end user of the product, a champion, a decision maker."""

    account = models.ForeignKey(
        Account, verbose_name=_("account"), on_delete=models.CASCADE, related_name="contacts"
    )
    name = models.CharField(_("name"), max_length=200)
    name_kana = models.CharField(_("kana reading"), max_length=200, blank=True)
    email = models.EmailField(_("email"), blank=True)
    phone = models.CharField(
        _("phone"),
        max_length=40,
        blank=True,
        validators=[
            RegexValidator(
                r"^[0-9+()\- ]{6,40}$",
                _("Enter a phone number using digits, spaces, +, - and parentheses."),
            )
        ],
    )
    title = models.CharField(_("title / role"), max_length=200, blank=True)
    is_champion = models.BooleanField(_("champion"), default=False)
    is_decision_maker = models.BooleanField(_("decision maker"), default=False)
    external_id = models.CharField(
        _("external ID"), max_length=100, unique=True, null=True, blank=True
    )
    # The user id the customer's product sends with tracking calls (Segment `userId`).
    product_user_id = models.CharField(
        _("product user ID"), max_length=200, unique=True, null=True, blank=True
    )
    # The language of the emails and in-app messages this person gets; empty: Japanese.
    language = models.CharField(
        _("language"),
        max_length=8,
        choices=[("ja", _("Japanese")), ("en", _("English"))],
        blank=True,
    )

    class Meta:
        verbose_name = _("contact")
        verbose_name_plural = _("contacts")
        ordering = ["name_kana", "name", "id"]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("customers:contact", args=[self.pk])


class Subscription(TimestampedModel):
    """A contract: what the customer pays for, until when."""

    account = models.ForeignKey(
        Account, verbose_name=_("account"), on_delete=models.CASCADE, related_name="subscriptions"
    )
    product = models.CharField(_("product"), max_length=200)
    plan = models.CharField(_("plan"), max_length=200, blank=True)
    seats = models.PositiveIntegerField(_("seats"), default=1, validators=[MinValueValidator(1)])
    mrr = models.DecimalField(
        _("MRR"), validators=[MinValueValidator(Decimal(0))], max_digits=16, decimal_places=2
    )
    arr = models.DecimalField(
        _("ARR"), validators=[MinValueValidator(Decimal(0))], max_digits=16, decimal_places=2
    )
    currency = models.CharField(
        _("currency"), max_length=3, choices=Currency.choices, default=Currency.JPY
    )
    start_date = models.DateField(_("start"))
    end_date = models.DateField(_("end / renewal date"), null=True, blank=True)
    status = models.CharField(
        _("status"),
        max_length=16,
        choices=SubscriptionStatus.choices,
        default=SubscriptionStatus.ACTIVE,
    )
    auto_renew = models.BooleanField(_("auto-renew"), default=True)
    external_id = models.CharField(
        _("external ID"), max_length=100, unique=True, null=True, blank=True
    )

    class Meta:
        verbose_name = _("subscription")
        verbose_name_plural = _("subscriptions")
        ordering = ["-start_date", "-id"]
        indexes = [models.Index(fields=["account", "status"])]

    def __str__(self) -> str:
        return f"{self.product} {self.plan}".strip()

    def clean(self) -> None:
        if self.end_date and self.start_date and self.end_date < self.start_date:
            raise ValidationError({"end_date": _("The end date cannot be before the start date.")})


class Opportunity(TimestampedModel):
    """A chance to grow or keep revenue: upsell, cross-sell or renewal."""

    account = models.ForeignKey(
        Account, verbose_name=_("account"), on_delete=models.CASCADE, related_name="opportunities"
    )
    name = models.CharField(_("name"), max_length=200)
    kind = models.CharField(_("type"), max_length=16, choices=OpportunityKind.choices)
    amount = models.DecimalField(
        _("amount"), validators=[MinValueValidator(Decimal(0))], max_digits=16, decimal_places=2
    )
    currency = models.CharField(
        _("currency"), max_length=3, choices=Currency.choices, default=Currency.JPY
    )
    stage = models.CharField(
        _("stage"),
        max_length=16,
        choices=OpportunityStage.choices,
        default=OpportunityStage.QUALIFICATION,
    )
    close_date = models.DateField(_("close date"))
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("owner"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    external_id = models.CharField(
        _("external ID"), max_length=100, unique=True, null=True, blank=True
    )

    class Meta:
        verbose_name = _("opportunity")
        verbose_name_plural = _("opportunities")
        ordering = ["close_date", "id"]

    def __str__(self) -> str:
        return self.name

    @property
    def is_open(self) -> bool:
        return self.stage not in (OpportunityStage.WON, OpportunityStage.LOST)


class Touchpoint(TimestampedModel):
    """A call, meeting, session, email, seminar, note or ticket with a customer, rated by the
    CSM (very good / good / poor) — the qualitative signal health scores use later.
    """

    account = models.ForeignKey(
        Account, verbose_name=_("account"), on_delete=models.CASCADE, related_name="touchpoints"
    )
    kind = models.CharField(_("type"), max_length=16, choices=TouchpointKind.choices)
    occurred_at = models.DateTimeField(_("date"))
    channel = models.CharField(_("channel"), max_length=16, choices=Channel.choices, blank=True)
    rating = models.CharField(_("rating"), max_length=16, choices=Rating.choices, blank=True)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("author"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    contacts = models.ManyToManyField(
        Contact, verbose_name=_("contacts"), blank=True, related_name="touchpoints"
    )
    subject = models.CharField(_("subject"), max_length=200)
    body = models.TextField(_("notes"), blank=True)

    class Meta:
        verbose_name = _("touchpoint")
        verbose_name_plural = _("touchpoints")
        ordering = ["-occurred_at", "-id"]
        indexes = [
            models.Index(fields=["account", "-occurred_at"]),
            models.Index(fields=["-occurred_at"]),
        ]

    def __str__(self) -> str:
        return self.subject


def default_high_touch_conditions() -> dict[str, Any]:
    # The same accounts as the default ARR threshold, so switching modes changes nothing
    # until a manager edits the rule.
    return {"metric": "subscription.arr", "op": "gte", "value": 6_000_000}


def default_low_touch_conditions() -> dict[str, Any]:
    return {"metric": "subscription.arr", "op": "gte", "value": 1_200_000}


class TierPolicy(models.Model):
    """How accounts get their tier; one row, edited by managers.

    In ARR mode an account with ARR ≥ `high_touch_min_arr` is high touch, ≥
    `low_touch_min_arr` low touch, otherwise tech touch. In conditions mode an account that
    matches `high_touch_conditions` is high touch, else one that matches
    `low_touch_conditions` low touch, else tech touch. The trees are condition trees (see
    kizuna.core.conditions.tree), e.g.
    ``{"and": [{"metric": "subscription.arr", "op": "gte", "value": 3000000},
    {"metric": "account.attribute", "params": {"field": "industry"}, "op": "in",
    "value": ["finance"]}]}``.
    """

    mode = models.CharField(
        _("tiers come from"), max_length=16, choices=TierMode.choices, default=TierMode.ARR
    )
    high_touch_min_arr = models.DecimalField(
        _("high touch from ARR"), default=Decimal(6_000_000), max_digits=16, decimal_places=2
    )
    low_touch_min_arr = models.DecimalField(
        _("low touch from ARR"), default=Decimal(1_200_000), max_digits=16, decimal_places=2
    )
    high_touch_conditions = models.JSONField(
        _("high touch when"), default=default_high_touch_conditions
    )
    low_touch_conditions = models.JSONField(
        _("low touch when"), default=default_low_touch_conditions
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("tier policy")
        verbose_name_plural = _("tier policies")

    def __str__(self) -> str:
        return str(_("Tier policy"))

    def clean(self) -> None:
        errors: dict[str, Any] = {}
        for name in ("high_touch_conditions", "low_touch_conditions"):
            try:
                parse(getattr(self, name))
            except ConditionError as exc:
                where = _("at %s: ") % exc.path if exc.path else ""
                errors[name] = f"{where}{exc.message}"
        if self.low_touch_min_arr is not None and self.high_touch_min_arr is not None:
            if self.low_touch_min_arr < 0:
                errors["low_touch_min_arr"] = _("A threshold cannot be negative.")
            elif self.high_touch_min_arr <= self.low_touch_min_arr:
                errors["high_touch_min_arr"] = _(
                    "The high-touch threshold must be above the low-touch threshold."
                )
        if errors:
            raise ValidationError(errors)

    @classmethod
    def current(cls) -> TierPolicy:
        policy, _created = cls.objects.get_or_create(pk=1)
        return policy

    def tier_for(self, arr: Decimal) -> str:
        if arr >= self.high_touch_min_arr:
            return Tier.HIGH_TOUCH
        if arr >= self.low_touch_min_arr:
            return Tier.LOW_TOUCH
        return Tier.TECH_TOUCH

    def snapshot(self) -> dict[str, Any]:
        """What decided the tiers, kept with each tier change: the mode and, for it, the
        thresholds or the trees."""
        if self.mode == TierMode.CONDITIONS:
            return {
                "mode": self.mode,
                "high_touch_conditions": self.high_touch_conditions,
                "low_touch_conditions": self.low_touch_conditions,
            }
        return {
            "mode": self.mode,
            "high_touch_min_arr": f"{self.high_touch_min_arr:.2f}",
            "low_touch_min_arr": f"{self.low_touch_min_arr:.2f}",
        }


class TierChange(models.Model):
    """An account's tier changed: from, to, when, and why — its ARR then and the policy
    that decided (`policy`, the `TierPolicy.snapshot()` of the time, e.g.
    ``{"mode": "arr", "high_touch_min_arr": "6000000.00", "low_touch_min_arr":
    "1200000.00"}``). Written set-based by `services.apply_tiers`."""

    account = models.ForeignKey(
        Account, verbose_name=_("account"), on_delete=models.CASCADE, related_name="tier_changes"
    )
    from_tier = models.CharField(_("from"), max_length=8, choices=Tier.choices)
    to_tier = models.CharField(_("to"), max_length=8, choices=Tier.choices)
    changed_at = models.DateTimeField(_("changed"), default=timezone.now)
    arr = models.DecimalField(_("ARR"), max_digits=16, decimal_places=2, default=Decimal(0))
    policy = models.JSONField(_("policy"), default=dict)

    class Meta:
        verbose_name = _("tier change")
        verbose_name_plural = _("tier changes")
        ordering = ["-changed_at", "-id"]
        indexes = [
            models.Index(fields=["account", "-changed_at", "-id"], name="tierchange_account")
        ]

    def __str__(self) -> str:
        return f"{self.get_from_tier_display()} → {self.get_to_tier_display()}"

    @property
    def mode(self) -> str:
        return str(self.policy.get("mode", TierMode.ARR))

    @property
    def reason(self) -> str:
        """Why, for people: "ARR ¥7,200,000 ≥ ¥6,000,000 (high-touch threshold)", or
        "Matched the high-touch rule"."""
        if self.mode == TierMode.CONDITIONS:
            if self.to_tier == Tier.HIGH_TOUCH:
                return str(_("Matched the high-touch rule"))
            if self.to_tier == Tier.LOW_TOUCH:
                return str(_("Matched the low-touch rule"))
            return str(_("Matched neither the high-touch nor the low-touch rule"))
        high = Decimal(self.policy.get("high_touch_min_arr", 0))
        low = Decimal(self.policy.get("low_touch_min_arr", 0))
        values = {"arr": f"¥{self.arr:,.0f}", "high": f"¥{high:,.0f}", "low": f"¥{low:,.0f}"}
        if self.to_tier == Tier.HIGH_TOUCH:
            return str(_("ARR %(arr)s ≥ %(high)s (high-touch threshold)") % values)
        if self.to_tier == Tier.LOW_TOUCH:
            return str(_("ARR %(arr)s ≥ %(low)s (low-touch threshold), below %(high)s") % values)
        return str(_("ARR %(arr)s below %(low)s (low-touch threshold)") % values)


KEY_VALIDATOR = RegexValidator(
    r"^[a-z][a-z0-9_]{0,49}$",
    _("Use lower-case letters, digits and underscores, starting with a letter."),
)


class CustomFieldDefinition(models.Model):
    """A field a manager adds to accounts. Values live in `Account.custom_attributes[key]`.

    `choices` is a list of option strings for the choice type, e.g. ``["A", "B", "C"]``.
    """

    key = models.CharField(_("key"), max_length=50, unique=True, validators=[KEY_VALIDATOR])
    label_ja = models.CharField(_("label (Japanese)"), max_length=100)
    label_en = models.CharField(_("label (English)"), max_length=100)
    field_type = models.CharField(
        _("type"), max_length=16, choices=CustomFieldType.choices, default=CustomFieldType.TEXT
    )
    choices = models.JSONField(_("choices"), default=list, blank=True)
    required = models.BooleanField(_("required"), default=False)
    filterable = models.BooleanField(_("filter in account list"), default=False)
    position = models.PositiveIntegerField(_("position"), default=0)

    class Meta:
        verbose_name = _("custom field")
        verbose_name_plural = _("custom fields")
        ordering = ["position", "key"]

    def __str__(self) -> str:
        return self.label

    @property
    def label(self) -> str:
        from django.utils.translation import get_language

        return self.label_ja if (get_language() or "ja").startswith("ja") else self.label_en

    def clean(self) -> None:
        if not isinstance(self.choices, list) or not all(
            isinstance(item, str) and item.strip() for item in self.choices
        ):
            raise ValidationError({"choices": _("Choices must be a list of non-empty texts.")})
        self.choices = [item.strip() for item in self.choices]
        if len(set(self.choices)) != len(self.choices):
            raise ValidationError({"choices": _("Each choice may appear only once.")})
        if self.field_type == CustomFieldType.CHOICE and not self.choices:
            raise ValidationError({"choices": _("A choice field needs at least one choice.")})
        if self.field_type != CustomFieldType.CHOICE and self.choices:
            raise ValidationError({"choices": _("Only a choice field has choices.")})
