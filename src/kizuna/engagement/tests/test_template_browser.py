"""A CSM writes an email template in a real browser: an unknown variable is refused at its
line and column with the typed text kept, fixed with the variable palette, then previewed
with a real contact.

Runs Debian's Chromium through Playwright against pytest-django's live server.
"""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from kizuna.core.models import Role
from kizuna.core.tests.browser import login
from kizuna.core.tests.factories import UserFactory
from kizuna.customers.tests.factories import AccountFactory, ContactFactory
from kizuna.engagement.tests.factories import CategoryFactory, SenderFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.mark.parametrize("language", ["en", "ja"])
def test_csm_writes_and_previews_a_template(page: Page, live_server, language: str) -> None:
    UserFactory.create(role=Role.CSM, username="misaki")
    category = CategoryFactory.create(key="browser-news", name_ja="ニュース", name_en="News")
    SenderFactory.create(is_default=True, organisation="株式会社空色")
    account = AccountFactory.create(name="みどり商事")
    ContactFactory.create(account=account, name="佐藤 美咲", email="misaki@midori.example.jp")

    login(page, live_server.url, "misaki")
    page.goto(f"{live_server.url}/tech-touch/templates/")
    page.locator("#new-template").click()

    page.locator("#id_key").fill("renewal-notice")
    page.locator("#id_name").fill("更新のご案内")
    page.locator("#id_category").select_option(str(category.pk))
    page.locator("#id_subject_ja").fill("{{ account.name }} 様 更新のご案内")
    page.locator("#id_html_ja").fill("<p>いつもありがとうございます。</p>\n<p>様</p>")
    typed = "こんにちは\n{{ contact.nme }} 様"
    page.locator("#id_text_ja").fill(typed)
    page.locator("#save-template").click()

    # Refused at its place, with what was typed kept.
    error = page.locator(".field:has(#id_text_ja) .errors")
    expect(error).to_contain_text("2")
    expect(error).to_contain_text("contact.nme")
    expect(page.locator("#id_text_ja")).to_have_value(typed)

    # Fixed; the palette inserts a variable where the cursor is.
    page.locator("#id_text_ja").fill("こんにちは\n{{ contact.name }} 様")
    html = page.locator("#id_html_ja")
    html.click()
    html.press("Control+End")
    for _ in range(len("</p>") + 1):
        html.press("ArrowLeft")
    page.locator('#variable-palette button[data-variable="contact.name"]').click()
    expect(html).to_have_value("<p>いつもありがとうございます。</p>\n<p>{{ contact.name }}様</p>")
    page.locator("#save-template").click()
    expect(page.locator("h1")).to_contain_text("更新のご案内")

    # Preview with the contact, found by name.
    page.locator("#contact-search").fill("佐藤")
    expect(page.locator("#preview-contact option")).to_have_count(1)
    page.locator("#preview-button").click()
    expect(page.locator("#preview-subject")).to_have_text("みどり商事 様 更新のご案内")
    body = page.frame_locator("#preview-html").locator("body")
    expect(body).to_contain_text("佐藤 美咲様")
    expect(body).to_contain_text("株式会社空色")
