"""Choices of the health domain, in one place so code, UI and API use the same words."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class Band(models.TextChoices):
    RED = "red", _("Red")
    YELLOW = "yellow", _("Yellow")
    GREEN = "green", _("Green")
    # No scorecard applies, or no measure has data.
    NONE = "none", _("No score")


class MappingKind(models.TextChoices):
    LINEAR = "linear", _("Linear between two values")
    BANDS = "bands", _("Points per range")
    CHOICES = "choices", _("Points per answer")
    BOOLEAN = "boolean", _("Points for yes / no")


class Trend(models.TextChoices):
    UP = "up", _("Up")
    DOWN = "down", _("Down")
    FLAT = "flat", _("Flat")
