"""Imports and exports of customer data: import jobs, their files and row errors, and the
column mappings people save and reuse.

An import goes through the statuses uploaded → validating (dry run) → validated → applying →
applied, or ends in failed with the reason in `error_message`. The uploaded file is kept in the
database (`ImportFile`) so that any worker on any machine can read it.
"""

from __future__ import annotations

import datetime
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class ObjectType(models.TextChoices):
    ACCOUNTS = "accounts", _("Accounts")
    CONTACTS = "contacts", _("Contacts")
    SUBSCRIPTIONS = "subscriptions", _("Contracts")
    OPPORTUNITIES = "opportunities", _("Opportunities")
    TOUCHPOINTS = "touchpoints", _("Touchpoints")


class ImportStatus(models.TextChoices):
    UPLOADED = "uploaded", _("Uploaded")
    VALIDATING = "validating", _("Dry run running")
    VALIDATED = "validated", _("Dry run done")
    APPLYING = "applying", _("Applying")
    APPLIED = "applied", _("Applied")
    FAILED = "failed", _("Failed")


# A job in one of these statuses is being worked on by a request or a background task.
RUNNING_STATUSES = (ImportStatus.VALIDATING, ImportStatus.APPLYING)
# A running job that has not reported progress for this long is taken as interrupted.
STALE_AFTER = datetime.timedelta(minutes=10)


class Phase(models.TextChoices):
    """What a running dry run or apply is doing now, shown next to its progress bar."""

    READING = "reading", _("Reading the file")
    CHECKING = "checking", _("Checking rows")
    SAVING = "saving", _("Saving the changes")


class FileFormat(models.TextChoices):
    CSV = "csv", _("CSV")
    XLSX = "xlsx", _("Excel (.xlsx)")


class ColumnMapping(models.Model):
    """A saved column mapping: which column of a file fills which field, reusable for the
    next file with the same columns.

    `columns` maps a column name, exactly as it appears in the header row, to a field
    name of the object type (see `kizuna.integrations.targets`), for example
    ``{"取引先ID": "external_id", "会社名": "name", "担当CSM": "owner",
    "契約プラン": "custom.contract_plan"}``. Columns that are not listed are ignored.
    """

    name = models.CharField(_("name"), max_length=100)
    object_type = models.CharField(_("data"), max_length=16, choices=ObjectType.choices)
    columns = models.JSONField(_("columns"), default=dict)
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
        verbose_name = _("column mapping")
        verbose_name_plural = _("column mappings")
        ordering = ["object_type", "name", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["object_type", "name"], name="column_mapping_unique_name"
            )
        ]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("integrations:mapping_edit", args=[self.pk])

    def clean(self) -> None:
        from kizuna.integrations.mapping import ColumnMap

        if not self.object_type:
            return
        try:
            self.columns = ColumnMap.parse(self.columns, self.object_type).as_json()
        except ValidationError as exc:
            raise ValidationError({"columns": exc.messages}) from None


