"""In-app guidance in a real browser, on the demo customer app: a tour on the second sign-in,
a support popup after (accelerated) dwell time on the settings screen, styles isolated by
the Shadow DOM; and the in-app pages (create a banner, its preview)."""

from __future__ import annotations

import uuid
from urllib.parse import urlencode

import pytest
from django.urls import reverse
from playwright.sync_api import Page, expect

from kizuna.core.models import Role
from kizuna.core.tests.browser import login, new_page, wait_for_database
from kizuna.core.tests.factories import UserFactory
from kizuna.customers.tests.factories import AccountFactory, ContactFactory
from kizuna.engagement.choices import Frequency, InAppKind
from kizuna.engagement.models import InAppEvent, InAppMessage
from kizuna.engagement.tests.factories import InAppMessageFactory
from kizuna.usage import rollups
from kizuna.usage.models import Event

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

DEADLINE_SECONDS = 15


@pytest.fixture
def contact():
    unique = uuid.uuid4().hex[:8]
    account = AccountFactory.create(external_id=f"SF-{unique}")
    return ContactFactory.create(account=account, product_user_id=f"u-{unique}")


def demo_url(live_server, write_key, contact, path: str = "usage:demo_app", **extra: str) -> str:
    query = {
        "writeKey": write_key,
        "userId": contact.product_user_id,
        "groupId": contact.account.external_id,
        "flushInterval": "100",
        **extra,
    }
    return f"{live_server.url}{reverse(path) if ':' in path else path}?{urlencode(query)}"


def wait_until(page: Page, check) -> None:
    wait_for_database(page, check, DEADLINE_SECONDS)


def test_tour_on_the_second_sign_in(browser, live_server, write_key, contact) -> None:
    InAppMessageFactory.create(
        key="signin-tour",
        kind=InAppKind.TOUR,
        event_name="Signed In",
        event_count=2,
        title_ja="使い方",
        steps=[
            {
                "selector": "#create-report",
                "title_ja": "レポート作成",
                "body_ja": "ここから作成します。",
            },
            {"selector": "#missing-element", "title_ja": "ない", "body_ja": "スキップ"},
            {"selector": "#app-nav", "title_ja": "メニュー", "body_ja": "画面を切り替えます。"},
        ],
    )
    url = demo_url(live_server, write_key, contact)
    with new_page(browser, "ja") as page:
        page.goto(url)
        wait_until(
            page,
            lambda: Event.objects.filter(
                user_id=contact.product_user_id, event="Signed In"
            ).exists(),
        )
        page.wait_for_timeout(800)
        expect(page.get_by_role("dialog")).to_have_count(0)
    rollups.rollup_new_events()

    with new_page(browser, "ja") as page:  # a new session: the demo app signs in again
        page.goto(url)
        tip = page.get_by_role("dialog")
        expect(tip).to_contain_text("レポート作成")
        expect(tip).to_contain_text("ステップ 1 / 2")
        tip.get_by_role("button", name="次へ").click()
        expect(tip).to_contain_text("メニュー")
        tip.get_by_role("button", name="完了").click()
        expect(tip).to_have_count(0)
        wait_until(
            page,
            lambda: InAppEvent.objects.filter(
                kind="completed", message__key="signin-tour"
            ).exists(),
        )
    assert InAppEvent.objects.get(kind="completed", message__key="signin-tour").step == 2


def test_support_popup_after_dwell_on_settings_only(
    browser, live_server, write_key, contact
) -> None:
    InAppMessageFactory.create(
        key="support",
        kind=InAppKind.POPUP,
        url_pattern="/demo-app/settings*",
        dwell_seconds=30,
        frequency=Frequency.UNTIL_DISMISSED,
        title_ja="お困りですか？",
        body_ja="サポートにご相談ください。",
    )
    with new_page(browser, "ja") as page:
        page.goto(demo_url(live_server, write_key, contact, guidanceTimeScale="20"))
        page.wait_for_timeout(2500)  # 50 s of accelerated page time
        expect(page.get_by_role("dialog")).to_have_count(0)

        page.get_by_role("link", name="設定").click()
        popup = page.get_by_role("dialog", name="お困りですか？")
        expect(popup).to_have_count(0)
        expect(popup).to_be_visible(timeout=8000)
        expect(popup).to_contain_text("サポートにご相談ください。")
        popup.get_by_role("button", name="閉じる").click()
        wait_until(page, lambda: InAppEvent.objects.filter(kind="dismissed").exists())


@pytest.mark.parametrize(
    "rule",
    [
        "div { display: none !important }",
        "* { color: rgb(255, 0, 0) !important; font-size: 40px !important }",
    ],
)
def test_shadow_dom_isolates_styles(browser, live_server, write_key, contact, rule) -> None:
    InAppMessageFactory.create(
        key="news", kind=InAppKind.BANNER, title_ja="お知らせ", body_ja="新機能です。"
    )
    with new_page(browser, "ja") as page:
        page.add_init_script(
            "document.addEventListener('DOMContentLoaded', () => {"
            " const s = document.createElement('style');"
            f" s.textContent = {rule!r}; document.head.append(s); }});"
        )
        page.goto(demo_url(live_server, write_key, contact))
        banner = page.get_by_role("region", name="お知らせ")
        expect(banner).to_be_visible()
        body = banner.locator("p")
        assert body.evaluate("e => getComputedStyle(e).color") != "rgb(255, 0, 0)"
        assert body.evaluate("e => getComputedStyle(e).fontSize") != "40px"


@pytest.mark.parametrize("language", ["ja", "en"])
def test_create_a_banner_and_preview_it(browser, live_server, language) -> None:
    user = UserFactory.create(role=Role.MANAGER)
    with new_page(browser, language) as page:
        login(page, live_server.url, user.username)
        page.goto(f"{live_server.url}{reverse('engagement:inapp_new')}")
        page.locator("#id_name").fill("ようこそ")
        page.locator("#id_key").fill("welcome")
        page.locator("#id_kind").select_option("banner")
        page.locator("#id_title_ja").fill("ようこそ空色レポートへ")
        page.locator("#id_body_ja").fill("まずはレポートを作成しましょう。")
        page.locator("#id_title_en").fill("Welcome to Sorairo Reports")
        page.locator("#id_body_en").fill("Start by creating a report.")
        page.locator("#save-inapp").click()
        expected = "Welcome to Sorairo Reports" if language == "en" else "ようこそ空色レポートへ"
        expect(page.locator("#inapp-preview")).to_contain_text(expected)
    assert InAppMessage.objects.filter(key="welcome").exists()
