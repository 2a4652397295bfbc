"""Writing email templates and sender identities: validated, versioned and audited.

A template's content is only saved when `rendering.validate_content` finds no problem
(otherwise `TemplateInvalid` names each field, line and column and nothing is saved), and a
save only makes a new version when the content changed. The content hash is taken over the
normalised content, so the same email saved in two templates by two teams is recognised as
the same message by the de-duplication rule.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from kizuna.core import audit
from kizuna.core.models import User
from kizuna.engagement.models import EmailTemplate, EmailTemplateVersion, SenderIdentity
from kizuna.engagement.rendering import FIELDS, TemplateInvalid, validate_content

TEMPLATE_SETTINGS = ("key", "name", "description", "category", "sender", "content_type", "team")
SENDER_FIELDS = (
    "name",
    "from_name",
    "from_email",
    "reply_to",
    "organisation",
    "postal_address",
    "inquiries",
    "is_default",
)


def _clean_content(content: Mapping[str, str]) -> dict[str, str]:
    unknown = set(content) - set(FIELDS)
    if unknown:
        raise ValueError(f"unknown content fields: {sorted(unknown)}")
    values = {name: (content.get(name) or "").replace("\r\n", "\n") for name in FIELDS}
    for name in ("subject_ja", "subject_en"):
        values[name] = values[name].strip()
    return values


def content_hash(content: Mapping[str, str]) -> str:
    """SHA-256 of the content with surrounding and repeated whitespace ignored."""
    normalised = "\x1e".join(
        f"{name}\x1f{' '.join((content.get(name) or '').split())}" for name in FIELDS
    )
    return hashlib.sha256(normalised.encode()).hexdigest()


def _check(content: Mapping[str, str]) -> None:
    problems = validate_content(content)
    if problems:
        raise TemplateInvalid(problems)


def _actor(actor: User | None) -> User | None:
    return actor if actor is not None and actor.pk else None


@transaction.atomic
def create_template(
    actor: User | None, *, content: Mapping[str, str], **fields: Any
) -> EmailTemplate:
    """A new template with its first version. Raises TemplateInvalid (content) or
    ValidationError (settings, e.g. a key already used); nothing is saved then."""
    values = _clean_content(content)
    unknown = set(fields) - set(TEMPLATE_SETTINGS)
    if unknown:
        raise ValueError(f"unknown template fields: {sorted(unknown)}")
    template = EmailTemplate(created_by=_actor(actor), **fields)
    template.full_clean(exclude=["current"])
    _check(values)
    template.save()
    version = EmailTemplateVersion.objects.create(
        template=template,
        number=1,
        content_hash=content_hash(values),
        created_by=_actor(actor),
        **values,
    )
    template.current = version
    template.save(update_fields=["current", "updated_at"])
    audit.record_create(actor, template)
    return template


@transaction.atomic
def save_version(
    actor: User | None, template: EmailTemplate, content: Mapping[str, str]
) -> EmailTemplateVersion:
    """Save `content` as the template's new current version, or return the current version
    when the content is the same. Raises TemplateInvalid with every problem."""
    values = _clean_content(content)
    _check(values)
    locked = EmailTemplate.objects.select_for_update().get(pk=template.pk)
    current = (
        EmailTemplateVersion.objects.filter(pk=locked.current_id).first()
        if locked.current_id
        else None
    )
    if current is not None and all(getattr(current, name) == values[name] for name in FIELDS):
        return current
    before = audit.snapshot(locked)
    last = locked.versions.order_by("-number").values_list("number", flat=True).first() or 0
    version = EmailTemplateVersion.objects.create(
        template=locked,
        number=last + 1,
        content_hash=content_hash(values),
        created_by=_actor(actor),
        **values,
    )
    locked.current = version
    locked.save(update_fields=["current", "updated_at"])
    audit.record_update(actor, locked, before)
    template.current = version
    template.current_id = version.pk
    return version


@transaction.atomic
def update_template(actor: User | None, template: EmailTemplate, **fields: Any) -> EmailTemplate:
    """Change a template's settings (name, key, category, sender, content type, team,
    description). Raises ValidationError naming the field; nothing is saved then."""
    unknown = set(fields) - set(TEMPLATE_SETTINGS)
    if unknown:
        raise ValueError(f"unknown template fields: {sorted(unknown)}")
    before = audit.snapshot(template)
    for name, value in fields.items():
        setattr(template, name, value)
    template.full_clean(exclude=["current"])
    template.save()
    audit.record_update(actor, template, before)
    return template


@transaction.atomic
def archive_template(
    actor: User | None, template: EmailTemplate, *, archived: bool = True
) -> EmailTemplate:
    """Archive (or restore) a template: archived ones are hidden from pickers, never deleted
    because sent messages point at their versions."""
    before = audit.snapshot(template)
    template.archived = archived
    template.save(update_fields=["archived", "updated_at"])
    audit.record_update(actor, template, before)
    return template


def _take_default(sender: SenderIdentity) -> None:
    # The one-default constraint is checked per statement: clear the old default first.
    SenderIdentity.objects.filter(is_default=True).exclude(pk=sender.pk).update(is_default=False)


@transaction.atomic
def create_sender(actor: User | None, **fields: Any) -> SenderIdentity:
    """A new sender identity; the first one (or one marked default) becomes the default."""
    unknown = set(fields) - set(SENDER_FIELDS)
    if unknown:
        raise ValueError(f"unknown sender fields: {sorted(unknown)}")
    sender = SenderIdentity(**fields)
    if not SenderIdentity.objects.filter(is_default=True).exists():
        sender.is_default = True
    sender.full_clean(validate_constraints=False)
    if sender.is_default:
        SenderIdentity.objects.filter(is_default=True).update(is_default=False)
    sender.save()
    audit.record_create(actor, sender)
    return sender


@transaction.atomic
def update_sender(actor: User | None, sender: SenderIdentity, **fields: Any) -> SenderIdentity:
    """Change a sender identity. Making it the default moves the default to it; the default
    itself cannot be unset (make another sender the default instead)."""
    unknown = set(fields) - set(SENDER_FIELDS)
    if unknown:
        raise ValueError(f"unknown sender fields: {sorted(unknown)}")
    was_default = SenderIdentity.objects.filter(pk=sender.pk, is_default=True).exists()
    before = audit.snapshot(sender)
    for name, value in fields.items():
        setattr(sender, name, value)
    if was_default and not sender.is_default:
        sender.is_default = True
        raise ValidationError(
            {
                "is_default": _(
                    "Make another sender the default instead: one sender is always the default."
                )
            }
        )
    sender.full_clean(validate_constraints=False)
    if sender.is_default and not was_default:
        _take_default(sender)
    sender.save()
    audit.record_update(actor, sender, before)
    return sender
