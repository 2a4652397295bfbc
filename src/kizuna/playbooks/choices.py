"""Choices of CTAs, playbooks and assignment rules."""

from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class CtaType(models.TextChoices):
    RISK = "risk", _("Risk")
    ONBOARDING = "onboarding", _("Onboarding")
    RENEWAL = "renewal", _("Renewal")
    EXPANSION = "expansion", _("Expansion")
    LIFECYCLE = "lifecycle", _("Lifecycle")
    OTHER = "other", _("Other")


class Priority(models.TextChoices):
    HIGH = "high", _("High")
    MEDIUM = "medium", _("Medium")
    LOW = "low", _("Low")


# Sort key of each priority: high first.
PRIORITY_RANK = {Priority.HIGH: 1, Priority.MEDIUM: 2, Priority.LOW: 3}


class CtaStatus(models.TextChoices):
    OPEN = "open", pgettext_lazy("CTA status", "Open")
    SNOOZED = "snoozed", _("Snoozed")
    DONE = "done", _("Done")
    CANCELLED = "cancelled", _("Cancelled")


# A CTA in one of these still asks for work (and blocks a duplicate).
OPEN_STATUSES = (CtaStatus.OPEN, CtaStatus.SNOOZED)
CLOSED_STATUSES = (CtaStatus.DONE, CtaStatus.CANCELLED)


class Outcome(models.TextChoices):
    RESOLVED = "resolved", _("Resolved")
    NOT_RESOLVED = "not_resolved", _("Not resolved")
    NO_RESPONSE = "no_response", _("No response from the customer")
    CHURN_CONFIRMED = "churn_confirmed", _("Churn risk confirmed")
    RENEWED = "renewed", _("Renewed")
    EXPANSION_WON = "expansion_won", _("Expansion won")
    EXPANSION_LOST = "expansion_lost", _("Expansion lost")
    NOT_NEEDED = "not_needed", _("No longer needed")


class CtaSource(models.TextChoices):
    MANUAL = "manual", _("Created by hand")
    FLOW = "flow", _("Success flow")
    API = "api", _("API")
    SYSTEM = "system", _("Kizuna")


class AssignmentStrategy(models.TextChoices):
    ACCOUNT_OWNER = "account_owner", _("The account's owner")
    ROUND_ROBIN = "round_robin", _("Round robin among users")
    SPECIFIC_USER = "specific_user", _("A specific user")
