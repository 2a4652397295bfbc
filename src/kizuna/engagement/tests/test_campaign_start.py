import datetime

import pytest
from django.utils import timezone

from kizuna.engagement import campaigns
from kizuna.engagement.choices import MessageStatus
from kizuna.engagement.models import CampaignRecipient, EmailMessage
from kizuna.engagement.tests.factories_campaigns import (
    immediate_tasks,  # noqa: F401
    make_campaign,
    segment_with_contacts,
    two_subjects,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("immediate_tasks")]


def test_without_variants_everyone_is_in_phase_all_and_queued(django_capture_on_commit_callbacks):
    segment, _contacts = segment_with_contacts(3, 2)
    campaign = make_campaign(segment)

    with django_capture_on_commit_callbacks(execute=True):
        campaigns.start(campaign, None)

    campaign.refresh_from_db()
    assert campaign.status == "sending"
    assert campaign.audience_count == 6
    rows = CampaignRecipient.objects.filter(campaign=campaign)
    assert set(rows.values_list("phase", flat=True)) == {"all"}
    assert not rows.filter(message__isnull=True).exists()
    assert (
        EmailMessage.objects.filter(
            campaign=campaign, source_key__startswith=f"campaign:{campaign.pk}:all:"
        ).count()
        == 6
    )


def test_ab_test_assigns_the_test_share_by_weight_and_queues_only_the_test_group(
    django_capture_on_commit_callbacks,
):
    segment, _ = segment_with_contacts(50, 4)  # 200 contacts
    campaign = make_campaign(segment, variants=two_subjects(1, 3), test_share=40)

    with django_capture_on_commit_callbacks(execute=True):
        campaigns.start(campaign, None)

    campaign.refresh_from_db()
    assert campaign.status == "testing"
    rows = CampaignRecipient.objects.filter(campaign=campaign)
    test = rows.filter(phase="test")
    assert test.count() == 80
    assert test.filter(variant__label="A").count() == 20
    assert test.filter(variant__label="B").count() == 60
    assert rows.filter(phase="rest", variant__isnull=True).count() == 120
    assert not test.filter(message__isnull=True).exists()
    assert rows.filter(phase="rest", message__isnull=False).count() == 0
    messages = EmailMessage.objects.filter(campaign=campaign)
    assert messages.filter(variant__label="B", subject_override="件名B").count() == 60


def test_assignment_is_random(django_capture_on_commit_callbacks):
    segment, _ = segment_with_contacts(20, 5)
    first = make_campaign(segment, variants=two_subjects(), test_share=50, name="one")
    second = make_campaign(segment, variants=two_subjects(), test_share=50, name="two")

    campaigns.start(first, None)
    campaigns.start(second, None)

    def in_test(campaign):
        return set(
            CampaignRecipient.objects.filter(campaign=campaign, phase="test").values_list(
                "contact_id", flat=True
            )
        )

    assert in_test(first) != in_test(second)


def test_a_started_campaign_cannot_start_again():
    segment, _ = segment_with_contacts(1, 1)
    campaign = make_campaign(segment)
    campaigns.start(campaign, None)

    with pytest.raises(campaigns.CampaignError):
        campaigns.start(campaign, None)

    assert CampaignRecipient.objects.filter(campaign=campaign).count() == 1


def test_queueing_twice_makes_no_second_email(django_capture_on_commit_callbacks):
    segment, _ = segment_with_contacts(2, 2)
    campaign = make_campaign(segment)
    with django_capture_on_commit_callbacks(execute=True):
        campaigns.start(campaign, None)
    CampaignRecipient.objects.filter(campaign=campaign).update(message=None)

    campaigns.queue_phase(campaign.pk, "all")

    assert EmailMessage.objects.filter(campaign=campaign).count() == 4
    assert not CampaignRecipient.objects.filter(campaign=campaign, message__isnull=True).exists()


def test_scheduled_campaign_starts_when_due(django_capture_on_commit_callbacks):
    segment, _ = segment_with_contacts(2, 1)
    campaign = make_campaign(segment)
    now = timezone.now()
    campaigns.schedule(campaign, now + datetime.timedelta(hours=2), now=now)

    assert campaigns.start_due(now=now + datetime.timedelta(hours=1)) == []
    with django_capture_on_commit_callbacks(execute=True):
        assert campaigns.start_due(now=now + datetime.timedelta(hours=2)) == [campaign.pk]

    campaign.refresh_from_db()
    assert campaign.status == "sending"
    assert EmailMessage.objects.filter(campaign=campaign).count() == 2


def test_scheduling_in_the_past_is_refused():
    segment, _ = segment_with_contacts(1, 1)
    campaign = make_campaign(segment)

    with pytest.raises(campaigns.CampaignError) as caught:
        campaigns.schedule(campaign, timezone.now() - datetime.timedelta(minutes=1))

    assert "scheduled_at" in caught.value.message_dict


def test_cancel_skips_the_emails_still_queued(django_capture_on_commit_callbacks):
    segment, _ = segment_with_contacts(2, 1)
    campaign = make_campaign(segment)
    with django_capture_on_commit_callbacks(execute=True):
        campaigns.start(campaign, None)

    campaigns.cancel(campaign)

    campaign.refresh_from_db()
    assert campaign.status == "cancelled"
    assert set(EmailMessage.objects.filter(campaign=campaign).values_list("status", flat=True)) == {
        MessageStatus.SKIPPED
    }


def test_campaign_is_marked_sent_once_every_email_is_out(django_capture_on_commit_callbacks):
    segment, _ = segment_with_contacts(2, 1)
    campaign = make_campaign(segment)
    with django_capture_on_commit_callbacks(execute=True):
        campaigns.start(campaign, None)
    assert campaigns.finish_sent() == []

    EmailMessage.objects.filter(campaign=campaign).update(status=MessageStatus.SENT)

    assert campaigns.finish_sent() == [campaign.pk]
    campaign.refresh_from_db()
    assert campaign.status == "sent"
