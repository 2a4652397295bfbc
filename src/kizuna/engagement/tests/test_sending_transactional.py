"""Transactional email ignores the cap and the contact's preferences, but never goes to an
address that hard-bounced."""

from __future__ import annotations

import pytest

from kizuna.customers.tests.factories import ContactFactory
from kizuna.engagement import sending
from kizuna.engagement.choices import HoldReason, SuppressionReason
from kizuna.engagement.models import EmailMessage, EngagementSettings, Preference, Suppression
from kizuna.engagement.tests.factories_sending import template

pytestmark = pytest.mark.django_db


def test_transactional_bypasses_cap_and_preferences(smtp_sink):
    EngagementSettings.objects.update_or_create(pk=1, defaults={"cap_messages": 1})
    contact = ContactFactory.create()
    sending.queue_emails(template("A"), [contact.pk], source="campaign")
    notice = template("B", transactional=True)
    Preference.objects.create(contact=contact, category=notice.category, subscribed=False)
    Suppression.objects.create(email=contact.email, reason=SuppressionReason.UNSUBSCRIBED)
    EmailMessage.objects.update(to_email="other@example.jp")  # the first one is not at issue

    result = sending.queue_emails(notice, [contact.pk], source="flow")
    sending.send_due()

    assert result.queued == 1
    assert contact.email in smtp_sink.recipients()


def test_transactional_is_not_sent_to_a_hard_bounced_address():
    contact = ContactFactory.create()
    Suppression.objects.create(email=contact.email, reason=SuppressionReason.HARD_BOUNCE)

    result = sending.queue_emails(template("B", transactional=True), [contact.pk], source="flow")

    assert result.skipped == 1
    assert EmailMessage.objects.get().reason == HoldReason.SUPPRESSED


def test_transactional_messages_do_not_count_against_the_cap():
    EngagementSettings.objects.update_or_create(pk=1, defaults={"cap_messages": 1})
    contact = ContactFactory.create()
    sending.queue_emails(template("B", transactional=True), [contact.pk], source="flow")

    result = sending.queue_emails(template("A"), [contact.pk], source="campaign")

    assert result.queued == 1
