import pytest

from kizuna.engagement import campaigns
from kizuna.engagement.models import Campaign, CampaignVariant
from kizuna.engagement.tests.factories import CategoryFactory, EmailTemplateFactory
from kizuna.engagement.tests.factories_campaigns import (
    immediate_tasks,  # noqa: F401
    make_campaign,
    segment_with_contacts,
    two_subjects,
)

pytestmark = pytest.mark.django_db


def _refused(segment, **fields):
    with pytest.raises(campaigns.CampaignError) as caught:
        make_campaign(segment, **fields)
    return caught.value.message_dict


def test_campaign_with_two_variants_is_created_as_a_draft():
    segment, _ = segment_with_contacts(1, 1)

    campaign = make_campaign(segment, variants=two_subjects(1, 3))

    assert campaign.status == "draft"
    assert list(
        CampaignVariant.objects.filter(campaign=campaign).values_list("label", "weight")
    ) == [
        ("A", 1),
        ("B", 3),
    ]


def test_one_variant_is_refused():
    segment, _ = segment_with_contacts(1, 1)

    errors = _refused(segment, variants=two_subjects()[:1])

    assert "variants" in errors
    assert not Campaign.objects.exists()


def test_weight_below_one_is_refused_naming_the_variant():
    segment, _ = segment_with_contacts(1, 1)
    variants = two_subjects()
    variants[1] = campaigns.VariantSpec(label="B", weight=0, subject_ja="件名B")

    assert "variants.2.weight" in _refused(segment, variants=variants)


@pytest.mark.parametrize("share", [0, 101])
def test_test_share_outside_1_to_100_is_refused(share):
    segment, _ = segment_with_contacts(1, 1)

    assert "test_share" in _refused(segment, variants=two_subjects(), test_share=share)


def test_variant_template_of_another_category_is_refused():
    segment, _ = segment_with_contacts(1, 1)
    other = EmailTemplateFactory.create(category=CategoryFactory.create())
    variants = [
        campaigns.VariantSpec(label="A"),
        campaigns.VariantSpec(label="B", template=other),
    ]

    assert "variants.2.template" in _refused(segment, variants=variants)


def test_duplicate_labels_are_refused():
    segment, _ = segment_with_contacts(1, 1)
    variants = [
        campaigns.VariantSpec(label="A", subject_ja="x"),
        campaigns.VariantSpec(label="A", subject_ja="y"),
    ]

    assert "variants.2.label" in _refused(segment, variants=variants)


@pytest.mark.usefixtures("immediate_tasks")
def test_a_started_campaign_cannot_be_edited():
    segment, _ = segment_with_contacts(1, 1)
    campaign = make_campaign(segment)
    campaigns.start(campaign, None)
    campaign.refresh_from_db()
    spec = campaigns.CampaignSpec(name="new name", template=campaign.template, segment=segment)

    with pytest.raises(campaigns.CampaignError):
        campaigns.update_campaign(None, campaign, spec)

    campaign.refresh_from_db()
    assert campaign.name != "new name"
