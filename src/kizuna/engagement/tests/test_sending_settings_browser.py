"""In a real browser, in Japanese and English: an admin changes the sending rules (a wrong
value is refused and named), and the cap log shows the new rule and what it held back."""

from __future__ import annotations

import pytest
from django.urls import reverse
from playwright.sync_api import Page, expect

from kizuna.core.models import Role
from kizuna.core.tests.browser import login, translated
from kizuna.core.tests.factories import UserFactory
from kizuna.customers.tests.factories import ContactFactory
from kizuna.engagement import sending
from kizuna.engagement.tests.factories_sending import template

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.mark.parametrize("language", ["ja", "en"])
def test_admin_changes_the_rules_and_reads_the_cap_log(page: Page, live_server, language):
    UserFactory.create(role=Role.ADMIN, username="kanri")
    contact = ContactFactory.create()
    login(page, live_server.url, "kanri")

    page.goto(live_server.url + reverse("engagement:sending_settings"))
    page.locator("#id_cap_messages").fill("1")
    page.locator("#id_cap_days").fill("400")
    page.locator("#sending-settings button[type=submit]").click()
    expect(page.locator("#sending-settings")).to_contain_text(
        translated(language, "Enter a whole number from %(low)d to %(high)d.")
        % {"low": 1, "high": 365}
    )
    page.locator("#id_cap_days").fill("3")
    page.locator("#sending-settings button[type=submit]").click()
    expect(page.locator("#id_cap_days")).to_have_value("3")

    sending.queue_emails(template("A", team="Marketing"), [contact.pk], source="campaign")
    sending.queue_emails(template("B", team="CS"), [contact.pk], source="flow")
    page.goto(live_server.url + reverse("engagement:cap_log"))
    expect(page.locator("#cap-log .reason-detail")).to_contain_text("テンプレートA")
    page.locator("#cap-reason").select_option("no_email")
    expect(page.locator("#cap-log-empty")).to_be_visible()
