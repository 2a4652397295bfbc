"""Choices of the milestones app (the stages themselves are customers.choices.LifecycleStage)."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class MilestoneStatus(models.TextChoices):
    """Where an account stands on a milestone of its current stage."""

    REACHED = "reached", _("Reached")
    # Not reached yet, and its target day has passed.
    OVERDUE = "overdue", _("Overdue")
    # Not reached yet, still before its target day.
    PENDING = "pending", _("Due")
