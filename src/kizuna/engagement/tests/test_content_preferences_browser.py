"""A manager reads, in a real browser and in both languages, which content type each tier
clicks, and changes the window."""

from __future__ import annotations

import pytest
from django.urls import reverse
from playwright.sync_api import Page, expect

from kizuna.core.models import Role
from kizuna.core.tests.browser import login
from kizuna.core.tests.browser import translated as _t
from kizuna.core.tests.factories import UserFactory
from kizuna.customers.tests.factories import AccountFactory, ContactFactory
from kizuna.engagement.tests.factories import EmailTemplateFactory, sent_email

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.mark.parametrize("language", ["ja", "en"])
def test_the_manager_sees_what_each_tier_prefers(page: Page, live_server, language) -> None:
    UserFactory.create(role=Role.MANAGER, username="keiko")
    video = EmailTemplateFactory.create(content_type="video")
    webinar = EmailTemplateFactory.create(content_type="webinar")
    for n in range(20):
        contact = ContactFactory.create(account=AccountFactory.create(tier="tech"))
        sent_email(contact, template=video, clicked=n < 8, days_ago=40)
        sent_email(contact, template=webinar, clicked=n < 2, days_ago=40)

    login(page, live_server.url, "keiko")
    page.goto(live_server.url + reverse("engagement:content_preferences"))
    table = page.locator("#email-preferences")
    tech = table.locator("tr[data-row='tier:tech']")
    expect(tech.locator("td[data-type='video']")).to_contain_text("40.0%")
    expect(tech.locator(".preferred")).to_contain_text(_t(language, "Video"))

    page.locator("#days").select_option("30")  # the sends were 40 days ago
    expect(page.locator("#email-preferences tr[data-row='tier:tech']")).to_have_count(0)
    expect(page.locator("#email-preferences")).to_contain_text(
        _t(language, "No email was delivered in this window.")
    )
