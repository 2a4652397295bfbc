"""Users and roles, the audit log, and periodic-job bookkeeping."""

from __future__ import annotations

from typing import Any

from django.apps import apps
from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.core.exceptions import FieldDoesNotExist
from django.db import models
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    ADMIN = "admin", _("Admin")
    MANAGER = "manager", _("Manager")
    CSM = "csm", _("CSM")
    VIEWER = "viewer", _("Viewer")


class User(AbstractUser):
    """A person who signs in to Kizuna. What they may do is decided by `role` alone."""

    role = models.CharField(_("role"), max_length=16, choices=Role.choices, default=Role.CSM)
    display_name = models.CharField(_("display name"), max_length=100, blank=True)

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")
        ordering = ["username"]

    def __str__(self) -> str:
        return self.display_name or self.get_full_name() or self.username

    @property
    def can_write(self) -> bool:
        """CSMs, managers and admins change customer data; viewers only read."""
        return self.role != Role.VIEWER and self.is_active

    @property
    def can_configure(self) -> bool:
        """Managers and admins edit tiers, custom fields and read the audit log."""
        return self.role in (Role.MANAGER, Role.ADMIN) and self.is_active

    @property
    def can_manage_users(self) -> bool:
        return self.role == Role.ADMIN and self.is_active


class AuditAction(models.TextChoices):
    CREATE = "create", _("Created")
    UPDATE = "update", _("Updated")
    DELETE = "delete", _("Deleted")


class AuditEntry(models.Model):
    """One change to customer data or settings: who, when, what, and each field old → new.

    `changes` maps a field name to ``[old, new]`` as display strings, e.g.
    ``{"name": ["株式会社A", "株式会社B"], "seats": ["10", "12"]}``.
    """

    created_at = models.DateTimeField(_("when"), auto_now_add=True, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("who"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    action = models.CharField(_("action"), max_length=8, choices=AuditAction.choices)
    object_type = models.CharField(_("object type"), max_length=64)
    object_id = models.CharField(_("object id"), max_length=64)
    object_repr = models.CharField(_("object"), max_length=200)
    # The account a change belongs to, so the account page can show its own history.
    account = models.ForeignKey(
        "customers.Account",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="audit_entries",
        db_constraint=False,
    )
    changes = models.JSONField(_("changes"), default=dict)

    class Meta:
        verbose_name = _("audit entry")
        verbose_name_plural = _("audit log")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["account", "-created_at"])]

    def __str__(self) -> str:
        return f"{self.action} {self.object_type} {self.object_repr}"

    @property
    def object_type_label(self) -> str:
        model = self._model()
        return str(model._meta.verbose_name) if model else self.object_type

    def _model(self) -> type[models.Model] | None:
        try:
            return apps.get_model(self.object_type)
        except (LookupError, ValueError):
            return None

    def change_rows(self) -> list[tuple[str, str, str]]:
        """(field label, old, new) in the reader's language: choice labels instead of codes,
        yes/no instead of true/false, and secrets only as "changed"."""
        model = self._model()
        rows = []
        for name, (old, new) in sorted(self.changes.items()):
            base, _dot, key = name.partition(".")
            try:
                field = model._meta.get_field(base) if model else None
            except FieldDoesNotExist:
                field = None
            label = str(getattr(field, "verbose_name", base)) if field else base
            if key:
                label = f"{label}: {key}"
            if base == "password":
                rows.append((label, "", str(_("(changed)"))))
                continue
            rows.append((label, _display_value(field, old), _display_value(field, new)))
        return rows


def _display_value(field: Any, value: str) -> str:
    if value == "" or field is None:
        return value
    if isinstance(field, models.BooleanField):
        return str(_("Yes")) if value == "true" else str(_("No"))
    choices = dict(field.flatchoices) if getattr(field, "choices", None) else {}
    return str(choices.get(value, value))


class PeriodicJob(models.Model):
    """Bookkeeping for one registered periodic job (see kizuna.core.scheduler).

    Workers claim a due run by moving `next_run_at` forward with a conditional UPDATE, so
    however many workers run, each slot is enqueued exactly once.
    """

    name = models.CharField(max_length=100, unique=True)
    next_run_at = models.DateTimeField()
    last_enqueued_at = models.DateTimeField(null=True, blank=True)
    last_task_id = models.CharField(max_length=64, blank=True)
    last_error = models.TextField(blank=True)

    def __str__(self) -> str:
        return self.name


class DirtyAccount(models.Model):
    """An account whose derived data (tier, stage, health, segments) must be recomputed
    because something it reads changed (see kizuna.core.recompute).

    Written in the transaction of the change, so a change that commits is never forgotten;
    deleted once recomputed, unless it was marked again meanwhile (`marked_at` moved).
    """

    account_id = models.BigIntegerField(primary_key=True)
    marked_at = models.DateTimeField(db_index=True)

    def __str__(self) -> str:
        return f"account {self.account_id} since {self.marked_at}"
