"""A recipient the server refuses for good (550) bounces and is suppressed."""

from __future__ import annotations

import pytest

from kizuna.customers.tests.factories import ContactFactory
from kizuna.engagement import sending
from kizuna.engagement.choices import MessageStatus, SuppressionReason
from kizuna.engagement.models import EmailMessage, Suppression
from kizuna.engagement.tests.factories_sending import event_kinds, template

pytestmark = pytest.mark.django_db


def test_550_bounces_and_suppresses_the_address(smtp_sink):
    gone = ContactFactory.create(email="Gone@Example.jp")
    fine = ContactFactory.create()
    smtp_sink.refuse("gone@example.jp")
    sending.queue_emails(template(), [gone.pk, fine.pk], source="campaign")

    report = sending.send_due()

    assert report.bounced == 1
    assert report.sent == 1
    bounced = EmailMessage.objects.get(contact=gone)
    assert bounced.status == MessageStatus.BOUNCED
    assert bounced.bounced_at is not None
    assert "550" in bounced.last_error
    assert "bounced" in event_kinds(bounced)
    suppression = Suppression.objects.get(email="gone@example.jp")
    assert suppression.reason == SuppressionReason.HARD_BOUNCE
    assert smtp_sink.recipients() == [fine.email]
