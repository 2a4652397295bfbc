"""A CSM imports an Excel file in a real browser: upload, check the suggested columns, run
the dry run, apply, and find the accounts.

Runs Debian's Chromium through Playwright against pytest-django's live server.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.urls import reverse
from playwright.sync_api import Browser, Page, expect

from kizuna.core.models import Role
from kizuna.core.tests.browser import login, new_page
from kizuna.core.tests.factories import UserFactory
from kizuna.customers.models import Account
from kizuna.integrations.models import ColumnMapping
from kizuna.integrations.tests.files import xlsx_bytes

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    with new_page(browser, "ja") as page:
        yield page


def test_csm_imports_an_excel_file_after_a_dry_run(page: Page, live_server) -> None:
    UserFactory.create(role=Role.CSM, username="hanako", display_name="佐藤 花子")
    content = xlsx_bytes(
        [
            ["取引先ID", "会社名", "フリガナ", "担当CSM", "備考"],
            ["SF-001", "株式会社サクラ物流", "サクラブツリュウ", "佐藤 花子", "重要顧客"],
            ["SF-002", "ミドリ精機株式会社", "ミドリセイキ", "hanako", ""],
        ],
        title="取引先",
    )
    login(page, live_server.url, "hanako")
    page.locator(f"nav.sidebar a[href='{reverse('integrations:imports')}']").click()
    expect(page).to_have_url(live_server.url + reverse("integrations:imports"))

    form = page.locator("#upload-form")
    form.locator("#id_object_type").select_option("accounts")
    form.locator("#id_file").set_input_files(
        {"name": "取引先一覧.xlsx", "mimeType": XLSX, "buffer": content}
    )
    form.locator("button[type=submit]").click()

    expect(page.locator("h1")).to_have_text("取引先一覧.xlsx")
    mapping = page.locator("#mapping-form")
    expect(mapping.locator("select[name=column_0]")).to_have_value("external_id")
    expect(mapping.locator("select[name=column_1]")).to_have_value("name")
    expect(mapping.locator("select[name=column_2]")).to_have_value("name_kana")
    expect(mapping.locator("select[name=column_3]")).to_have_value("owner")
    expect(mapping.locator("select[name=column_4]")).to_have_value("")
    mapping.locator("#id_save_as").fill("CRMの取引先")
    mapping.locator("#dry-run-button").click()

    expect(page.locator("#count-created")).to_have_text("2")
    expect(page.locator("#count-errors")).to_have_text("0")
    expect(page.locator("#change-table")).to_contain_text("株式会社サクラ物流")
    assert not Account.objects.exists()
    page.locator("#apply-button").click()

    expect(page.locator("#result")).to_contain_text("佐藤 花子")  # applied by
    expect(page.locator("#count-created")).to_have_text("2")
    assert set(Account.objects.values_list("name", flat=True)) == {
        "株式会社サクラ物流",
        "ミドリ精機株式会社",
    }
    assert ColumnMapping.objects.get().name == "CRMの取引先"

    page.goto(live_server.url + reverse("customers:accounts") + "?q=さくら")
    expect(page.locator("#account-results tbody tr")).to_have_count(1)
    expect(page.locator("#account-results")).to_contain_text("佐藤 花子")


def test_problems_are_listed_and_nothing_can_be_applied(page: Page, live_server) -> None:
    UserFactory.create(role=Role.CSM, username="hanako")
    content = xlsx_bytes([["取引先ID", "会社名"], ["SF-001", "株式会社サクラ物流"], ["SF-001", ""]])
    login(page, live_server.url, "hanako")
    page.goto(live_server.url + reverse("integrations:imports"))
    page.locator("#id_file").set_input_files(
        {"name": "bad.xlsx", "mimeType": XLSX, "buffer": content}
    )
    page.locator("#upload-form button[type=submit]").click()
    page.locator("#dry-run-button").click()

    # Both rows repeat an external id; the second also lacks a name.
    expect(page.locator("#count-errors")).to_have_text("2")
    expect(page.locator("#error-table tbody tr")).to_have_count(3)
    expect(page.locator("#errors-download")).to_be_visible()
    expect(page.locator("#apply-button")).to_have_count(0)
