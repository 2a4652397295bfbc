"""Choices of the segments app."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class SegmentKind(models.TextChoices):
    # Members follow a condition tree, recomputed when the data changes.
    DYNAMIC = "dynamic", _("Dynamic")
    # Members are picked by hand or imported from a list.
    STATIC = "static", _("Static")


class MembershipSource(models.TextChoices):
    RULE = "rule", _("Conditions")
    MANUAL = "manual", _("Added by hand")
    IMPORT = "import", _("Imported")
    FLOW = "flow", _("Added by a success flow")
