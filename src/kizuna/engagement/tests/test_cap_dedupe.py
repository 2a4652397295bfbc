"""The same content is not sent twice to a contact within dedupe_days, even from two
templates of two teams."""

from __future__ import annotations

import pytest

from kizuna.customers.tests.factories import ContactFactory
from kizuna.engagement import sending
from kizuna.engagement.choices import HoldReason, MessageStatus
from kizuna.engagement.models import EmailMessage, EmailTemplate, EngagementSettings
from kizuna.engagement.tests.factories_sending import template

pytestmark = pytest.mark.django_db


def same_content(label: str, team: str) -> EmailTemplate:
    return template(
        label, team=team, subject_ja="同じご案内", html_ja="<p>同じ内容</p>", text_ja="同じ内容"
    )


def test_same_content_from_another_template_is_held():
    EngagementSettings.objects.update_or_create(pk=1, defaults={"cap_messages": 10})
    contact = ContactFactory.create()
    sending.queue_emails(same_content("A", "Marketing"), [contact.pk], source="campaign")

    result = sending.queue_emails(same_content("B", "CS"), [contact.pk], source="flow")

    held = EmailMessage.objects.get(pk=result.message_ids[0])
    assert held.status == MessageStatus.HELD
    assert held.reason == HoldReason.DUPLICATE
    assert held.reason_detail.startswith("same content within 30 days")
    assert "テンプレートA by Marketing" in held.reason_detail


def test_different_content_is_not_a_duplicate():
    EngagementSettings.objects.update_or_create(pk=1, defaults={"cap_messages": 10})
    contact = ContactFactory.create()
    sending.queue_emails(template("A"), [contact.pk], source="campaign")

    result = sending.queue_emails(template("B"), [contact.pk], source="flow")

    assert result.queued == 1
