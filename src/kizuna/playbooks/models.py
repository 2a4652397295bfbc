"""CTAs (calls to action: a task for a person about an account), the playbooks whose steps
they carry, the rules that choose their owner, and in-app notifications."""

from __future__ import annotations

import datetime

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from kizuna.customers.choices import Tier
from kizuna.playbooks.choices import (
    OPEN_STATUSES,
    AssignmentStrategy,
    CtaSource,
    CtaStatus,
    CtaType,
    Outcome,
    Priority,
)


class Playbook(models.Model):
    """A template of steps attached to a CTA when it is created.

    `steps` is a list validated by `schema.parse_steps`, for example::

        [{"title": "Call the champion", "guidance": "Ask what changed.",
          "due_offset_days": 2}]

    Shipped playbooks (`shipped`) come from `services.install_library`; once someone edits
    one (`customized`), installing the library again leaves it alone.
    """

    key = models.SlugField(_("key"), max_length=64, unique=True)
    name = models.CharField(_("name"), max_length=200)
    description = models.TextField(_("description"), blank=True)
    cta_type = models.CharField(
        _("CTA type"), max_length=16, choices=CtaType.choices, default=CtaType.OTHER
    )
    priority = models.CharField(
        _("default priority"), max_length=8, choices=Priority.choices, default=Priority.MEDIUM
    )
    steps = models.JSONField(_("steps"), default=list, blank=True)
    enabled = models.BooleanField(_("enabled"), default=True)
    shipped = models.BooleanField(_("shipped with Kizuna"), default=False)
    customized = models.BooleanField(_("edited"), default=False)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("playbook")
        verbose_name_plural = _("playbooks")
        ordering = ["name", "id"]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("playbooks:playbook_edit", args=[self.pk])

    @property
    def duration_days(self) -> int:
        return max((int(step.get("due_offset_days", 0)) for step in self.steps), default=0)


