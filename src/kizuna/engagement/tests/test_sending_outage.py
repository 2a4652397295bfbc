"""When the mail server is down, nothing is lost: the messages wait and retry, and once it
is back every message arrives exactly once."""

from __future__ import annotations

import datetime

import pytest
from django.utils import timezone

from kizuna.customers.tests.factories import ContactFactory
from kizuna.engagement import sending
from kizuna.engagement.choices import MessageStatus
from kizuna.engagement.models import EmailMessage
from kizuna.engagement.tests.factories_sending import event_kinds, template

pytestmark = pytest.mark.django_db


def test_outage_then_recovery_sends_each_message_once(smtp_sink):
    contacts = ContactFactory.create_batch(5)
    sending.queue_emails(template(), [c.pk for c in contacts], source="campaign")
    smtp_sink.stop()

    down = sending.send_due()

    assert down.sent == 0
    assert down.retried == 1
    assert down.released == 4
    first = EmailMessage.objects.order_by("id")[0]
    assert first.status == MessageStatus.QUEUED
    assert first.attempts == 1
    assert first.next_attempt_at is not None
    assert first.last_error
    assert "retry" in event_kinds(first)
    assert set(EmailMessage.objects.values_list("status", flat=True)) == {MessageStatus.QUEUED}

    smtp_sink.start()
    sending.send_due()
    later = timezone.now() + datetime.timedelta(minutes=2)
    sending.send_due(now=later)
    sending.send_due(now=later)

    assert sorted(smtp_sink.recipients()) == sorted(c.email for c in contacts)
    assert set(EmailMessage.objects.values_list("status", flat=True)) == {MessageStatus.SENT}


def test_temporary_refusal_is_retried_with_backoff(smtp_sink):
    contact = ContactFactory.create()
    sending.queue_emails(template(), [contact.pk], source="campaign")
    smtp_sink.fail_temporarily()
    start = timezone.now()

    sending.send_due(now=start)

    message = EmailMessage.objects.get()
    assert message.status == MessageStatus.QUEUED
    assert message.last_error.startswith("451")
    assert message.next_attempt_at is not None
    assert message.next_attempt_at >= start + datetime.timedelta(seconds=55)
    assert sending.send_due(now=start).claimed == 0
    sending.send_due(now=start + datetime.timedelta(minutes=1, seconds=5))
    assert smtp_sink.recipients() == [contact.email]


def test_gives_up_after_max_attempts(smtp_sink):
    from kizuna.engagement.models import EngagementSettings

    EngagementSettings.objects.update_or_create(pk=1, defaults={"max_attempts": 2})
    contact = ContactFactory.create()
    sending.queue_emails(template(), [contact.pk], source="campaign")
    smtp_sink.fail_temporarily(times=5)
    now = timezone.now()

    sending.send_due(now=now)
    sending.send_due(now=now + datetime.timedelta(hours=1))

    message = EmailMessage.objects.get()
    assert message.status == MessageStatus.FAILED
    assert message.attempts == 2
    assert event_kinds(message)[-1] == "failed"


def test_stale_claim_of_a_dead_worker_is_queued_again(smtp_sink):
    contact = ContactFactory.create()
    sending.queue_emails(template(), [contact.pk], source="campaign")
    long_ago = timezone.now() - datetime.timedelta(minutes=11)
    EmailMessage.objects.update(status=MessageStatus.SENDING, claimed_at=long_ago)

    sending.send_due()

    assert smtp_sink.recipients() == [contact.email]
