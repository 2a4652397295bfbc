"""Choices of the Customer 360 domain, in one place so code, UI and API use the same words."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class Tier(models.TextChoices):
    HIGH_TOUCH = "high", _("High touch")
    LOW_TOUCH = "low", _("Low touch")
    TECH_TOUCH = "tech", _("Tech touch")


class TierMode(models.TextChoices):
    """How accounts get their tier: from ARR thresholds, or from condition trees."""

    ARR = "arr", _("ARR thresholds")
    CONDITIONS = "conditions", _("Conditions")


class LifecycleStage(models.TextChoices):
    ONBOARDING = "onboarding", _("Onboarding")
    ADOPTION = "adoption", _("Adoption")
    VALUE = "value", _("Value realisation")
    RENEWAL = "renewal", _("Renewal")
    CHURNED = "churned", _("Churned")


class Industry(models.TextChoices):
    SOFTWARE = "software", _("Software & IT")
    MANUFACTURING = "manufacturing", _("Manufacturing")
    RETAIL = "retail", _("Retail & e-commerce")
    FINANCE = "finance", _("Finance & insurance")
    HEALTHCARE = "healthcare", _("Healthcare")
    LOGISTICS = "logistics", _("Logistics")
    CONSTRUCTION = "construction", _("Construction & real estate")
    EDUCATION = "education", _("Education")
    PUBLIC = "public", _("Public sector")
    MEDIA = "media", _("Media & advertising")
    HOSPITALITY = "hospitality", _("Hospitality & food")
    SERVICES = "services", _("Professional services")
    OTHER = "other", _("Other")


class Region(models.TextChoices):
    HOKKAIDO = "hokkaido", _("Hokkaido")
    TOHOKU = "tohoku", _("Tohoku")
    KANTO = "kanto", _("Kanto")
    CHUBU = "chubu", _("Chubu")
    KINKI = "kinki", _("Kinki")
    CHUGOKU = "chugoku", _("Chugoku")
    SHIKOKU = "shikoku", _("Shikoku")
    KYUSHU = "kyushu", _("Kyushu & Okinawa")
    OVERSEAS = "overseas", _("Overseas")


class SubscriptionStatus(models.TextChoices):
    TRIAL = "trial", _("Trial")
    ACTIVE = "active", _("Active")
    CANCELLED = "cancelled", _("Cancelled")
    CHURNED = "churned", _("Churned")


# Subscriptions that count towards an account's ARR and renewal date.
LIVE_SUBSCRIPTION_STATUSES = (SubscriptionStatus.TRIAL, SubscriptionStatus.ACTIVE)


class OpportunityKind(models.TextChoices):
    UPSELL = "upsell", _("Upsell")
    CROSS_SELL = "cross_sell", _("Cross-sell")
    RENEWAL = "renewal", _("Renewal")


class OpportunityStage(models.TextChoices):
    QUALIFICATION = "qualification", _("Qualification")
    PROPOSAL = "proposal", _("Proposal")
    NEGOTIATION = "negotiation", _("Negotiation")
    WON = "won", _("Won")
    LOST = "lost", _("Lost")


class TouchpointKind(models.TextChoices):
    CALL = "call", _("Call")
    MEETING = "meeting", _("Meeting")
    ONBOARDING = "onboarding", _("Onboarding session")
    EMAIL = "email", _("Email")
    SEMINAR = "seminar", _("Seminar / webinar")
    NOTE = "note", _("Note")
    TICKET = "ticket", _("Support ticket")


class Channel(models.TextChoices):
    PHONE = "phone", _("Phone")
    VIDEO = "video", _("Video call")
    ONSITE = "onsite", _("On site")
    EMAIL = "email", _("Email")
    CHAT = "chat", _("Chat")
    EVENT = "event", _("Event")
    OTHER = "other", _("Other")


class Rating(models.TextChoices):
    VERY_GOOD = "very_good", _("Very good")
    GOOD = "good", _("Good")
    POOR = "poor", _("Poor")


class CustomFieldType(models.TextChoices):
    TEXT = "text", _("Text")
    NUMBER = "number", _("Number")
    DATE = "date", _("Date")
    BOOLEAN = "boolean", _("Yes / no")
    CHOICE = "choice", _("Choice")


class Currency(models.TextChoices):
    JPY = "JPY", _("Japanese yen (¥)")
    USD = "USD", _("US dollar ($)")
    EUR = "EUR", _("Euro (€)")
