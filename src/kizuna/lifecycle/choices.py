"""Choices of the lifecycle domain (stages and tiers themselves are in customers.choices)."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class StageChangeSource(models.TextChoices):
    """What moved an account to another stage."""

    RULE = "rule", _("Stage rule")
    MANUAL = "manual", _("By hand")
    EDIT = "edit", _("Account edited")
    FLOW = "flow", _("Success flow")
