"""The outbox, the cap log and the sending rules pages."""

from __future__ import annotations

import pytest
from django.urls import reverse

from kizuna.customers.tests.factories import ContactFactory
from kizuna.engagement import sending
from kizuna.engagement.models import EngagementSettings
from kizuna.engagement.tests.factories_sending import template

pytestmark = pytest.mark.django_db


def test_outbox_warns_when_no_mail_server_is_configured(csm_client, settings):
    settings.ENGAGEMENT_SMTP = {**settings.ENGAGEMENT_SMTP, "host": ""}

    response = csm_client.get(reverse("engagement:outbox"))

    assert "No mail server is configured" in response.content.decode()


def test_cap_log_filters_by_reason(csm_client):
    EngagementSettings.objects.update_or_create(pk=1, defaults={"cap_messages": 1})
    contact = ContactFactory.create()
    nobody = ContactFactory.create(email="", name="宛先なし")
    sending.queue_emails(template("A"), [contact.pk], source="campaign")
    sending.queue_emails(template("B", team="CS"), [contact.pk, nobody.pk], source="flow")

    everything = csm_client.get(reverse("engagement:cap_log")).content.decode()
    capped = csm_client.get(
        reverse("engagement:cap_log"), {"reason": "frequency_cap"}
    ).content.decode()

    assert "1 per 7 days: already 1 since" in everything
    assert "宛先なし" in everything
    assert "1 per 7 days" in capped
    assert "宛先なし" not in capped


def test_settings_refuse_a_cap_period_over_a_year(admin_client_user):
    client, _user = admin_client_user

    response = client.post(
        reverse("engagement:sending_settings"),
        {
            "cap_messages": 2,
            "cap_days": 400,
            "dedupe_days": 30,
            "send_rate": 100,
            "max_attempts": 8,
        },
    )

    assert response.status_code == 200
    assert "Enter a whole number from 1 to 365." in response.content.decode()
    assert EngagementSettings.get().cap_days == 7


def test_settings_need_configure_rights(csm_client):
    response = csm_client.post(reverse("engagement:sending_settings"), {"cap_messages": 5})

    assert response.status_code == 403
