"""A Japanese email arrives at a real SMTP server with its subject, body and From name
intact."""

from __future__ import annotations

import pytest

from kizuna.customers.tests.factories import AccountFactory, ContactFactory
from kizuna.engagement import sending
from kizuna.engagement.choices import MessageStatus
from kizuna.engagement.models import EmailMessage
from kizuna.engagement.tests.factories import EmailTemplateFactory, SenderFactory

pytestmark = pytest.mark.django_db


def test_japanese_subject_body_and_from_name_decode(smtp_sink):
    account = AccountFactory.create(name="株式会社さくら")
    contact = ContactFactory.create(account=account, name="佐藤 花子", email="hanako@sakura.jp")
    template = EmailTemplateFactory.create(
        sender=SenderFactory.create(from_name="空色レポート サポート", from_email="cs@sorairo.jp"),
        subject_ja="{{ account.name }} 様 — 月次レポートのご案内",
        html_ja="<p>{{ contact.name }} 様、いつもありがとうございます。</p>",
        text_ja="{{ contact.name }} 様、いつもありがとうございます。",
    )

    sending.queue_emails(template, [contact.pk], source="campaign")
    report = sending.send_due()

    assert report.sent == 1
    [received] = smtp_sink.messages
    assert received["Subject"] == "株式会社さくら 様 — 月次レポートのご案内"
    assert received["From"].addresses[0].display_name == "空色レポート サポート"
    assert received["From"].addresses[0].addr_spec == "cs@sorairo.jp"
    assert (
        "佐藤 花子 様、いつもありがとうございます。" in received.get_body(("plain",)).get_content()
    )
    assert (
        "佐藤 花子 様、いつもありがとうございます。" in received.get_body(("html",)).get_content()
    )
    assert smtp_sink.envelopes[0].rcpt_tos == ("hanako@sakura.jp",)
    message = EmailMessage.objects.get()
    assert message.status == MessageStatus.SENT
    assert message.subject == "株式会社さくら 様 — 月次レポートのご案内"
    assert message.smtp_response.startswith("250")
