"""Contacts without an address, unsubscribed from the category, or suppressed are skipped,
each with its reason logged; the others are queued."""

from __future__ import annotations

import pytest

from kizuna.customers.tests.factories import ContactFactory
from kizuna.engagement import sending
from kizuna.engagement.choices import HoldReason, MessageStatus, SuppressionReason
from kizuna.engagement.models import EmailMessage, Preference, Suppression
from kizuna.engagement.tests.factories_sending import event_kinds, template

pytestmark = pytest.mark.django_db


def test_unreachable_contacts_are_skipped_with_their_reason(smtp_sink):
    tpl = template()
    no_address = ContactFactory.create(email="")
    unsubscribed = ContactFactory.create()
    Preference.objects.create(contact=unsubscribed, category=tpl.category, subscribed=False)
    suppressed = ContactFactory.create(email="Blocked@example.jp")
    Suppression.objects.create(email="blocked@example.jp", reason=SuppressionReason.MANUAL)
    reachable = ContactFactory.create()

    result = sending.queue_emails(
        tpl, [no_address.pk, unsubscribed.pk, suppressed.pk, reachable.pk], source="campaign"
    )
    sending.send_due()

    assert (result.queued, result.skipped) == (1, 3)
    reasons = dict(EmailMessage.objects.values_list("contact_id", "reason"))
    assert reasons == {
        no_address.pk: HoldReason.NO_EMAIL,
        unsubscribed.pk: HoldReason.UNSUBSCRIBED,
        suppressed.pk: HoldReason.SUPPRESSED,
        reachable.pk: "",
    }
    skipped = EmailMessage.objects.get(contact=suppressed)
    assert skipped.status == MessageStatus.SKIPPED
    assert "blocked@example.jp" in skipped.reason_detail
    assert event_kinds(skipped) == ["skipped"]
    assert smtp_sink.recipients() == [reachable.email]


def test_suppressed_after_queueing_is_skipped_at_send_time(smtp_sink):
    contact = ContactFactory.create()
    sending.queue_emails(template(), [contact.pk], source="campaign")
    Suppression.objects.create(email=contact.email, reason=SuppressionReason.COMPLAINT)

    sending.send_due()

    message = EmailMessage.objects.get()
    assert message.status == MessageStatus.SKIPPED
    assert message.reason == HoldReason.SUPPRESSED
    assert smtp_sink.messages == []


def test_a_missing_value_skips_the_message_naming_the_variable(smtp_sink):
    contact = ContactFactory.create(title="")
    tpl = template(html_ja="<p>{{ contact.title }}</p>", text_ja="{{ contact.title }}")
    sending.queue_emails(tpl, [contact.pk], source="campaign")

    sending.send_due()

    message = EmailMessage.objects.get()
    assert message.status == MessageStatus.SKIPPED
    assert message.reason == HoldReason.MISSING_VALUE
    assert "contact.title" in message.reason_detail
    assert smtp_sink.messages == []