class Cta(models.Model):
    """A call to action: a task for a person about one account, with the reason why.

    At most one open or snoozed CTA exists per (account, type, reason) — a partial unique
    index, so two requests or flow runs at once cannot both create one. `source_key` is the
    caller's idempotency key (a flow run and step, an API client's key): unique when set.
    """

    account = models.ForeignKey(
        "customers.Account",
        verbose_name=_("account"),
        on_delete=models.CASCADE,
        related_name="ctas",
        db_index=False,  # the indexes below lead with it
    )
    type = models.CharField(_("type"), max_length=16, choices=CtaType.choices)
    reason = models.CharField(_("reason"), max_length=200)
    priority = models.CharField(
        _("priority"), max_length=8, choices=Priority.choices, default=Priority.MEDIUM
    )
    due_on = models.DateField(_("due"))
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("owner"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="ctas",
    )
    status = models.CharField(
        _("status"), max_length=16, choices=CtaStatus.choices, default=CtaStatus.OPEN
    )
    snoozed_until = models.DateField(_("snoozed until"), null=True, blank=True)
    outcome = models.CharField(_("outcome"), max_length=24, choices=Outcome.choices, blank=True)
    outcome_note = models.TextField(_("outcome note"), blank=True)
    playbook = models.ForeignKey(
        Playbook,
        verbose_name=_("playbook"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="ctas",
    )
    source = models.CharField(
        _("source"), max_length=16, choices=CtaSource.choices, default=CtaSource.MANUAL
    )
    source_label = models.CharField(_("created by"), max_length=200, blank=True)
    source_key = models.CharField(_("idempotency key"), max_length=200, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by user"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)
    closed_at = models.DateTimeField(_("closed"), null=True, blank=True)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("closed by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        verbose_name = _("CTA")
        verbose_name_plural = _("CTAs")
        ordering = ["due_on", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["account", "type", "reason"],
                condition=Q(status__in=OPEN_STATUSES),
                name="cta_one_open_per_reason",
            ),
            models.UniqueConstraint(
                fields=["source_key"],
                condition=~Q(source_key=""),
                name="cta_unique_source_key",
            ),
        ]
        indexes = [
            # My work: an owner's open CTAs by due date.
            models.Index(fields=["owner", "status", "due_on"], name="cta_owner_work"),
            # The account panel and the account's history.
            models.Index(fields=["account", "status"], name="cta_account"),
            # CTAs closed per week (team view).
            models.Index(fields=["closed_at", "owner"], name="cta_closed"),
        ]

    def __str__(self) -> str:
        return self.reason

    def get_absolute_url(self) -> str:
        return reverse("playbooks:cta", args=[self.pk])

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    @property
    def is_overdue(self) -> bool:
        return self.is_open and self.due_on < timezone.localdate()

    @property
    def is_asleep(self) -> bool:
        """Snoozed and not yet woken (a snooze ends at the start of `snoozed_until`)."""
        return (
            self.status == CtaStatus.SNOOZED
            and self.snoozed_until is not None
            and self.snoozed_until > timezone.localdate()
        )


class CtaTask(models.Model):
    """One checklist step of a CTA, copied from its playbook when the CTA was created (so
    editing the playbook later does not change work already under way)."""

    cta = models.ForeignKey(
        Cta, verbose_name=_("CTA"), on_delete=models.CASCADE, related_name="tasks"
    )
    order = models.PositiveSmallIntegerField(_("order"), default=0)
    title = models.CharField(_("title"), max_length=200)
    guidance = models.TextField(_("guidance"), blank=True)
    due_on = models.DateField(_("due"), null=True, blank=True)
    done_at = models.DateTimeField(_("done"), null=True, blank=True)
    done_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("done by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        verbose_name = _("CTA task")
        verbose_name_plural = _("CTA tasks")
        ordering = ["order", "id"]

    def __str__(self) -> str:
        return self.title

    @property
    def is_done(self) -> bool:
        return self.done_at is not None

    @property
    def is_overdue(self) -> bool:
        return (
            self.done_at is None
            and self.due_on is not None
            and (self.due_on < timezone.localdate())
        )


class AssignmentRule(models.Model):
    """Who gets a new CTA when the caller names nobody. Rules are tried by `position`; the
    first whose tier (and CTA type) match decides. Round robin hands CTAs to its users in
    turn; the turn (`cursor`) is claimed with one atomic UPDATE, so two CTAs created at once
    never go to the same person by accident."""

    position = models.PositiveIntegerField(_("position"), default=0)
    name = models.CharField(_("name"), max_length=200)
    tier = models.CharField(
        _("tier"),
        max_length=8,
        choices=Tier.choices,
        blank=True,
        help_text=_("Only accounts of this tier; empty for every tier."),
    )
    cta_type = models.CharField(
        _("CTA type"),
        max_length=16,
        choices=CtaType.choices,
        blank=True,
        help_text=_("Only CTAs of this type; empty for every type."),
    )
    strategy = models.CharField(_("strategy"), max_length=16, choices=AssignmentStrategy.choices)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("user"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    users = models.ManyToManyField(
        settings.AUTH_USER_MODEL,
        verbose_name=_("users in the rotation"),
        blank=True,
        related_name="+",
    )
    cursor = models.PositiveIntegerField(_("turn"), default=0)
    enabled = models.BooleanField(_("enabled"), default=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("assignment rule")
        verbose_name_plural = _("assignment rules")
        ordering = ["position", "id"]

    def __str__(self) -> str:
        return self.name


class Notification(models.Model):
    """A message for one user in the app ("a CTA was assigned to you"). `source_key` makes
    sending idempotent: a retried flow step notifies once."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("user"),
        on_delete=models.CASCADE,
        related_name="notifications",
        db_index=False,  # the index below leads with it
    )
    account = models.ForeignKey(
        "customers.Account",
        verbose_name=_("account"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
    )
    text = models.CharField(_("text"), max_length=500)
    url = models.CharField(_("link"), max_length=500, blank=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    read_at = models.DateTimeField(_("read"), null=True, blank=True)
    source_key = models.CharField(_("idempotency key"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["source_key"],
                condition=~Q(source_key=""),
                name="notification_unique_source_key",
            ),
        ]
        indexes = [
            models.Index(fields=["user", "read_at", "-created_at"], name="notification_inbox")
        ]

    def __str__(self) -> str:
        return self.text

    @property
    def is_unread(self) -> bool:
        return self.read_at is None


def due_in(days: int) -> datetime.date:
    return timezone.localdate() + datetime.timedelta(days=days)
