"""Success flows: the automation, its versions, and its run state as rows.

An account that meets a flow's trigger gets an `Enrolment` on the flow's current version;
each step it reaches is a `StepRun`. A run that should happen later carries its due time and
is claimed by a worker when due; a decision waiting for something carries what it waits for
(`waits_for`) so the thing, when it happens, finds it with one query. The runs that are done
are the execution log: what each step saw and did, per account.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from kizuna.flows.choices import EnrolmentStatus, FlowStatus, RunStatus, StepType


class SuccessFlow(models.Model):
    name = models.CharField(_("name"), max_length=200, unique=True)
    description = models.TextField(_("description"), blank=True)
    status = models.CharField(
        _("status"), max_length=8, choices=FlowStatus.choices, default=FlowStatus.DRAFT
    )
    # The version new enrolments start on (the latest saved one).
    version = models.ForeignKey(
        "FlowVersion",
        verbose_name=_("version"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    # Copied from the current version so the engine finds live flows by trigger in one query.
    trigger_type = models.CharField(_("trigger"), max_length=24, blank=True)
    template_key = models.CharField(_("template"), max_length=50, blank=True)
    paused_reason = models.TextField(_("why it is paused"), blank=True)
    consecutive_failures = models.PositiveIntegerField(default=0)
    last_error = models.TextField(_("last error"), blank=True)
    # For schedule triggers: the next time the audience is enrolled.
    next_run_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("success flow")
        verbose_name_plural = _("success flows")
        ordering = ["name"]
        indexes = [models.Index(fields=["status", "trigger_type"], name="flows_live_trigger")]

    def __str__(self) -> str:
        return self.name


class FlowVersion(models.Model):
    """One saved definition of a flow; never changed once saved (enrolments that started on
    it finish on it)."""

    flow = models.ForeignKey(SuccessFlow, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField(_("version"))
    definition = models.JSONField(_("definition"))
    note = models.CharField(_("note"), max_length=200, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(_("saved"), auto_now_add=True)

    class Meta:
        verbose_name = _("flow version")
        verbose_name_plural = _("flow versions")
        ordering = ["flow", "-number"]
        constraints = [
            models.UniqueConstraint(fields=["flow", "number"], name="flows_version_number")
        ]

    def __str__(self) -> str:
        return f"{self.flow_id} v{self.number}"

    @property
    def parsed(self) -> Any:
        from kizuna.flows import engine

        return engine.definition_of(self)


class Enrolment(models.Model):
    flow = models.ForeignKey(SuccessFlow, on_delete=models.CASCADE, related_name="enrolments")
    version = models.ForeignKey(FlowVersion, on_delete=models.PROTECT, related_name="+")
    account = models.ForeignKey(
        "customers.Account", on_delete=models.CASCADE, related_name="flow_enrolments"
    )
    contact = models.ForeignKey(
        "customers.Contact", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    status = models.CharField(
        _("status"), max_length=10, choices=EnrolmentStatus.choices, default=EnrolmentStatus.ACTIVE
    )
    # Chosen at random for the hold-out group: recorded, never run.
    holdout = models.BooleanField(_("hold-out"), default=False)
    entered_at = models.DateTimeField(_("entered"))
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)
    # What made the account enter (the event, the segment, the band change …) and the
    # values the audience condition saw.
    trigger = models.JSONField(_("trigger"), default=dict)
    exit_reason = models.TextField(_("why it left"), blank=True)

    class Meta:
        verbose_name = _("enrolment")
        verbose_name_plural = _("enrolments")
        ordering = ["-entered_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["flow", "account"],
                condition=Q(status="active"),
                name="flows_one_active_enrolment",
            )
        ]
        indexes = [
            models.Index(fields=["flow", "account", "entered_at"], name="flows_enrolment_flow"),
            models.Index(fields=["account", "entered_at"], name="flows_enrolment_account"),
        ]

    def __str__(self) -> str:
        return f"{self.flow_id}:{self.account_id}"


class StepRun(models.Model):
    enrolment = models.ForeignKey(Enrolment, on_delete=models.CASCADE, related_name="runs")
    flow = models.ForeignKey(SuccessFlow, on_delete=models.CASCADE, related_name="+")
    step_id = models.CharField(_("step"), max_length=40)
    step_type = models.CharField(_("type"), max_length=10, choices=StepType.choices)
    status = models.CharField(
        _("status"), max_length=10, choices=RunStatus.choices, default=RunStatus.SCHEDULED
    )
    due_at = models.DateTimeField(_("due"))
    waits_for = models.CharField(max_length=240, blank=True)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)
    # "done", "skipped", "yes", "no", "failed", "cancelled" — and in words, with the data the
    # step saw (condition values, the action's result).
    outcome = models.CharField(_("outcome"), max_length=10, blank=True)
    text = models.TextField(_("what happened"), blank=True)
    detail = models.JSONField(default=dict, blank=True)
    error = models.TextField(_("error"), blank=True)

    class Meta:
        verbose_name = _("step run")
        verbose_name_plural = _("step runs")
        ordering = ["created_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["enrolment", "step_id"], name="flows_step_once")
        ]
        indexes = [
            models.Index(
                fields=["due_at"],
                condition=Q(status__in=["scheduled", "waiting"]),
                name="flows_run_due",
            ),
            models.Index(
                fields=["waits_for"], condition=Q(status="waiting"), name="flows_run_waiting"
            ),
            models.Index(fields=["flow", "step_id", "outcome"], name="flows_run_results"),
        ]

    def __str__(self) -> str:
        return f"{self.enrolment_id}:{self.step_id}"
