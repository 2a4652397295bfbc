"""kizuna.js in a real browser: the demo customer app's end user clicks through it and the
events arrive in Kizuna, attributed to the contact and the account; failures are retried
without duplicates; unsent events survive a reload; leaving the page sends its dwell time by
beacon; a customer page on another origin pastes the documented snippet.

Time on page is accelerated with Playwright's fake clock rather than waited for.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlencode

import pytest
from django.urls import reverse
from playwright.sync_api import Browser, Page, Route

from kizuna.core.tests.browser import LIVE_SERVER_LOCK, new_page
from kizuna.customers.tests.factories import AccountFactory, ContactFactory
from kizuna.usage import services
from kizuna.usage.models import Event

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# How long the tests wait for events to reach the database.
DEADLINE_SECONDS = 15
# Test-speed tracker options, passed through the demo app's query string.
FAST = {"flushInterval": "100", "retryDelay": "50"}


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    with new_page(browser, "ja") as page:
        yield page
        # Closing the page would send its last beacon into the next test's database.
        page.context.set_offline(True)


@pytest.fixture
def write_key(db) -> str:
    return services.create_source(None, "Demo app").write_key


@pytest.fixture
def contact(db):
    # Fresh ids in every test: Kizuna's ingestion caches who a user id is for a while.
    unique = uuid.uuid4().hex[:8]
    account = AccountFactory.create(name="株式会社サクラ物流", external_id=f"SF-{unique}")
    return ContactFactory.create(account=account, name="伊藤 大輔", product_user_id=f"u-{unique}")


def demo_url(live_server, write_key: str, contact, **extra: str) -> str:
    query = {
        "writeKey": write_key,
        "userId": contact.product_user_id,
        "groupId": contact.account.external_id,
        **FAST,
        **extra,
    }
    return f"{live_server.url}{reverse('usage:demo_app')}?{urlencode(query)}"


def wait_for_events(
    page: Page, contact, until: Callable[[list[Event]], bool], **filters: Any
) -> list[Event]:
    """Poll the database until the contact's events matching `filters` satisfy `until`.
    Waiting through the page lets Playwright run its route and request handlers meanwhile."""
    deadline = time.monotonic() + DEADLINE_SECONDS
    while True:
        # Between the live server's requests: on SQLite it shares the test's connection.
        with LIVE_SERVER_LOCK:
            events = list(
                Event.objects.filter(user_id=contact.product_user_id, **filters).order_by(
                    "timestamp", "id"
                )
            )
        if until(events):
            return events
        if time.monotonic() > deadline:
            summary = [(e.type, e.event, e.context.get("page", {}).get("path")) for e in events]
            raise AssertionError(f"Events did not arrive in time; stored so far: {summary}")
        page.wait_for_timeout(50)


def tracker_ready(page: Page) -> None:
    page.wait_for_function("window.kizuna && window.kizuna.VERSION && kizuna.anonymousId()")


def go_to_background(page: Page) -> None:
    """The end user switches to another tab: the page becomes hidden."""
    page.evaluate(
        """() => {
          Object.defineProperty(
            document, "visibilityState", {configurable: true, get: () => "hidden"}
          );
          document.dispatchEvent(new Event("visibilitychange"));
        }"""
    )


def test_demo_app_activity_arrives_attributed_to_contact_and_account(
    page: Page, live_server, write_key: str, contact
) -> None:
    page.clock.install()
    page.goto(demo_url(live_server, write_key, contact))
    tracker_ready(page)

    page.locator("[data-track='Report Created']").click()
    page.clock.fast_forward(8_000)  # eight seconds on the dashboard
    page.locator("[data-screen-link=reports]").click()  # pushState, no reload
    page.wait_for_url("**/demo-app/reports/**")
    page.locator("[data-track='Report Exported']").first.click()
    page.clock.fast_forward(5_000)
    page.go_back()  # popstate, back to the dashboard
    page.wait_for_function("!document.querySelector('[data-screen=\"\"]').hidden")
    page.clock.fast_forward(3_000)
    go_to_background(page)

    events = wait_for_events(page, contact, lambda events: len(events) >= 11)
    summary = [(e.type, e.event, e.context["page"]["path"]) for e in events]
    assert sorted(summary) == sorted(
        [
            ("identify", "", "/demo-app/"),
            ("group", "", "/demo-app/"),
            ("track", "Signed In", "/demo-app/"),
            ("page", "", "/demo-app/"),
            ("track", "Report Created", "/demo-app/"),
            ("track", "Page Dwell", "/demo-app/"),
            ("page", "", "/demo-app/reports/"),
            ("track", "Report Exported", "/demo-app/reports/"),
            ("track", "Page Dwell", "/demo-app/reports/"),
            ("page", "", "/demo-app/"),
            ("track", "Page Dwell", "/demo-app/"),
        ]
    ), summary
    assert {(e.contact_id, e.account_id) for e in events if e.type in ("track", "page")} == {
        (contact.pk, contact.account_id)
    }
    dwell = [
        (e.context["page"]["path"], e.properties["seconds"])
        for e in sorted(events, key=lambda e: e.timestamp)
        if e.event == "Page Dwell"
    ]
    assert [path for path, _seconds in dwell] == ["/demo-app/", "/demo-app/reports/", "/demo-app/"]
    assert [int(seconds) for _path, seconds in dwell] == [8, 5, 3]
    back = [e for e in events if e.type == "page"][-1]
    assert back.properties["referrer"].startswith(f"{live_server.url}/demo-app/reports/")
    exported = next(e for e in events if e.event == "Report Exported")
    assert exported.properties == {"format": "csv", "report": "weekly_sales"}
    assert exported.context["library"]["name"] == "kizuna.js"
    assert exported.context["groupId"] == contact.account.external_id


def test_refused_write_key_is_not_retried(page: Page, live_server, contact) -> None:
    requests: list[str] = []
    page.on("request", lambda request: requests.append(request.url))
    page.goto(demo_url(live_server, "kzw_not_a_key", contact))
    tracker_ready(page)

    log = page.locator("#log-lines li").filter(has_text="401")
    log.wait_for()
    page.locator("[data-track='Report Created']").click()
    page.wait_for_function("JSON.stringify(localStorage).includes('Report Created')")
    page.wait_for_function("!JSON.stringify(localStorage).includes('Report Created')")

    # One refused request per batch: nothing is kept to retry, nothing is stored.
    assert requests.count(f"{live_server.url}/v1/batch") == 2
    assert not Event.objects.filter(user_id=contact.product_user_id).exists()


def test_failed_send_is_retried_and_stored_once(
    page: Page, live_server, write_key: str, contact
) -> None:
    attempts: list[list[str]] = []

    def lose_first_answer(route: Route) -> None:
        body = route.request.post_data_json or {}
        ids = [m["messageId"] for m in body["batch"]]
        attempts.append(ids)
        if len(attempts) == 1:
            # Kizuna stores the batch, but its answer never reaches the browser.
            route.fetch()
            route.abort("connectionreset")
        else:
            route.continue_()

    page.route("**/v1/batch", lose_first_answer)
    page.goto(demo_url(live_server, write_key, contact))
    tracker_ready(page)
    page.locator("[data-track='Report Created']").click()

    events = wait_for_events(
        page,
        contact,
        lambda events: (
            any(e.event == "Report Created" for e in events)
            and len(attempts) >= 2
            and not page.evaluate(
                "Object.keys(localStorage).some(k => k.startsWith('kizuna.queue.'))"
            )
        ),
    )
    assert attempts[1][: len(attempts[0])] == attempts[0]  # the same messages, resent
    assert len(events) == len({e.message_id for e in events})
    assert [e.event for e in events if e.type == "track"].count("Signed In") == 1
    assert [e.event for e in events].count("Report Created") == 1


def test_unsent_events_survive_a_reload(page: Page, live_server, write_key: str, contact) -> None:
    page.route("**/v1/batch", lambda route: route.abort("internetdisconnected"))
    page.goto(demo_url(live_server, write_key, contact))
    tracker_ready(page)
    page.locator("[data-track='Invite Sent']").click()
    page.wait_for_function(
        "JSON.stringify(localStorage).includes('Invite Sent') && "
        "document.querySelector('#log-lines').textContent.length > 0"
    )
    assert not Event.objects.filter(user_id=contact.product_user_id).exists()

    page.unroute("**/v1/batch")
    page.reload()

    # The first page's identify, group, sign-in, page view and click, then the reloaded
    # page's identify, group and page view: each once.
    events = wait_for_events(page, contact, lambda events: len(events) >= 8)
    assert sorted((e.type, e.event) for e in events) == [
        ("group", ""),
        ("group", ""),
        ("identify", ""),
        ("identify", ""),
        ("page", ""),
        ("page", ""),
        ("track", "Invite Sent"),
        ("track", "Signed In"),
    ]


def test_leaving_the_page_sends_what_is_queued_by_beacon(
    page: Page, live_server, write_key: str, contact
) -> None:
    page.clock.install()
    # Nothing is sent on a timer here: what arrives is what leaving the page sent.
    page.goto(demo_url(live_server, write_key, contact, flushInterval="60000"))
    tracker_ready(page)
    page.locator("[data-screen-link=settings]").click()
    page.locator("[data-track='Settings Saved']").click()
    page.clock.fast_forward(20_000)
    assert not Event.objects.filter(user_id=contact.product_user_id).exists()

    page.goto(f"{live_server.url}{reverse('core:login')}")

    events = wait_for_events(page, contact, lambda events: len(events) == 7)
    assert sorted(e.event for e in events if e.type == "track") == [
        "Page Dwell",
        "Settings Saved",
        "Signed In",
    ]
    dwell = next(e for e in events if e.event == "Page Dwell")
    assert dwell.context["page"]["path"] == "/demo-app/settings/"
    assert 20 <= dwell.properties["seconds"] < 22
    assert dwell.contact_id == contact.pk


CUSTOMER_PAGE = """<!doctype html>
<html><head><meta charset="utf-8"><title>Customer home</title>
<script>
  !function(){var k=window.kizuna=window.kizuna||[];if(k.VERSION)return;
  ["load","identify","group","alias","track","page","reset"].forEach(function(m){k[m]=k[m]||function(){k.push([m].concat([].slice.call(arguments)))}});
  var s=document.createElement("script");s.async=true;s.src="%(kizuna)s/kizuna.js";
  document.head.appendChild(s)}();
  kizuna.load("%(write_key)s", {flushInterval: 100});
  kizuna.identify("%(user_id)s", {email: "ito@example.jp"});
  kizuna.group("%(group_id)s");
  kizuna.track("Dashboard Opened", {widgets: 3});
