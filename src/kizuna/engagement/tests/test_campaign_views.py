import pytest
from django.urls import reverse

from kizuna.engagement.choices import MessageStatus
from kizuna.engagement.models import Campaign, EmailMessage
from kizuna.engagement.tests.factories import EmailTemplateFactory
from kizuna.engagement.tests.factories_campaigns import (
    immediate_tasks,  # noqa: F401
    make_campaign,
    segment_with_contacts,
    two_subjects,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("immediate_tasks")]


def _form(template, segment, **extra):
    data = {
        "name": "Webinar",
        "template": template.pk,
        "segment": segment.pk,
        "sender": "",
        "team": "CS",
        "delivery": "manual",
        "send_at": "",
        "test_share": 20,
        "winner_criterion": "open_rate",
        "test_hours": 24,
        "if_inconclusive": "best",
        "variants-TOTAL_FORMS": 3,
        "variants-INITIAL_FORMS": 0,
        "variants-MIN_NUM_FORMS": 0,
        "variants-MAX_NUM_FORMS": 10,
    }
    for index in range(3):
        for field in ("label", "weight", "subject_ja", "subject_en", "template"):
            data[f"variants-{index}-{field}"] = ""
    data.update(extra)
    return data


def test_csm_creates_a_campaign_with_two_subject_variants(csm_client):
    segment, _ = segment_with_contacts(2, 2)
    template = EmailTemplateFactory.create()
    data = _form(
        template,
        segment,
        **{
            "variants-0-label": "A",
            "variants-0-weight": "1",
            "variants-0-subject_ja": "件名A",
            "variants-1-label": "B",
            "variants-1-weight": "2",
            "variants-1-subject_ja": "件名B",
        },
    )

    response = csm_client.post(reverse("engagement:campaign_new"), data)

    campaign = Campaign.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("engagement:campaign", args=[campaign.pk])
    assert list(campaign.variants.values_list("label", "weight")) == [("A", 1), ("B", 2)]


def test_one_variant_shows_the_error_and_saves_nothing(csm_client):
    segment, _ = segment_with_contacts(1, 1)
    template = EmailTemplateFactory.create()
    data = _form(template, segment, **{"variants-0-label": "A", "variants-0-subject_ja": "件名A"})

    response = csm_client.post(reverse("engagement:campaign_new"), data)

    assert response.status_code == 400
    assert "at least two variants" in response.content.decode()
    assert not Campaign.objects.exists()


def test_zero_weight_is_shown_at_the_variant(csm_client):
    segment, _ = segment_with_contacts(1, 1)
    template = EmailTemplateFactory.create()
    data = _form(
        template,
        segment,
        **{
            "variants-0-label": "A",
            "variants-0-weight": "1",
            "variants-0-subject_ja": "件名A",
            "variants-1-label": "B",
            "variants-1-weight": "0",
            "variants-1-subject_ja": "件名B",
        },
    )

    response = csm_client.post(reverse("engagement:campaign_new"), data)

    assert response.status_code == 400
    assert "weight of variant 2 must be 1 or more" in response.content.decode()


def test_audience_partial_counts_the_chosen_segment(client, csm_client):
    segment, _ = segment_with_contacts(2, 3)

    response = csm_client.get(reverse("engagement:campaign_audience"), {"segment": segment.pk})

    assert response.status_code == 200
    assert 'id="audience-contacts">6<' in response.content.decode()


def test_viewer_cannot_create_or_start(viewer_client):
    segment, _ = segment_with_contacts(1, 1)
    campaign = make_campaign(segment)

    assert viewer_client.get(reverse("engagement:campaign_new")).status_code == 403
    assert (
        viewer_client.post(reverse("engagement:campaign_start", args=[campaign.pk])).status_code
        == 403
    )
    campaign.refresh_from_db()
    assert campaign.status == "draft"


def test_start_needs_post(csm_client):
    segment, _ = segment_with_contacts(1, 1)
    campaign = make_campaign(segment)

    assert (
        csm_client.get(reverse("engagement:campaign_start", args=[campaign.pk])).status_code == 405
    )


def test_csm_sends_a_campaign_from_its_page(csm_client, django_capture_on_commit_callbacks):
    segment, _ = segment_with_contacts(2, 2)
    campaign = make_campaign(segment)

    with django_capture_on_commit_callbacks(execute=True):
        response = csm_client.post(reverse("engagement:campaign_start", args=[campaign.pk]))

    assert response.status_code == 302
    assert EmailMessage.objects.filter(campaign=campaign).count() == 4


def test_csm_cannot_pick_a_winner_but_a_manager_can(csm_client, manager_client):
    segment, _ = segment_with_contacts(5, 2)
    campaign = make_campaign(segment, variants=two_subjects(), test_share=50)
    from kizuna.engagement import campaigns

    campaigns.start(campaign, None)
    url = reverse("engagement:campaign_pick_winner", args=[campaign.pk])

    assert csm_client.post(url).status_code == 403
    assert manager_client.post(url).status_code == 302
    campaign.refresh_from_db()
    assert campaign.winner is not None


def test_list_page_query_count_does_not_grow_with_campaigns(
    csm_client, django_assert_max_num_queries
):
    segment, _ = segment_with_contacts(2, 2)
    for number in range(6):
        make_campaign(segment, name=f"campaign {number}")

    with django_assert_max_num_queries(12):
        response = csm_client.get(reverse("engagement:campaigns"))

    assert response.status_code == 200
    assert "campaign 5" in response.content.decode()


def test_detail_page_shows_progress_results_and_the_ab_decision(
    csm_client, django_assert_max_num_queries, django_capture_on_commit_callbacks
):
    from kizuna.engagement import abtest, campaigns

    segment, _ = segment_with_contacts(10, 4)
    campaign = make_campaign(segment, variants=two_subjects(), test_share=50)
    with django_capture_on_commit_callbacks(execute=True):
        campaigns.start(campaign, None)
    EmailMessage.objects.filter(campaign=campaign).update(status=MessageStatus.SENT)
    abtest.decide(campaign, force=True)

    with django_assert_max_num_queries(20):
        response = csm_client.get(reverse("engagement:campaign", args=[campaign.pk]))

    body = response.content.decode()
    assert response.status_code == 200
    assert 'id="campaign-progress"' in body
    assert 'id="ab-decision"' in body
    assert "Not significant at 95%" in body
    assert "Results by segment" in body


def test_progress_partial_polls_while_sending(csm_client, django_capture_on_commit_callbacks):
    from kizuna.engagement import campaigns

    segment, _ = segment_with_contacts(1, 2)
    campaign = make_campaign(segment)
    with django_capture_on_commit_callbacks(execute=True):
        campaigns.start(campaign, None)

    response = csm_client.get(reverse("engagement:campaign_progress", args=[campaign.pk]))

    assert 'hx-trigger="every 2s"' in response.content.decode()
