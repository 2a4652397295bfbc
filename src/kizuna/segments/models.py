"""Segments: named sets of accounts, and the history of who was in them when."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from kizuna.segments.choices import MembershipSource, SegmentKind


class Segment(models.Model):
    """A set of accounts: *dynamic* (every account matching a condition tree, recomputed
    set-based when data changes) or *static* (picked by hand or imported).

    `conditions` is a condition tree of kizuna.core.conditions (validated with
    `conditions.parse` by services.py), for example::

        {"and": [
            {"metric": "usage.login_rate", "params": {"days": 30}, "op": "lt", "value": 30},
            {"metric": "account.tier", "op": "in", "value": ["high"]}
        ]}

    It is empty (``{}``) for a static segment. `version` goes up each time the tree
    changes. The calculation is observable, PostHog-cohort style: `is_calculating` while a
    full recompute is queued or running, when it last finished, and its last error.
    """

    name = models.CharField(_("name"), max_length=200, unique=True)
    description = models.TextField(_("description"), blank=True)
    kind = models.CharField(
        _("kind"), max_length=8, choices=SegmentKind.choices, default=SegmentKind.DYNAMIC
    )
    conditions = models.JSONField(_("conditions"), default=dict, blank=True)
    version = models.PositiveIntegerField(_("version"), default=1)
    is_active = models.BooleanField(
        _("active"),
        default=True,
        help_text=_("An inactive segment keeps its members but is no longer recomputed."),
    )
    is_calculating = models.BooleanField(_("calculating"), default=False)
    last_calculated_at = models.DateTimeField(_("last calculated"), null=True, blank=True)
    last_error = models.TextField(_("last error"), blank=True)
    member_count = models.PositiveIntegerField(_("members"), default=0)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("segment")
        verbose_name_plural = _("segments")
        ordering = ["name", "id"]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("segments:detail", args=[self.pk])

    @property
    def is_dynamic(self) -> bool:
        return self.kind == SegmentKind.DYNAMIC


class SegmentMembership(models.Model):
    """One stay of an account in a segment: from `entered_at` until `exited_at` (NULL while
    it is a member). Leaving and coming back makes a new row, so the rows are the history."""

    segment = models.ForeignKey(
        Segment,
        verbose_name=_("segment"),
        on_delete=models.CASCADE,
        related_name="memberships",
        db_index=False,  # the indexes below lead with it
    )
    account = models.ForeignKey(
        "customers.Account",
        verbose_name=_("account"),
        on_delete=models.CASCADE,
        related_name="segment_memberships",
        db_index=False,  # the indexes below lead with it
    )
    entered_at = models.DateTimeField(_("entered"))
    exited_at = models.DateTimeField(_("left"), null=True, blank=True)
    source = models.CharField(
        _("source"), max_length=8, choices=MembershipSource.choices, default=MembershipSource.RULE
    )
    added_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("added by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        verbose_name = _("segment membership")
        verbose_name_plural = _("segment memberships")
        ordering = ["-entered_at", "-id"]
        constraints = [
            # At most one open stay per account and segment. Partial, so the closed rows of
            # earlier stays stay; the unique index also serves "current members of a segment".
            models.UniqueConstraint(
                fields=["segment", "account"],
                condition=Q(exited_at__isnull=True),
                name="segment_one_open_membership",
            ),
        ]
        indexes = [
            # The current segments of an account (the account page panel, the API).
            models.Index(
                fields=["account", "segment"],
                condition=Q(exited_at__isnull=True),
                name="segment_account_current",
            ),
            # A segment's history by day, and "members as of a date".
            models.Index(fields=["segment", "entered_at"], name="segment_entries"),
            models.Index(fields=["segment", "exited_at"], name="segment_exits"),
            # An account's history (panel, timeline), newest first.
            models.Index(fields=["account", "-entered_at"], name="segment_account_history"),
        ]

    def __str__(self) -> str:
        return f"{self.account_id} ∈ {self.segment_id}"

    @property
    def is_current(self) -> bool:
        return self.exited_at is None