</script></head><body><h1>Customer's product</h1></body></html>"""


@pytest.fixture
def customer_site() -> Iterator[dict[str, str]]:
    """A customer's web app on its own origin (another port), serving one page."""
    pages: dict[str, str] = {}

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            content = pages.get("/", "").encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(content)))
            self.end_headers()
            self.wfile.write(content)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    pages["origin"] = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        yield pages
    finally:
        server.shutdown()
        server.server_close()


def test_snippet_on_another_origin_queues_calls_until_the_tracker_loads(
    page: Page, live_server, write_key: str, contact, customer_site: dict[str, str]
) -> None:
    customer_site["/"] = CUSTOMER_PAGE % {
        "kizuna": live_server.url,
        "write_key": write_key,
        "user_id": contact.product_user_id,
        "group_id": contact.account.external_id,
    }
    page.goto(customer_site["origin"] + "/")

    events = wait_for_events(page, contact, lambda events: len(events) == 4)
    assert sorted(e.type for e in events) == ["group", "identify", "page", "track"]
    opened = next(e for e in events if e.event == "Dashboard Opened")
    assert (opened.contact_id, opened.account_id) == (contact.pk, contact.account_id)
    assert opened.context["page"]["url"] == customer_site["origin"] + "/"
    assert opened.properties == {"widgets": 3}
