"""The official client libraries from npm, unchanged, pointed at Kizuna: Segment's and
RudderStack's Node server libraries, and Segment's browser library (analytics.js 2.0,
`@segment/analytics-next`) served from this machine instead of Segment's CDN.

The libraries are installed once per checkout into tests/node/node_modules, at the versions
package-lock.json pins; without Node.js these tests are skipped.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import threading
import time
import uuid
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from django.db import OperationalError
from playwright.sync_api import Browser, Page, Request

from kizuna.core.tests.browser import new_page
from kizuna.customers.models import Contact
from kizuna.customers.tests.factories import AccountFactory, ContactFactory
from kizuna.usage import services
from kizuna.usage.models import Event

pytestmark = pytest.mark.django_db(transaction=True)

NODE_DIR = Path(__file__).resolve().parent / "node"
ANALYTICS_NEXT = NODE_DIR / "node_modules" / "@segment" / "analytics-next" / "dist" / "umd"
# analytics.js retries a failed call after a growing pause; leave room for two retries.
DEADLINE_SECONDS = 30


@pytest.fixture(scope="session")
def node() -> str:
    """The `node` executable, with the pinned client libraries installed beside send.js."""
    node = shutil.which("node")
    if node is None:
        pytest.skip(
            "Node.js is not installed (apt-get install nodejs npm): the official Node and "
            "browser client libraries cannot be run."
        )
    npm = shutil.which("npm")
    assert npm is not None, "node is installed but npm is not (apt-get install npm)"
    installed = NODE_DIR / "node_modules" / ".package-lock.json"
    lock = NODE_DIR / "package-lock.json"
    if not installed.exists() or installed.stat().st_mtime < lock.stat().st_mtime:
        # The versions package-lock.json pins. Not `npm ci`: it refuses a lock file that lacks
        # other platforms' optional native packages (msgpackr-extract, under Rudder's optional
        # Redis queue), which a registry mirror may not carry; `install --no-save` installs
        # the locked tree and never rewrites the lock. --ignore-scripts: nothing is built.
        result = subprocess.run(  # noqa: S603 (fixed arguments)
            [npm, "install", "--no-save", "--no-audit", "--no-fund", "--ignore-scripts"],
            cwd=NODE_DIR,
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
        )
        assert result.returncode == 0, f"npm install failed:\n{result.stdout}\n{result.stderr}"
    return node


def _customer(prefix: str) -> Contact:
    # Fresh ids in every test: Kizuna's ingestion caches who a user id is for a while.
    unique = uuid.uuid4().hex[:8]
    account = AccountFactory.create(name="株式会社ミドリ精機", external_id=f"MIDORI-{unique}")
    return ContactFactory.create(account=account, product_user_id=f"{prefix}-{unique}")


def _wait_for_events(page: Page, count: int, **filters: object) -> list[Event]:
    """Poll the database through the page, so that Playwright's handlers run meanwhile."""
    deadline = time.monotonic() + DEADLINE_SECONDS
    while True:
        try:
            events = list(Event.objects.filter(**filters).order_by("timestamp", "id"))
        except OperationalError:
            # SQLite's shared in-memory test database locks a table while the live server
            # writes to it; read again on the next round.
            events = []
        if len(events) >= count or time.monotonic() > deadline:
            return events
        page.wait_for_timeout(50)


