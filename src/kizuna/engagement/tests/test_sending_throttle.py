"""The worker never hands the mail server more than send_rate messages per second."""

from __future__ import annotations

import time

import pytest

from kizuna.customers.tests.factories import ContactFactory
from kizuna.engagement import sending
from kizuna.engagement.models import EngagementSettings
from kizuna.engagement.tests.factories_sending import template

pytestmark = pytest.mark.django_db


def test_send_rate_is_respected(smtp_sink):
    EngagementSettings.objects.update_or_create(pk=1, defaults={"send_rate": 20})
    contacts = ContactFactory.create_batch(40)
    sending.queue_emails(template(), [c.pk for c in contacts], source="campaign")

    started = time.monotonic()
    report = sending.send_due()
    elapsed = time.monotonic() - started

    assert report.sent == 40
    assert elapsed >= 1.9
