"""Health scores: scorecards and their versions, the current score of every account, its
daily history, and the overrides CSMs set on a measure.

A scorecard's definition (groups of measures, each a metric mapped to 0–100 points, with
weights, and the red / yellow / green bands) lives in its versions; a version is never
changed once saved, so every score says exactly which definition computed it. The shape of
`ScorecardVersion.definition` is `kizuna.health.definition.Definition`.
"""

from __future__ import annotations

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from kizuna.customers.choices import LifecycleStage
from kizuna.customers.models import Account
from kizuna.health.choices import Band


class Scorecard(models.Model):
    """Which definition scores which accounts.

    The scorecard of an account is the most specific active one that fits it: stage and
    segment, then stage only, then segment only, then the default (no stage, no segment);
    among equally specific ones the lowest `priority` number wins. A scorecard without a
    stage does not score churned accounts (their health means nothing any more); one for
    the churned stage does.
    """

    name = models.CharField(_("name"), max_length=100)
    description = models.TextField(_("description"), blank=True)
    stage = models.CharField(
        _("lifecycle stage"),
        max_length=16,
        choices=LifecycleStage.choices,
        blank=True,
        help_text=_("Leave empty for the default scorecard of every stage."),
    )
    # A kizuna.segments Segment, by id: the segments app is optional for health, and the
    # membership is read through the `segment.member` metric, not a join.
    segment_id = models.PositiveBigIntegerField(_("segment"), null=True, blank=True)
    priority = models.PositiveIntegerField(
        _("priority"),
        default=100,
        help_text=_("When two scorecards fit an account equally well, the lower number wins."),
    )
    is_active = models.BooleanField(_("active"), default=True)
    current_version = models.ForeignKey(
        "ScorecardVersion",
        verbose_name=_("current version"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    # Observability of the computation (see services.recompute_scores).
    last_computed_at = models.DateTimeField(_("last computed"), null=True, blank=True)
    last_accounts = models.PositiveIntegerField(_("accounts scored"), default=0)
    last_error = models.TextField(_("last error"), blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("scorecard")
        verbose_name_plural = _("scorecards")
        ordering = ["priority", "name", "id"]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("health:scorecard", args=[self.pk])

    @property
    def specificity(self) -> int:
        """0 is the most specific (stage and segment), 3 the default."""
        return (0 if self.stage else 2) + (0 if self.segment_id else 1)


class ScorecardVersion(models.Model):
    """One definition of a scorecard. Saved once and never changed: editing a scorecard
    adds a version. `definition` is validated by `definition.parse` before it is saved."""

    scorecard = models.ForeignKey(
        Scorecard, verbose_name=_("scorecard"), on_delete=models.CASCADE, related_name="versions"
    )
    number = models.PositiveIntegerField(_("version"))
    definition = models.JSONField(_("definition"))
    note = models.CharField(_("what changed"), max_length=300, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("scorecard version")
        verbose_name_plural = _("scorecard versions")
        ordering = ["scorecard", "-number"]
        constraints = [
            models.UniqueConstraint(fields=["scorecard", "number"], name="health_version_number")
        ]

    def __str__(self) -> str:
        return f"{self.scorecard} v{self.number}"


class HealthScore(models.Model):
    """The current health of one account, written for all accounts at once by
    `services.recompute_scores` (one INSERT … SELECT per scorecard).

    `groups` maps a group key to its score (null: no measure of the group had data), e.g.
    ``{"usage": 62.5, "relationship": null}``. `measures` maps a measure key to what it saw
    and gave, e.g. ``{"login_rate": {"value": 48.0, "points": 60.0, "weight_used": 100.0,
    "override": false}}``; `weight_used` is the measure's share of its group in %, after the
    weight of measures without data was redistributed (null when it had no data).
    """

    account = models.OneToOneField(
        Account,
        verbose_name=_("account"),
        primary_key=True,
        on_delete=models.CASCADE,
        related_name="health",
    )
    score = models.FloatField(_("health score"), null=True, blank=True)
    band = models.CharField(
        _("band"), max_length=8, choices=Band.choices, default=Band.NONE, db_index=True
    )
    version = models.ForeignKey(
        ScorecardVersion,
        verbose_name=_("scorecard version"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    groups = models.JSONField(_("group scores"), default=dict)
    measures = models.JSONField(_("measures"), default=dict)
    computed_at = models.DateTimeField(_("computed"))
    # The band and score before the last band change, and when it happened.
    previous_band = models.CharField(
        _("previous band"), max_length=8, choices=Band.choices, blank=True
    )
    previous_score = models.FloatField(_("previous score"), null=True, blank=True)
    band_changed_at = models.DateTimeField(_("band changed"), null=True, blank=True)
    # Why the last computation for this account failed (its score is then the one before).
    error = models.TextField(_("computation error"), blank=True)

    class Meta:
        verbose_name = _("health score")
        verbose_name_plural = _("health scores")
        indexes = [models.Index(fields=["band_changed_at"], name="health_band_changed")]

    def __str__(self) -> str:
        return f"{self.account_id}: {self.score} ({self.band})"


class HealthSnapshot(models.Model):
    """An account's health at the end of a day: the history behind trends, "what changed
    since last week" and backtests. Same JSON shapes as HealthScore."""

    account = models.ForeignKey(
        Account,
        verbose_name=_("account"),
        on_delete=models.CASCADE,
        related_name="health_snapshots",
    )
    day = models.DateField(_("day"))
    score = models.FloatField(_("health score"), null=True, blank=True)
    band = models.CharField(_("band"), max_length=8, choices=Band.choices, default=Band.NONE)
    version = models.ForeignKey(
        ScorecardVersion,
        verbose_name=_("scorecard version"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    groups = models.JSONField(_("group scores"), default=dict)
    measures = models.JSONField(_("measures"), default=dict)

    class Meta:
        verbose_name = _("health snapshot")
        verbose_name_plural = _("health snapshots")
        ordering = ["account", "day"]
        constraints = [
            models.UniqueConstraint(fields=["account", "day"], name="health_snapshot_day")
        ]
        indexes = [models.Index(fields=["day", "band"], name="health_snapshot_day_band")]

    def __str__(self) -> str:
        return f"{self.account_id} {self.day}: {self.score} ({self.band})"


class MeasureOverride(models.Model):
    """A CSM's points for one measure of one account, replacing the computed points until
    `expires_at` (with a comment saying why). Removing one ends it now; the row stays as
    history."""

    account = models.ForeignKey(
        Account,
        verbose_name=_("account"),
        on_delete=models.CASCADE,
        related_name="measure_overrides",
    )
    scorecard = models.ForeignKey(
        Scorecard,
        verbose_name=_("scorecard"),
        on_delete=models.CASCADE,
        related_name="overrides",
    )
    measure_key = models.CharField(_("measure"), max_length=40)
    points = models.FloatField(
        _("points"), validators=[MinValueValidator(0), MaxValueValidator(100)]
    )
    comment = models.TextField(_("comment"))
    expires_at = models.DateTimeField(_("expires"))
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("set by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(_("set"), auto_now_add=True)

    class Meta:
        verbose_name = _("measure override")
        verbose_name_plural = _("measure overrides")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(
                fields=["account", "scorecard", "measure_key", "expires_at"],
                name="health_override_live",
            )
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(points__gte=0, points__lte=100), name="health_override_points"
            )
        ]

    def __str__(self) -> str:
        return f"{self.account_id} {self.measure_key}: {self.points}"
