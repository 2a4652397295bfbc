"""A recipient opens the preference centre from an email's link in a real browser, in
their language, unticks a category and saves it."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from kizuna.core.tests.browser import translated as _t
from kizuna.customers.tests.factories import ContactFactory
from kizuna.engagement.models import Preference
from kizuna.engagement.tests.factories import CategoryFactory, EmailTemplateFactory, sent_email
from kizuna.engagement.tracking_links import unsubscribe_url

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.mark.parametrize("language", ["en", "ja"])
def test_recipient_unsubscribes_from_a_category(
    page: Page, live_server, settings, language: str
) -> None:
    settings.ENGAGEMENT_PUBLIC_URL = live_server.url
    webinars = CategoryFactory.create(
        key="webinars", name_ja="ウェビナーのご案内", name_en="Webinar invitations"
    )
    contact = ContactFactory.create(language=language, email="misaki@example.jp")
    message = sent_email(contact, template=EmailTemplateFactory.create(category=webinars))

    page.goto(unsubscribe_url(message.token))
    expect(page.locator("html")).to_have_attribute("lang", language)
    expect(page.locator("#sender")).to_contain_text(message.sender.organisation)
    box = page.locator("#category-webinars")
    label = "Webinar invitations" if language == "en" else "ウェビナーのご案内"
    expect(page.locator("label[for=category-webinars]")).to_have_text(label)
    expect(box).to_be_checked()
    box.uncheck()
    page.locator("#save-preferences").click()

    expect(page.locator("#confirmation")).to_have_text(_t(language, "Your preferences are saved."))
    expect(page.locator("#category-webinars")).not_to_be_checked()
    assert Preference.objects.get(contact=contact, category=webinars).subscribed is False
