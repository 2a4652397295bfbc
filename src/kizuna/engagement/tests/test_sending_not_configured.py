"""Without a mail server nothing is sent: the messages wait, and say why."""

from __future__ import annotations

import pytest

from kizuna.customers.tests.factories import ContactFactory
from kizuna.engagement import sending
from kizuna.engagement.choices import MessageStatus
from kizuna.engagement.models import EmailMessage
from kizuna.engagement.tests.factories_sending import template

pytestmark = pytest.mark.django_db


def test_messages_stay_queued_without_a_mail_server(settings):
    settings.ENGAGEMENT_SMTP = {**settings.ENGAGEMENT_SMTP, "host": ""}
    contact = ContactFactory.create()
    sending.queue_emails(template(), [contact.pk], source="campaign")

    report = sending.send_due()

    assert not report.configured
    message = EmailMessage.objects.get()
    assert message.status == MessageStatus.QUEUED
    assert message.last_error == "no mail server configured"
