"""Choices of the usage domain."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class EventType(models.TextChoices):
    """The Segment call types. Only track, page and screen are usage; identify, group and
    alias change who is who and are kept as events for idempotency and their raw traits."""

    TRACK = "track", _("Track")
    PAGE = "page", _("Page view")
    SCREEN = "screen", _("Screen view")
    IDENTIFY = "identify", _("Identify")
    GROUP = "group", _("Group")
    ALIAS = "alias", _("Alias")


# The types that count as product usage in the rollups.
USAGE_TYPES = (EventType.TRACK, EventType.PAGE, EventType.SCREEN)

# The rollup key of "all activity of the day": one row per account (and per contact) per day
# whose count is every usage event and whose `users` is the distinct people active that day.
ALL_ACTIVITY = ""

DEFAULT_LOGIN_EVENTS = ["Logged In", "login", "Signed In"]
