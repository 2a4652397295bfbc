"""Milestones: what a customer should have done in a lifecycle stage, by when, and each
account's progress on them."""

from __future__ import annotations

import datetime

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from kizuna.core.conditions.records import LeafRecord
from kizuna.customers.choices import LifecycleStage
from kizuna.milestones.choices import MilestoneStatus


class Milestone(models.Model):
    """Something an account in `stage` should have done within `target_days` of entering
    the stage — first login, settings completed, colleagues invited — ticked off on its own
    when the account matches `condition`.

    `condition` is a condition tree of kizuna.core.conditions (validated by services.py;
    at least one comparison), for example::

        {"metric": "usage.logins", "params": {"days": 30}, "op": "gte", "value": 1}

    `key` is a stable slug ("first_login") for the API, flows and imports. The stage of a
    milestone does not change once created (its accounts' progress belongs to that stage).
    """

    stage = models.CharField(_("stage"), max_length=16, choices=LifecycleStage.choices)
    key = models.SlugField(_("key"), max_length=60, unique=True)
    name = models.CharField(_("name"), max_length=200)
    description = models.TextField(_("description"), blank=True)
    condition = models.JSONField(_("reached when"), default=dict)
    target_days = models.PositiveIntegerField(
        _("target (days)"),
        default=14,
        help_text=_("Days after entering the stage by when it should be reached."),
    )
    order = models.PositiveIntegerField(_("order"), default=100)
    enabled = models.BooleanField(_("enabled"), default=True)
    # Why the last recompute could not evaluate it (a tree that no longer compiles).
    last_error = models.TextField(_("last error"), blank=True, editable=False)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("milestone")
        verbose_name_plural = _("milestones")
        ordering = ["stage", "order", "id"]

    def __str__(self) -> str:
        return self.name


class AccountMilestone(models.Model):
    """An account's progress on one milestone: created when the account is first seen in
    the milestone's stage, ticked (`reached_on`) the first time it matches the condition.

    Leaving and re-entering the stage: a milestone once reached stays reached (with the
    day and the values seen then). One not reached yet follows the account's current stay:
    `stage_entered_on` and `due_on` are moved to the new stay and `overdue_since` is
    cleared, so it can become overdue again (and a new `milestone.overdue` is published).
    """

    account = models.ForeignKey(
        "customers.Account",
        verbose_name=_("account"),
        on_delete=models.CASCADE,
        related_name="milestones",
        db_index=False,  # the unique constraint leads with it
    )
    milestone = models.ForeignKey(
        Milestone, verbose_name=_("milestone"), on_delete=models.CASCADE, related_name="progress"
    )
    stage_entered_on = models.DateField(_("stage entered on"))
    due_on = models.DateField(_("due on"))
    reached_on = models.DateField(_("reached on"), null=True, blank=True)
    reached_values = models.JSONField(_("values seen"), default=list, blank=True)
    overdue_since = models.DateField(_("overdue since"), null=True, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("account milestone")
        verbose_name_plural = _("account milestones")
        ordering = ["milestone__order", "milestone_id"]
        constraints = [
            models.UniqueConstraint(
                fields=["account", "milestone"], name="milestone_one_row_per_account"
            ),
        ]
        indexes = [
            # Open rows of a milestone: ticking and marking overdue.
            models.Index(
                fields=["milestone", "due_on"],
                condition=Q(reached_on__isnull=True),
                name="milestone_open",
            ),
            # The timeline: an account's reached milestones, newest first.
            models.Index(fields=["account", "-reached_on"], name="milestone_account_reached"),
        ]

    def __str__(self) -> str:
        return f"{self.account_id} · {self.milestone_id}"

    @property
    def seen(self) -> list[LeafRecord]:
        return LeafRecord.parse(self.reached_values)

    def status(self, today: datetime.date) -> MilestoneStatus:
        if self.reached_on is not None:
            return MilestoneStatus.REACHED
        if self.due_on < today:
            return MilestoneStatus.OVERDUE
        return MilestoneStatus.PENDING
