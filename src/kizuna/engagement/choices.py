"""Choices of the tech-touch app: email templates, messages, campaigns and in-app guidance."""

from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class CategoryKind(models.TextChoices):
    # Transactional messages (login details, a password reset) are sent whatever the
    # contact's preferences and are never counted against the frequency cap; marketing-style
    # ones (newsletters, invitations, onboarding nudges) honour both.
    TRANSACTIONAL = "transactional", _("Transactional")
    MARKETING = "marketing", _("Marketing / engagement")


class ContentType(models.TextChoices):
    """What a message offers, so click-through can be compared across content types."""

    ARTICLE = "article", _("Article")
    VIDEO = "video", _("Video")
    WEBINAR = "webinar", _("Webinar invitation")
    TUTORIAL = "tutorial", _("Tutorial / guide")
    ANNOUNCEMENT = "announcement", _("Announcement")
    SURVEY = "survey", _("Survey")
    SUPPORT = "support", _("Support / help")
    OTHER = "other", _("Other")


class MessageSource(models.TextChoices):
    """What decided to send an email."""

    CAMPAIGN = "campaign", _("Campaign")
    FLOW = "flow", _("Success flow")
    TEST = "test", _("Test send")


class MessageStatus(models.TextChoices):
    QUEUED = "queued", pgettext_lazy("email status", "Queued")
    SENDING = "sending", pgettext_lazy("email status", "Sending")
    SENT = "sent", pgettext_lazy("email status", "Sent")
    FAILED = "failed", pgettext_lazy("email status", "Failed")
    BOUNCED = "bounced", pgettext_lazy("email status", "Bounced")
    # Held back by the frequency cap or the de-duplication rule (never sent).
    HELD = "held", pgettext_lazy("email status", "Held back")
    # Not sendable to this contact: no address, unsubscribed, suppressed, a missing value.
    SKIPPED = "skipped", pgettext_lazy("email status", "Skipped")


# Statuses after which the worker never touches a message again.
FINAL_STATUSES = frozenset(
    {
        MessageStatus.SENT,
        MessageStatus.FAILED,
        MessageStatus.BOUNCED,
        MessageStatus.HELD,
        MessageStatus.SKIPPED,
    }
)


class HoldReason(models.TextChoices):
    """Why a message was held back or skipped (kept on the message, shown in the cap log)."""

    FREQUENCY_CAP = "frequency_cap", _("Frequency cap")
    DUPLICATE = "duplicate", _("Same content already sent")
    NO_EMAIL = "no_email", _("No email address")
    UNSUBSCRIBED = "unsubscribed", _("Unsubscribed from this category")
    SUPPRESSED = "suppressed", _("On the suppression list")
    MISSING_VALUE = "missing_value", _("A personalisation value is missing")


class EmailEventKind(models.TextChoices):
    QUEUED = "queued", pgettext_lazy("email event", "Queued")
    SENT = "sent", pgettext_lazy("email event", "Sent")
    RETRY = "retry", pgettext_lazy("email event", "Will retry")
    FAILED = "failed", pgettext_lazy("email event", "Failed")
    BOUNCED = "bounced", pgettext_lazy("email event", "Bounced")
    OPENED = "opened", pgettext_lazy("email event", "Opened")
    CLICKED = "clicked", pgettext_lazy("email event", "Clicked")
    UNSUBSCRIBED = "unsubscribed", pgettext_lazy("email event", "Unsubscribed")
    HELD = "held", pgettext_lazy("email event", "Held back")
    SKIPPED = "skipped", pgettext_lazy("email event", "Skipped")


class SuppressionReason(models.TextChoices):
    UNSUBSCRIBED = "unsubscribed", _("Unsubscribed from everything")
    HARD_BOUNCE = "hard_bounce", _("Hard bounce")
    COMPLAINT = "complaint", _("Spam complaint")
    MANUAL = "manual", _("Added by hand")


# Suppressions that stop transactional mail too (the address does not work, or its owner
# complained); only these need a confirmation to be removed by hand.
BLOCKS_TRANSACTIONAL = frozenset({SuppressionReason.HARD_BOUNCE, SuppressionReason.COMPLAINT})


class CampaignStatus(models.TextChoices):
    DRAFT = "draft", pgettext_lazy("campaign status", "Draft")
    SCHEDULED = "scheduled", pgettext_lazy("campaign status", "Scheduled")
    SENDING = "sending", pgettext_lazy("campaign status", "Sending")
    # An A/B test went out to the test group; the rest waits for the winner.
    TESTING = "testing", pgettext_lazy("campaign status", "A/B test running")
    SENT = "sent", pgettext_lazy("campaign status", "Sent")
    CANCELLED = "cancelled", pgettext_lazy("campaign status", "Cancelled")


class WinnerCriterion(models.TextChoices):
    OPEN_RATE = "open_rate", _("Open rate")
    CLICK_RATE = "click_rate", _("Click rate")


class IfInconclusive(models.TextChoices):
    BEST = "best", _("Send the variant with the best rate anyway")
    CONTROL = "control", _("Send the first variant (the control)")


class RecipientPhase(models.TextChoices):
    ALL = "all", _("Whole audience")
    TEST = "test", _("A/B test group")
    REST = "rest", _("Rest of the audience (gets the winner)")


class InAppKind(models.TextChoices):
    BANNER = "banner", _("Banner")
    MODAL = "modal", _("Modal")
    TOUR = "tour", _("Tooltip tour")
    POPUP = "popup", _("Help popup")


class InAppStatus(models.TextChoices):
    DRAFT = "draft", pgettext_lazy("in-app message status", "Draft")
    LIVE = "live", pgettext_lazy("in-app message status", "Live")
    PAUSED = "paused", pgettext_lazy("in-app message status", "Paused")
    ARCHIVED = "archived", pgettext_lazy("in-app message status", "Archived")


class InAppAudience(models.TextChoices):
    EVERYONE = "everyone", _("Everyone who matches the page and event rules")
    SEGMENT = "segment", _("Accounts in a segment")
    # Shown only to accounts (or contacts) a success flow's "show in-app message" step chose.
    FLOW = "flow", _("Only when a success flow shows it")


class Frequency(models.TextChoices):
    ONCE = "once", _("Once")
    UNTIL_DISMISSED = "until_dismissed", _("Until dismissed or completed")
    EVERY_N_DAYS = "every_n_days", _("Again every N days")


class InAppEventKind(models.TextChoices):
    SHOWN = "shown", pgettext_lazy("in-app event", "Shown")
    DISMISSED = "dismissed", pgettext_lazy("in-app event", "Dismissed")
    CLICKED = "clicked", pgettext_lazy("in-app event", "Clicked")
    COMPLETED = "completed", pgettext_lazy("in-app event", "Completed")
