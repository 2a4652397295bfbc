"""One frequency cap for every team and source: what a campaign sent counts when a flow
queues, and the held message says which rule held it and why."""

from __future__ import annotations

import datetime

import pytest
from django.utils import timezone

from kizuna.customers.tests.factories import ContactFactory
from kizuna.engagement import sending
from kizuna.engagement.choices import HoldReason, MessageStatus
from kizuna.engagement.models import EmailMessage, EngagementSettings
from kizuna.engagement.tests.factories_sending import event_kinds, template

pytestmark = pytest.mark.django_db


def test_cap_holds_a_flow_message_after_two_campaign_messages():
    EngagementSettings.objects.update_or_create(pk=1, defaults={"cap_messages": 2, "cap_days": 7})
    contact = ContactFactory.create()
    now = timezone.now()
    sending.queue_emails(template("A", team="Marketing"), [contact.pk], source="campaign", now=now)
    sending.queue_emails(template("B", team="Marketing"), [contact.pk], source="campaign", now=now)

    result = sending.queue_emails(
        template("C", team="CS"), [contact.pk], source="flow", key_prefix="flow:1:welcome"
    )

    assert result.held == 1
    held = EmailMessage.objects.get(pk=result.message_ids[0])
    assert held.status == MessageStatus.HELD
    assert held.reason == HoldReason.FREQUENCY_CAP
    assert held.reason_detail.startswith("2 per 7 days: already 2 since")
    assert "テンプレートA by Marketing" in held.reason_detail
    assert "テンプレートB by Marketing" in held.reason_detail
    assert event_kinds(held) == ["held"]


def test_messages_older_than_the_period_do_not_count():
    EngagementSettings.objects.update_or_create(pk=1, defaults={"cap_messages": 1, "cap_days": 7})
    contact = ContactFactory.create()
    sending.queue_emails(
        template("A"),
        [contact.pk],
        source="campaign",
        now=timezone.now() - datetime.timedelta(days=8),
    )

    result = sending.queue_emails(template("B"), [contact.pk], source="flow")

    assert result.queued == 1


def test_held_and_skipped_messages_do_not_count():
    EngagementSettings.objects.update_or_create(pk=1, defaults={"cap_messages": 1})
    contact = ContactFactory.create()
    first = sending.queue_emails(template("A"), [contact.pk], source="campaign")
    EmailMessage.objects.filter(pk__in=first.message_ids).update(status=MessageStatus.BOUNCED)

    result = sending.queue_emails(template("B"), [contact.pk], source="flow")

    assert result.queued == 1


def test_queueing_is_idempotent_on_the_source_key():
    contact = ContactFactory.create()
    first = sending.queue_emails(template("A"), [contact.pk], source="flow", key_prefix="f:1")

    again = sending.queue_emails(template("A"), [contact.pk], source="flow", key_prefix="f:1")

    assert again.existing == 1
    assert again.queued == 0
    assert again.message_ids == first.message_ids
    assert EmailMessage.objects.count() == 1


def test_queueing_takes_a_fixed_number_of_queries(django_assert_max_num_queries):
    contacts = ContactFactory.create_batch(30)
    tpl = template("A")
    EngagementSettings.get()

    with django_assert_max_num_queries(14):
        result = sending.queue_emails(tpl, [c.pk for c in contacts], source="campaign")

    assert result.queued == 30