@pytest.mark.parametrize("library", ["segment", "rudderstack"])
def test_official_node_library_feeds_kizuna(node: str, live_server, library: str) -> None:
    write_key = services.create_source(None, f"{library} backend").write_key
    contact = _customer(library)

    result = subprocess.run(  # noqa: S603 (our own script and values)
        [
            node,
            "send.js",
            library,
            live_server.url,
            write_key,
            str(contact.product_user_id),
            str(contact.account.external_id),
        ],
        cwd=NODE_DIR,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    assert result.returncode == 0, result.stderr
    events = {e.type: e for e in Event.objects.filter(user_id=contact.product_user_id)}
    assert sorted(events) == ["group", "identify", "page", "track"]
    track = events["track"]
    assert track.event == "Report Exported"
    assert track.properties == {"format": "xlsx", "rows": 1200}
    assert (track.contact_id, track.account_id) == (contact.pk, contact.account_id)
    assert (events["page"].contact_id, events["page"].account_id) == (
        contact.pk,
        contact.account_id,
    )
    contact.refresh_from_db()
    assert contact.email == "ito@example.jp"


# --- Segment's browser library ------------------------------------------------------------------

SEGMENT_PAGE = NODE_DIR / "segment-page.html"


def segment_settings(write_key: str, api_host: str) -> dict[str, object]:
    """The source settings Segment's CDN would serve, pointing the library at Kizuna (the
    minimal set documented in docs/tracking.md); `sampleRate: 0` turns off the library's own
    metrics, which would go to Segment."""
    return {
        "integrations": {
            "Segment.io": {"apiKey": write_key, "apiHost": api_host, "protocol": "http"}
        },
        "plan": {"track": {"__default": {"enabled": True, "integrations": {}}}},
        "metrics": {"sampleRate": 0},
        "remotePlugins": [],
    }


@pytest.fixture
def local_cdn(node: str) -> Iterator[dict[str, str]]:
    """A customer's web server on this machine: the page with Segment's snippet, the
    analytics.js files from the npm package, and the source settings (what Segment's CDN
    would otherwise serve)."""
    site: dict[str, str] = {}

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            path = urlsplit(self.path).path
            content_type = "application/javascript"
            if path == "/":
                content, content_type = site["page"].encode(), "text/html; charset=utf-8"
            elif re.fullmatch(r"/analytics\.js/v1/[^/]+/analytics\.min\.js", path):
                content = (ANALYTICS_NEXT / "standalone.js").read_bytes()
            elif match := re.fullmatch(r"/analytics-next/bundles/([\w.-]+\.js)", path):
                content = (ANALYTICS_NEXT / match[1]).read_bytes()
            elif re.fullmatch(r"/v1/projects/[^/]+/settings", path):
                content, content_type = site["settings"].encode(), "application/json"
            else:
                self.send_error(404)
                return
            self.send_response(200)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(content)))
            self.end_headers()
            self.wfile.write(content)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    site["origin"] = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        yield site
    finally:
        server.shutdown()
        server.server_close()


@pytest.mark.browser
def test_segment_browser_library_served_locally_feeds_kizuna(
    browser: Browser, live_server, local_cdn: dict[str, str]
) -> None:
    write_key = services.create_source(None, "analytics.js").write_key
    contact = _customer("browser")
    api_host = f"{urlsplit(live_server.url).netloc}/v1"
    local_cdn["settings"] = json.dumps(segment_settings(write_key, api_host))
    values = {
        "write_key": write_key,
        "cdn": local_cdn["origin"],
        "api_host": api_host,
        "user_id": contact.product_user_id,
        "group_id": contact.account.external_id,
    }
    local_cdn["page"] = re.sub(
        r"\{\{(\w+)\}\}", lambda match: str(values[match[1]]), SEGMENT_PAGE.read_text()
    )
    elsewhere: list[str] = []

    def outside(request: Request) -> None:
        if urlsplit(request.url).hostname not in ("127.0.0.1", "localhost"):
            elsewhere.append(request.url)

    with new_page(browser) as page:
        page.context.on("request", outside)
        page.goto(local_cdn["origin"] + "/")
        events = _wait_for_events(page, 4, user_id=contact.product_user_id)

    assert sorted(e.type for e in events) == ["group", "identify", "page", "track"], events
    track = next(e for e in events if e.type == "track")
    assert track.properties == {"format": "pdf"}
    assert track.context["library"]["name"] == "analytics.js"
    assert (track.contact_id, track.account_id) == (contact.pk, contact.account_id)
    assert elsewhere == []
