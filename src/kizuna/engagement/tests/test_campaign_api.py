"""The campaigns API handlers (the lead mounts the router under /api/v1/)."""

import pytest
from django.test import RequestFactory

from kizuna.api.rest import ApiError
from kizuna.core.models import Role
from kizuna.core.tests.factories import UserFactory
from kizuna.engagement import campaigns_api
from kizuna.engagement.models import Campaign
from kizuna.engagement.tests.factories import EmailTemplateFactory
from kizuna.engagement.tests.factories_campaigns import (
    immediate_tasks,  # noqa: F401
    segment_with_contacts,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("immediate_tasks")]


def _request(role=Role.CSM):
    request = RequestFactory().post("/")
    request.auth = UserFactory.create(role=role)  # type: ignore[attr-defined]  # as API auth does
    return request


def _payload(segment, template, **extra):
    return campaigns_api.CampaignCreate(
        name="API campaign", template_id=template.pk, segment_id=segment.pk, **extra
    )


def test_create_and_start_a_campaign_and_read_its_results():
    segment, _ = segment_with_contacts(2, 2)
    template = EmailTemplateFactory.create()
    variants = [
        campaigns_api.VariantIn.model_validate({"label": "A", "subject_ja": "件名A"}),
        campaigns_api.VariantIn.model_validate({"label": "B", "subject_ja": "件名B", "weight": 2}),
    ]

    status = campaigns_api.create_campaign(
        _request(), _payload(segment, template, variants=variants)
    )
    campaign = campaigns_api.start_campaign(_request(), status.value.pk)
    out = campaigns_api.CampaignOut.model_validate(campaign).model_dump()

    assert status.status_code == 201
    assert out["status"] == "testing"
    assert [variant["label"] for variant in out["variants"]] == ["A", "B"]
    assert out["progress"]["total"] == 4
    assert out["results"]["delivered"] == 0


def test_invalid_variant_weight_is_a_422_naming_the_variant():
    segment, _ = segment_with_contacts(1, 1)
    template = EmailTemplateFactory.create()
    variants = [
        campaigns_api.VariantIn.model_validate({"label": "A", "subject_ja": "件名A"}),
        campaigns_api.VariantIn.model_validate({"label": "B", "subject_ja": "件名B", "weight": 0}),
    ]

    with pytest.raises(ApiError) as caught:
        campaigns_api.create_campaign(_request(), _payload(segment, template, variants=variants))

    assert caught.value.status == 422
    assert "variants.2.weight" in caught.value.fields
    assert not Campaign.objects.exists()


def test_viewer_key_cannot_create():
    segment, _ = segment_with_contacts(1, 1)

    with pytest.raises(ApiError) as caught:
        campaigns_api.create_campaign(
            _request(Role.VIEWER), _payload(segment, EmailTemplateFactory.create())
        )

    assert caught.value.status == 403


def test_starting_twice_is_a_conflict():
    segment, _ = segment_with_contacts(1, 1)
    status = campaigns_api.create_campaign(
        _request(), _payload(segment, EmailTemplateFactory.create())
    )
    campaigns_api.start_campaign(_request(), status.value.pk)

    with pytest.raises(ApiError) as caught:
        campaigns_api.start_campaign(_request(), status.value.pk)

    assert caught.value.status == 409