class ImportJob(models.Model):
    """One uploaded file on its way into Kizuna, and what became of it.

    `headers` is the header row as read (a list of strings); `preview` the first rows as
    display strings (a list of lists); `mapping` the column → field mapping of the last run, in
    the `ColumnMapping.columns` shape. `sample_changes` lists the first changes a run found,
    each ``{"row": 2, "action": "create" | "update", "label": "株式会社サクラ物流",
    "changes": {"name": ["", "株式会社サクラ物流"]}}``.
    """

    object_type = models.CharField(_("data"), max_length=16, choices=ObjectType.choices)
    status = models.CharField(
        _("status"), max_length=16, choices=ImportStatus.choices, default=ImportStatus.UPLOADED
    )
    file_name = models.CharField(_("file"), max_length=255)
    file_format = models.CharField(_("format"), max_length=8, choices=FileFormat.choices)
    file_size = models.PositiveBigIntegerField(_("size"), default=0)
    encoding = models.CharField(_("encoding"), max_length=16, blank=True)
    delimiter = models.CharField(_("delimiter"), max_length=1, blank=True)
    sheet_name = models.CharField(_("sheet"), max_length=100, blank=True)
    headers = models.JSONField(_("columns"), default=list)
    preview = models.JSONField(_("preview"), default=list)
    mapping = models.JSONField(_("mapping"), default=dict)
    saved_mapping = models.ForeignKey(
        ColumnMapping,
        verbose_name=_("saved mapping"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="jobs",
    )
    # Row messages are written in the language of the person who started the import.
    language = models.CharField(_("language"), max_length=8, default="ja")
    phase = models.CharField(_("phase"), max_length=16, choices=Phase.choices, blank=True)
    rows_total = models.PositiveIntegerField(_("rows"), default=0)
    rows_done = models.PositiveIntegerField(_("rows done"), default=0)
    created_count = models.PositiveIntegerField(_("created"), default=0)
    updated_count = models.PositiveIntegerField(_("updated"), default=0)
    unchanged_count = models.PositiveIntegerField(_("unchanged"), default=0)
    error_count = models.PositiveIntegerField(_("rows with errors"), default=0)
    sample_changes = models.JSONField(_("sample changes"), default=list)
    error_message = models.TextField(_("problem"), blank=True)
    task_id = models.CharField(max_length=64, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("imported by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    applied_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("applied by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(_("uploaded"), auto_now_add=True, db_index=True)
    # Moved forward by every progress report, so that a run whose worker died shows as stale.
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    validated_at = models.DateTimeField(_("dry run at"), null=True, blank=True)
    applied_at = models.DateTimeField(_("applied at"), null=True, blank=True)

    class Meta:
        verbose_name = _("import")
        verbose_name_plural = _("imports")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.get_object_type_display()}: {self.file_name}"

    def get_absolute_url(self) -> str:
        return reverse("integrations:import", args=[self.pk])

    @property
    def is_running(self) -> bool:
        return self.status in RUNNING_STATUSES

    @property
    def is_stale(self) -> bool:
        """Running, but silent for longer than a worker ever is (it died or was stopped)."""
        return (
            self.is_running
            and self.heartbeat_at is not None
            and self.heartbeat_at < timezone.now() - STALE_AFTER
        )

    @property
    def can_apply(self) -> bool:
        """A clean dry run is the only way to apply: no row errors and no file problem."""
        return (
            self.status == ImportStatus.VALIDATED
            and self.error_count == 0
            and not self.error_message
            and self.created_count + self.updated_count > 0
        )

    @property
    def progress_percent(self) -> int:
        if not self.rows_total:
            return 0
        return min(100, self.rows_done * 100 // self.rows_total)

    @property
    def status_class(self) -> str:
        """The badge colour of the status (classes from kizuna.css)."""
        return {
            ImportStatus.APPLIED: "status-active",
            ImportStatus.FAILED: "status-cancelled",
            ImportStatus.VALIDATING: "status-trial",
            ImportStatus.APPLYING: "status-trial",
            ImportStatus.VALIDATED: "tier-low",
        }.get(ImportStatus(self.status), "")

    def summary(self) -> dict[str, Any]:
        return {
            "created": self.created_count,
            "updated": self.updated_count,
            "unchanged": self.unchanged_count,
            "errors": self.error_count,
        }


class ImportFile(models.Model):
    """The uploaded bytes of an import, and its data rows as parsed at upload (compressed,
    see `tabular.pack_rows`), kept apart from the job so lists never load them."""

    job = models.OneToOneField(
        ImportJob, primary_key=True, on_delete=models.CASCADE, related_name="upload"
    )
    content = models.BinaryField()
    rows = models.BinaryField(default=b"")

    def __str__(self) -> str:
        return self.job.file_name


class ImportRowError(models.Model):
    """One problem with one row (or one cell) of an import file.

    `row_number` is the row as a spreadsheet shows it: the header is row 1, the first data
    row is row 2. Problems with the whole file have row number 0.
    """

    job = models.ForeignKey(ImportJob, on_delete=models.CASCADE, related_name="row_errors")
    row_number = models.PositiveIntegerField(_("row"))
    column = models.CharField(_("column"), max_length=255, blank=True)
    value = models.CharField(_("value"), max_length=500, blank=True)
    message = models.TextField(_("problem"))

    class Meta:
        verbose_name = _("row error")
        verbose_name_plural = _("row errors")
        ordering = ["job", "row_number", "id"]
        indexes = [models.Index(fields=["job", "row_number", "id"])]

    def __str__(self) -> str:
        return f"{self.row_number}: {self.message}"


class TouchpointExternalId(models.Model):
    """The external id of a touchpoint that came from an import.

    Touchpoints have no external id column of their own; this side table is what makes a
    touchpoint import an idempotent upsert like the other objects.
    """

    touchpoint = models.OneToOneField(
        "customers.Touchpoint",
        primary_key=True,
        on_delete=models.CASCADE,
        related_name="import_key",
    )
    external_id = models.CharField(_("external ID"), max_length=100, unique=True)

    class Meta:
        verbose_name = _("touchpoint external ID")
        verbose_name_plural = _("touchpoint external IDs")

    def __str__(self) -> str:
        return self.external_id
