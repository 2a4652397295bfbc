"""Lifecycle stages: the rules that move accounts between stages, and every move kept as
history. (An account's current stage and the day it entered it are on the Account; tier
history is `customers.TierChange`, next to the tier policy.)"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from kizuna.core.conditions import ConditionError, parse
from kizuna.core.conditions.records import LeafRecord
from kizuna.customers.choices import LifecycleStage
from kizuna.customers.models import Account
from kizuna.lifecycle.choices import StageChangeSource


def clean_from_stages(value: Any) -> list[str]:
    """The `from_stages` JSON: a non-empty list of distinct stage values, e.g.
    ``["adoption", "value"]``. Raises ValidationError with a message for people."""
    if not isinstance(value, list) or not value:
        raise ValidationError(_("Choose at least one stage the rule moves accounts from."))
    unknown = [item for item in value if item not in LifecycleStage.values]
    if unknown:
        raise ValidationError(
            _("Unknown stage(s): %(stages)s.") % {"stages": ", ".join(map(str, unknown))}
        )
    if len(set(value)) != len(value):
        raise ValidationError(_("Each stage may appear only once."))
    # Stored in the stages' own order, so equal lists compare equal.
    return [stage for stage in LifecycleStage.values if stage in value]


class StageRule(models.Model):
    """Moves accounts from one of `from_stages` to `to_stage` when they match `conditions`
    (a condition tree, see kizuna.core.conditions.tree), e.g. from ``["adoption", "value"]``
    to ``"renewal"`` when ``{"metric": "subscription.days_to_renewal", "op": "lte",
    "value": 90}``.

    Rules run in `priority` order (lowest first); an account moves by the first rule it
    matches, at most once per recompute pass.
    """

    name = models.CharField(_("name"), max_length=120)
    description = models.TextField(_("description"), blank=True)
    from_stages = models.JSONField(_("from stages"), default=list)
    to_stage = models.CharField(_("to stage"), max_length=16, choices=LifecycleStage.choices)
    conditions = models.JSONField(_("when"), default=dict)
    priority = models.PositiveIntegerField(_("priority"), default=100)
    enabled = models.BooleanField(_("enabled"), default=True)
    # The error of the last recompute pass (a tree that no longer compiles), shown on the
    # rules page; the other rules ran regardless.
    last_error = models.TextField(_("last error"), blank=True, editable=False)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("stage rule")
        verbose_name_plural = _("stage rules")
        ordering = ["priority", "id"]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        errors: dict[str, Any] = {}
        try:
            self.from_stages = clean_from_stages(self.from_stages)
        except ValidationError as exc:
            errors["from_stages"] = exc.messages
        else:
            if self.to_stage in self.from_stages:
                errors["to_stage"] = _("A rule cannot move accounts to a stage they are in.")
        try:
            condition = parse(self.conditions)
        except ConditionError as exc:
            where = _("at %s: ") % exc.path if exc.path else ""
            errors["conditions"] = f"{where}{exc.message}"
        else:
            if not condition.leaves():
                errors["conditions"] = _(
                    "A rule needs at least one condition; without one it would move every "
                    "account in its stages."
                )
        if errors:
            raise ValidationError(errors)

    def get_from_stages_display(self) -> list[str]:
        labels = dict(LifecycleStage.choices)
        return [str(labels.get(stage, stage)) for stage in self.from_stages]


class StageChange(models.Model):
    """An account moved from one lifecycle stage to another: when, by whom or by which rule,
    and why — the CSM's reason, or the rule's conditions with the values the account had
    (`evaluation`, a list of `LeafRecord`)."""

    account = models.ForeignKey(
        Account, verbose_name=_("account"), on_delete=models.CASCADE, related_name="stage_changes"
    )
    from_stage = models.CharField(
        _("from"), max_length=16, choices=LifecycleStage.choices, blank=True
    )
    to_stage = models.CharField(_("to"), max_length=16, choices=LifecycleStage.choices)
    changed_at = models.DateTimeField(_("changed"), default=timezone.now)
    source = models.CharField(_("moved by"), max_length=16, choices=StageChangeSource.choices)
    rule = models.ForeignKey(
        StageRule,
        verbose_name=_("rule"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="changes",
    )
    # The rule's name then: the history still reads right after the rule is renamed or deleted.
    rule_name = models.CharField(_("rule name"), max_length=120, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    reason = models.TextField(_("reason"), blank=True)
    evaluation = models.JSONField(_("conditions seen"), default=list, blank=True)

    class Meta:
        verbose_name = _("stage change")
        verbose_name_plural = _("stage changes")
        ordering = ["-changed_at", "-id"]
        indexes = [
            models.Index(fields=["account", "-changed_at", "-id"], name="stagechange_account"),
            models.Index(fields=["-changed_at", "-id"], name="stagechange_recent"),
        ]

    def __str__(self) -> str:
        return f"{self.get_from_stage_display() or '—'} → {self.get_to_stage_display()}"

    @property
    def leaves(self) -> list[LeafRecord]:
        return LeafRecord.parse(self.evaluation)

    @property
    def moved_by(self) -> str:
        """Who or what moved the account: the person, or "Rule: <name>"."""
        if self.source == StageChangeSource.RULE:
            return str(_("Rule “%(name)s”") % {"name": self.rule_name})
        if self.actor_id is not None and self.actor is not None:
            return str(self.actor)
        return str(self.get_source_display())

    @property
    def explanation(self) -> str:
        """Why, in one line: the reason given, or the rule's conditions with their values."""
        if self.source == StageChangeSource.RULE:
            return "; ".join(("✓ " if leaf.matched else "✗ ") + leaf.text() for leaf in self.leaves)
        return self.reason
