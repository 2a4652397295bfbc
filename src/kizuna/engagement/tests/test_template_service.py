"""Saving templates and senders: validated, versioned, hashed over normalised content,
audited; a refused save changes nothing."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from kizuna.core.models import AuditEntry
from kizuna.core.tests.factories import UserFactory
from kizuna.engagement import templates_service
from kizuna.engagement.models import EmailTemplate, EmailTemplateVersion, SenderIdentity
from kizuna.engagement.rendering import TemplateInvalid
from kizuna.engagement.tests.factories import CategoryFactory, SenderFactory

pytestmark = pytest.mark.django_db

CONTENT = {
    "subject_ja": "{{ account.name }} 様へのご案内",
    "html_ja": '<p>{{ contact.name|default:"ご担当者" }} 様</p>',
    "text_ja": '{{ contact.name|default:"ご担当者" }} 様',
}


def create(key: str = "welcome", content: dict[str, str] | None = None, **fields):
    return templates_service.create_template(
        UserFactory.create(),
        key=key,
        name=f"ようこそ {key}",
        category=CategoryFactory.create(),
        content=content or CONTENT,
        **fields,
    )


def test_create_makes_the_first_version_and_logs_it() -> None:
    template = create()
    assert template.current is not None
    assert template.current.number == 1
    assert template.current.subject_ja == CONTENT["subject_ja"]
    assert AuditEntry.objects.filter(object_type="engagement.emailtemplate").count() == 1


def test_invalid_content_saves_nothing() -> None:
    with pytest.raises(TemplateInvalid) as raised:
        create(content={**CONTENT, "text_ja": "{{ contact.nme }}"})
    assert [(p.field, p.line, p.column) for p in raised.value.problems] == [("text_ja", 1, 1)]
    assert not EmailTemplate.objects.filter(key="welcome").exists()


def test_duplicate_key_is_a_validation_error_on_key() -> None:
    create("same")
    with pytest.raises(ValidationError) as raised:
        create("same")
    assert "key" in raised.value.message_dict


def test_changed_content_makes_a_new_version() -> None:
    template = create()
    version = templates_service.save_version(None, template, {**CONTENT, "text_ja": "変更"})
    assert version.number == 2
    template.refresh_from_db()
    assert template.current == version


def test_same_content_makes_no_new_version() -> None:
    template = create()
    version = templates_service.save_version(None, template, dict(CONTENT))
    assert version.number == 1
    assert EmailTemplateVersion.objects.filter(template=template).count() == 1


def test_invalid_new_version_keeps_the_current_one() -> None:
    template = create()
    with pytest.raises(TemplateInvalid):
        templates_service.save_version(None, template, {**CONTENT, "html_ja": "<div>open"})
    template.refresh_from_db()
    assert template.current is not None and template.current.number == 1


def test_same_content_in_two_templates_has_the_same_hash_whatever_the_whitespace() -> None:
    first = create("a", team="営業")
    spaced = {name: f"  {value.replace(' ', '   ')}\n" for name, value in CONTENT.items()}
    second = create("b", content=spaced, team="CS")
    assert first.current is not None and second.current is not None
    assert first.current.content_hash == second.current.content_hash


def test_different_content_has_another_hash() -> None:
    first = create("a")
    second = create("b", content={**CONTENT, "text_ja": "別の本文"})
    assert first.current is not None and second.current is not None
    assert first.current.content_hash != second.current.content_hash


def test_update_settings_and_archive_are_logged() -> None:
    template = create()
    templates_service.update_template(None, template, name="新しい名前", team="CS")
    templates_service.archive_template(None, template)
    template.refresh_from_db()
    assert (template.name, template.team, template.archived) == ("新しい名前", "CS", True)
    assert AuditEntry.objects.filter(object_type="engagement.emailtemplate").count() == 3


SENDER = {
    "from_name": "空色 CS",
    "from_email": "cs@sorairo.example.jp",
    "organisation": "株式会社空色",
    "postal_address": "東京都千代田区",
    "inquiries": "support@sorairo.example.jp",
}


def test_first_sender_becomes_the_default() -> None:
    sender = templates_service.create_sender(None, name="CS", **SENDER)
    assert sender.is_default


def test_making_a_sender_default_moves_the_default() -> None:
    old = SenderFactory.create(is_default=True)
    new = templates_service.create_sender(None, name="Marketing", is_default=True, **SENDER)
    old.refresh_from_db()
    assert new.is_default and not old.is_default
    templates_service.update_sender(None, old, is_default=True)
    assert list(SenderIdentity.objects.filter(is_default=True)) == [old]


def test_the_default_cannot_be_unset() -> None:
    sender = SenderFactory.create(is_default=True)
    with pytest.raises(ValidationError) as raised:
        templates_service.update_sender(None, sender, is_default=False)
    assert "is_default" in raised.value.message_dict
    assert SenderIdentity.objects.get().is_default
