import datetime

import pytest
from django.utils import timezone

from kizuna.engagement import abtest, campaigns
from kizuna.engagement.choices import MessageStatus
from kizuna.engagement.models import CampaignRecipient, EmailMessage
from kizuna.engagement.tests.factories_campaigns import (
    immediate_tasks,  # noqa: F401
    make_campaign,
    segment_with_contacts,
    two_subjects,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("immediate_tasks")]


def _started(django_capture_on_commit_callbacks, *, per_variant=100, **fields):
    # 80% of the audience in the test: `per_variant` contacts per variant exactly.
    segment, _ = segment_with_contacts(per_variant // 2, 5)
    campaign = make_campaign(segment, variants=two_subjects(), test_share=80, **fields)
    with django_capture_on_commit_callbacks(execute=True):
        campaigns.start(campaign, None)
    campaign.refresh_from_db()
    return campaign


def _deliver(campaign, label, *, opened):
    """Mark the test group's emails of a variant sent, `opened` of them opened."""
    rows = EmailMessage.objects.filter(campaign=campaign, variant__label=label)
    rows.update(status=MessageStatus.SENT, sent_at=timezone.now())
    ids = list(rows.order_by("pk").values_list("pk", flat=True)[:opened])
    EmailMessage.objects.filter(pk__in=ids).update(opened_at=timezone.now(), open_count=1)


def _later(campaign, hours=25):
    return campaign.started_at + datetime.timedelta(hours=hours)


def test_significant_winner_is_picked_and_sent_to_the_rest(django_capture_on_commit_callbacks):
    campaign = _started(django_capture_on_commit_callbacks)
    _deliver(campaign, "A", opened=20)
    _deliver(campaign, "B", opened=45)

    with django_capture_on_commit_callbacks(execute=True):
        abtest.decide(campaign, _later(campaign))

    campaign.refresh_from_db()
    assert campaign.winner.label == "B"
    assert campaign.decision["significant"] is True
    assert campaign.decision["reason"] == "significant"
    assert campaign.decision["p"] < 0.05
    assert campaign.status == "sending"
    rest = EmailMessage.objects.filter(source_key__startswith=f"campaign:{campaign.pk}:rest:")
    assert rest.count() == CampaignRecipient.objects.filter(campaign=campaign, phase="rest").count()
    assert set(rest.values_list("variant__label", "subject_override")) == {("B", "件名B")}


def test_decision_keeps_the_figures_per_variant(django_capture_on_commit_callbacks):
    campaign = _started(django_capture_on_commit_callbacks)
    _deliver(campaign, "A", opened=20)
    _deliver(campaign, "B", opened=45)

    abtest.decide(campaign, _later(campaign))

    campaign.refresh_from_db()
    figures = {row["label"]: row for row in campaign.decision["variants"]}
    assert figures["A"]["delivered"] == 100
    assert figures["A"]["opens"] == 20
    assert figures["B"]["rate"] == pytest.approx(0.45)
    assert (
        campaign.decision["ci_low"] < campaign.decision["difference"] < campaign.decision["ci_high"]
    )


def test_inconclusive_test_sends_the_best_variant_by_default(django_capture_on_commit_callbacks):
    campaign = _started(django_capture_on_commit_callbacks)
    _deliver(campaign, "A", opened=20)
    _deliver(campaign, "B", opened=22)

    abtest.decide(campaign, _later(campaign))

    campaign.refresh_from_db()
    assert campaign.decision["significant"] is False
    assert campaign.decision["reason"] == "inconclusive_best"
    assert campaign.winner.label == "B"


def test_inconclusive_test_can_send_the_control(django_capture_on_commit_callbacks):
    campaign = _started(django_capture_on_commit_callbacks, if_inconclusive="control")
    _deliver(campaign, "A", opened=20)
    _deliver(campaign, "B", opened=22)

    abtest.decide(campaign, _later(campaign))

    campaign.refresh_from_db()
    assert campaign.winner.label == "A"
    assert campaign.decision["reason"] == "inconclusive_control"
    assert "not significant" in abtest.reason_text(campaign.decision)


def test_too_few_delivered_is_not_enough_data(django_capture_on_commit_callbacks):
    campaign = _started(django_capture_on_commit_callbacks, per_variant=20)
    _deliver(campaign, "A", opened=1)
    _deliver(campaign, "B", opened=15)

    abtest.decide(campaign, _later(campaign))

    campaign.refresh_from_db()
    assert campaign.decision["enough_data"] is False
    assert campaign.decision["significant"] is False
    assert campaign.decision["reason"] == "not_enough_data_best"


def test_bounced_emails_are_not_delivered(django_capture_on_commit_callbacks):
    campaign = _started(django_capture_on_commit_callbacks)
    _deliver(campaign, "A", opened=20)
    _deliver(campaign, "B", opened=20)
    EmailMessage.objects.filter(
        campaign=campaign, variant__label="A", opened_at__isnull=True
    ).update(status=MessageStatus.BOUNCED)

    abtest.decide(campaign, _later(campaign))

    campaign.refresh_from_db()
    figures = {row["label"]: row for row in campaign.decision["variants"]}
    assert figures["A"]["delivered"] == 20


def test_decide_waits_for_the_test_hours(django_capture_on_commit_callbacks):
    campaign = _started(django_capture_on_commit_callbacks, test_hours=24)

    assert abtest.decide_due(now=_later(campaign, 23)) == []
    assert abtest.decide_due(now=_later(campaign, 24)) == [campaign.pk]


def test_click_rate_criterion_uses_clicks(django_capture_on_commit_callbacks):
    campaign = _started(django_capture_on_commit_callbacks, winner_criterion="click_rate")
    _deliver(campaign, "A", opened=50)
    _deliver(campaign, "B", opened=10)
    ids = list(
        EmailMessage.objects.filter(
            campaign=campaign, variant__label="B", opened_at__isnull=False
        ).values_list("pk", flat=True)
    )
    EmailMessage.objects.filter(pk__in=ids).update(clicked_at=timezone.now())

    abtest.decide(campaign, _later(campaign))

    campaign.refresh_from_db()
    assert campaign.winner.label == "B"


def test_manager_can_pick_the_winner_early(django_capture_on_commit_callbacks):
    campaign = _started(django_capture_on_commit_callbacks)
    variant_a = campaign.variants.get(label="A")

    abtest.decide(campaign, campaign.started_at, force=True, variant=variant_a)

    campaign.refresh_from_db()
    assert campaign.winner == variant_a
    assert campaign.decision["reason"] == "manual"
