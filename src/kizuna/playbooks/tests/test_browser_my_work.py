"""A CSM works a CTA in a real browser: My work → the CTA → tick a checklist step → log a
touchpoint with a rating → close the CTA with an outcome."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page, expect

from kizuna.core.models import Role
from kizuna.core.tests.browser import login, new_page
from kizuna.core.tests.browser import translated as _t
from kizuna.core.tests.factories import UserFactory
from kizuna.customers.models import Touchpoint
from kizuna.customers.tests.factories import AccountFactory
from kizuna.playbooks import services
from kizuna.playbooks.models import Cta
from kizuna.playbooks.tests.factories import PlaybookFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def page(browser: Browser, language: str) -> Iterator[Page]:
    with new_page(browser, language) as page:
        yield page


@pytest.mark.parametrize("language", ["en", "ja"])
def test_csm_works_a_cta_from_my_work(page: Page, live_server, language: str) -> None:
    csm = UserFactory.create(role=Role.CSM, username="misaki")
    PlaybookFactory.create(key="risk-play")
    account = AccountFactory.create(owner=csm, name="株式会社さくら商事")
    cta, _ = services.open_cta(
        account_id=account.pk, type="risk", reason="14日間ログインなし", playbook_key="risk-play"
    )

    login(page, live_server.url, "misaki")
    page.get_by_role("navigation").get_by_role("link", name=_t(language, "My work")).click()
    expect(page.locator("#work-list")).to_contain_text("株式会社さくら商事")
    page.locator("#work-list").get_by_role("link", name="14日間ログインなし", exact=True).click()
    expect(page.locator("#cta-reason")).to_have_text("14日間ログインなし")

    first_step = page.get_by_role("checkbox", name="Call the champion")
    expect(first_step).to_have_attribute("aria-checked", "false")
    first_step.click()
    expect(page.get_by_role("checkbox", name="Call the champion")).to_have_attribute(
        "aria-checked", "true"
    )

    form = page.locator("#touchpoint-form")
    form.locator("select[name=kind]").select_option("call")
    form.locator("input[name=subject]").fill("担当者に電話")
    form.get_by_label(_t(language, "Good"), exact=True).check()
    form.get_by_role("button", name=_t(language, "Log touchpoint")).click()
    expect(page.locator("#recent-touchpoints")).to_contain_text("担当者に電話")
    expect(page.locator("#touchpoint-logged")).to_be_visible()

    close = page.locator("#close-form")
    close.locator("select[name=outcome]").select_option("resolved")
    close.get_by_role("button", name=_t(language, "Close CTA")).click()
    expect(page.locator("#cta-status")).to_have_text(_t(language, "Done"))
    expect(page.locator("#cta-outcome")).to_have_text(_t(language, "Resolved"))

    cta.refresh_from_db()
    assert (cta.status, cta.outcome) == ("done", "resolved")
    assert cta.tasks.filter(done_at__isnull=False).count() == 1
    touchpoint = Touchpoint.objects.get(account=account)
    assert (touchpoint.rating, touchpoint.author_id) == ("good", csm.pk)
    assert Cta.objects.filter(status="open").count() == 0
