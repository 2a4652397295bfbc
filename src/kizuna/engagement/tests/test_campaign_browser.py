"""A CSM creates a campaign with two subject variants in a real browser, sends it, and
watches the progress and the results (in English and Japanese).

Runs Debian's Chromium through Playwright against pytest-django's live server, with a real
SMTP server receiving the emails."""

from __future__ import annotations

import pytest
from django.urls import reverse
from playwright.sync_api import Page, expect

from kizuna.core.models import Role
from kizuna.core.tests.browser import login
from kizuna.core.tests.browser import translated as _t
from kizuna.core.tests.factories import UserFactory
from kizuna.engagement.models import EngagementSettings
from kizuna.engagement.tests.factories_campaigns import (
    immediate_tasks,  # noqa: F401
    segment_with_contacts,
)
from kizuna.engagement.tests.factories_sending import template

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("immediate_tasks"),
]


@pytest.mark.parametrize("language", ["en", "ja"])
def test_csm_creates_and_sends_an_ab_campaign(
    page: Page, live_server, smtp_sink, language: str
) -> None:
    EngagementSettings.objects.update_or_create(pk=1, defaults={"send_rate": 10_000})
    UserFactory.create(role=Role.CSM, username="misaki")
    segment, _contacts = segment_with_contacts(4, 2, name="オンボーディング中")
    content = template("Z")

    login(page, live_server.url, "misaki")
    page.goto(live_server.url + reverse("engagement:campaigns"))
    page.locator("#new-campaign").click()

    page.locator("#id_name").fill("6月ウェビナー")
    # Choose the segment once HTMX has taken the field in hand (it counts the audience).
    page.wait_for_function("() => !!document.querySelector('#id_segment')['htmx-internal-data']")
    page.locator("#id_template").select_option(str(content.pk))
    page.locator("#id_segment").select_option(str(segment.pk))
    expect(page.locator("#audience-contacts")).to_have_text("8")
    page.locator("#id_test_share").fill("100")
    page.locator("#id_variants-0-label").fill("A")
    page.locator("#id_variants-0-subject_ja").fill("ウェビナーのご案内")
    page.locator("#id_variants-1-label").fill("B")
    page.locator("#id_variants-1-subject_ja").fill("【参加無料】ウェビナーのご案内")
    page.locator("#save-campaign").click()

    expect(page.locator("h1")).to_have_text("6月ウェビナー")
    expect(page.locator("#audience-reachable")).to_have_text("8")
    expect(page.locator("#variant-A")).to_be_visible()
    expect(page.locator("#variant-B")).to_be_visible()

    page.locator("#send-campaign").click()
    expect(page.locator("#campaign-progress")).to_be_visible()
    expect(page.locator("#progress-sent")).to_have_text("8")
    expect(page.locator("#progress-percent")).to_have_text("100%")
    expect(page.locator("#results-delivered")).to_have_text("8")
    expect(page.locator("#ab-table")).to_contain_text(_t(language, "Open rate"))
    assert len(smtp_sink.messages) == 8
    assert {str(message["Subject"]) for message in smtp_sink.messages} <= {
        "ウェビナーのご案内",
        "【参加無料】ウェビナーのご案内",
    }
