"""The audit log: every create, update and delete of customer data and settings.

Services call `record_create`, `record_update` and `record_delete` inside the same transaction
as the change itself, so the log and the data can never disagree.
"""

from __future__ import annotations

import datetime
import hashlib
from decimal import Decimal
from typing import Any

from django.db import models

from kizuna.core.models import AuditAction, AuditEntry, User

Snapshot = dict[str, str]

_SECRET = {"password"}
_NOT_LOGGED = {"last_login", "date_joined", "search_text"}


def _display(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Decimal):
        return format(value.normalize(), "f") if value == value.to_integral() else str(value)
    if isinstance(value, datetime.datetime | datetime.date):
        return value.isoformat()
    return str(value)


def snapshot(instance: models.Model) -> Snapshot:
    """The audited fields of `instance` as display strings.

    JSON dictionaries (custom fields) are flattened to ``field.key`` so one changed custom
    value shows as one row; foreign keys are recorded by their id.
    """
    values: Snapshot = {}
    for field in instance._meta.concrete_fields:
        if field.primary_key or not field.editable or field.name in ("created_at", "updated_at"):
            continue
        if field.name in _NOT_LOGGED:
            continue
        value = getattr(instance, field.attname)
        if field.name in _SECRET:
            # Never log a secret, not even hashed: a fingerprint only shows that it changed.
            digest = hashlib.sha256(str(value).encode()).hexdigest()[:8] if value else ""
            values[field.name] = f"•••{digest}" if digest else ""
            continue
        if field.is_relation and value is not None:
            # The related row's name, so the log reads "佐藤 美咲 → 田中 結衣", not ids.
            values[field.name] = str(getattr(instance, field.name))
            continue
        if isinstance(field, models.JSONField) and isinstance(value, dict):
            for key, item in value.items():
                values[f"{field.name}.{key}"] = _display(item)
            continue
        values[field.name] = _display(value)
    return values


def diff(before: Snapshot, after: Snapshot) -> dict[str, list[str]]:
    keys = before.keys() | after.keys()
    return {
        key: [before.get(key, ""), after.get(key, "")]
        for key in sorted(keys)
        if before.get(key, "") != after.get(key, "")
    }


def _account_id(instance: models.Model) -> int | None:
    from kizuna.customers.models import Account

    if isinstance(instance, Account):
        return instance.pk
    return getattr(instance, "account_id", None)


def _record(
    actor: User | None,
    action: str,
    instance: models.Model,
    changes: dict[str, list[str]],
    *,
    object_id: object = None,
) -> AuditEntry:
    return AuditEntry.objects.create(
        actor=actor if actor is not None and actor.pk else None,
        action=action,
        object_type=instance._meta.label_lower,
        object_id=str(object_id if object_id is not None else instance.pk),
        object_repr=str(instance)[:200],
        account_id=_account_id(instance),
        changes=changes,
    )


def record_create(actor: User | None, instance: models.Model) -> AuditEntry:
    return _record(actor, AuditAction.CREATE, instance, diff({}, snapshot(instance)))


def record_update(
    actor: User | None, instance: models.Model, before: Snapshot
) -> AuditEntry | None:
    """Log the fields that changed since `before`; nothing is logged when nothing changed."""
    changes = diff(before, snapshot(instance))
    if not changes:
        return None
    return _record(actor, AuditAction.UPDATE, instance, changes)


def record_delete(actor: User | None, instance: models.Model, object_id: object) -> AuditEntry:
    return _record(
        actor, AuditAction.DELETE, instance, diff(snapshot(instance), {}), object_id=object_id
    )
