"""A campaign through the real pipeline: queued, sent to a real SMTP server, opened and
clicked through tracking, its A/B test decided, the rest sent the winner."""

from __future__ import annotations

import datetime

import pytest
from django.utils import timezone

from kizuna.engagement import abtest, campaigns, sending, tracking
from kizuna.engagement.choices import HoldReason, MessageStatus
from kizuna.engagement.models import CampaignRecipient, EmailMessage, EngagementSettings
from kizuna.engagement.tests.factories_campaigns import (
    immediate_tasks,  # noqa: F401
    make_campaign,
    segment_with_contacts,
    two_subjects,
)
from kizuna.engagement.tests.factories_sending import template

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("immediate_tasks")]


@pytest.fixture(autouse=True)
def _fast_sending() -> None:
    EngagementSettings.objects.update_or_create(
        pk=1, defaults={"send_rate": 10_000, "cap_messages": 5}
    )


def _subjects_by_address(sink) -> dict[str, str]:
    return {
        str(message["To"]).split("<")[-1].rstrip(">"): str(message["Subject"])
        for message in sink.messages
    }


def test_ab_campaign_sends_the_test_then_the_winner_to_the_rest(
    smtp_sink, django_capture_on_commit_callbacks
):
    segment, _ = segment_with_contacts(20, 5)  # 100 contacts: 40 + 40 in the test, 20 rest
    content = template(
        "W",
        html_ja='<p>{{ contact.name }} 様</p><p><a href="https://example.jp/webinar">申し込む</a></p>',
    )
    campaign = make_campaign(segment, template=content, variants=two_subjects(), test_share=80)

    with django_capture_on_commit_callbacks(execute=True):
        campaigns.start(campaign, None)
    sending.send_due()

    test_messages = EmailMessage.objects.filter(campaign=campaign, variant__isnull=False)
    assert len(smtp_sink.messages) == 80
    assert {str(m["Subject"]) for m in smtp_sink.messages} == {"件名A", "件名B"}
    for message in test_messages.filter(variant__label="B")[:30]:
        tracking.record_open(message.token)
    for message in test_messages.filter(variant__label="B")[:10]:
        tracking.record_click(message.token, 0)
    for message in test_messages.filter(variant__label="A")[:5]:
        tracking.record_open(message.token)

    campaign.refresh_from_db()
    assert campaign.started_at is not None
    with django_capture_on_commit_callbacks(execute=True):
        assert abtest.decide_due(now=campaign.started_at + datetime.timedelta(hours=25)) == [
            campaign.pk
        ]
    sending.send_due()

    campaign.refresh_from_db()
    assert campaign.winner is not None
    assert campaign.winner.label == "B"
    assert campaign.decision["significant"] is True
    rest_addresses = set(
        CampaignRecipient.objects.filter(campaign=campaign, phase="rest").values_list(
            "contact__email", flat=True
        )
    )
    received = _subjects_by_address(smtp_sink)
    assert len(smtp_sink.messages) == 100
    assert {received[address] for address in rest_addresses} == {"件名B"}
    assert campaigns.finish_sent() == [campaign.pk]
    results = campaigns.results(campaign)
    assert (results.delivered, results.opens, results.clicks) == (100, 35, 10)


def test_the_cap_holds_between_two_teams_campaigns(smtp_sink, django_capture_on_commit_callbacks):
    EngagementSettings.objects.update_or_create(pk=1, defaults={"cap_messages": 1, "cap_days": 7})
    segment, contacts = segment_with_contacts(3, 2)
    marketing = make_campaign(
        segment, template=template("M", team="Marketing"), team="Marketing", name="m"
    )
    success = make_campaign(segment, template=template("S", team="CS"), team="CS", name="s")

    with django_capture_on_commit_callbacks(execute=True):
        campaigns.start(marketing, None)
    with django_capture_on_commit_callbacks(execute=True):
        campaigns.start(success, None)
    sending.send_due()

    recipients = smtp_sink.recipients()
    assert sorted(recipients) == sorted(contact.email for contact in contacts)
    held = EmailMessage.objects.filter(campaign=success)
    assert set(held.values_list("status", "reason")) == {
        (MessageStatus.HELD, HoldReason.FREQUENCY_CAP)
    }
    assert campaigns.results(success).held_by_cap == 6


def test_scheduled_campaign_is_sent_by_the_periodic_job(
    smtp_sink, django_capture_on_commit_callbacks
):
    from kizuna.engagement import campaign_jobs

    segment, contacts = segment_with_contacts(2, 1)
    campaign = make_campaign(segment, template=template("T"))
    now = timezone.now()
    campaigns.schedule(campaign, now + datetime.timedelta(seconds=1), now=now)
    campaign.scheduled_at = now - datetime.timedelta(seconds=1)
    campaign.save(update_fields=["scheduled_at"])

    with django_capture_on_commit_callbacks(execute=True):
        campaign_jobs.start_scheduled_campaigns.call()
    sending.send_due()

    assert sorted(smtp_sink.recipients()) == sorted(contact.email for contact in contacts)
    campaign_jobs.finish_campaigns.call()
    campaign.refresh_from_db()
    assert campaign.status == "sent"
