"""The JavaScript tracker `kizuna.js`, served at a stable URL for the customer's snippet, and the
demo "customer app" that uses it.

Both are public (they run in the customer's product, for its end users, who never sign in to
Kizuna); neither reads or shows any Kizuna data.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy
from django.views.decorators.http import condition, require_safe

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

TRACKER_FILE = Path(__file__).resolve().parent / "static" / "kizuna" / "kizuna.js"
# The snippet's URL never changes, so browsers revalidate (by ETag) after a day instead of
# holding on to an old tracker for a year; revalidation is a cheap 304.
TRACKER_CACHE_CONTROL = "public, max-age=86400, stale-while-revalidate=604800"


@dataclass(frozen=True)
class TrackerScript:
    content: bytes
    etag: str


@lru_cache(maxsize=1)
def _tracker_script(mtime_ns: int) -> TrackerScript:
    content = TRACKER_FILE.read_bytes()
    return TrackerScript(content=content, etag=f'"{hashlib.sha256(content).hexdigest()[:32]}"')


def tracker_script() -> TrackerScript:
    """The tracker's bytes and ETag, read once per version of the file."""
    return _tracker_script(TRACKER_FILE.stat().st_mtime_ns)


@login_not_required
@require_safe
@condition(etag_func=lambda request: tracker_script().etag)
def tracker_js(request: HttpRequest) -> HttpResponse:
    script = tracker_script()
    response = HttpResponse(script.content, content_type="text/javascript; charset=utf-8")
    response["Cache-Control"] = TRACKER_CACHE_CONTROL
    # Customers' pages load it from another origin, possibly with `crossorigin` and
    # Subresource Integrity or under a cross-origin embedder policy.
    response["Access-Control-Allow-Origin"] = "*"
    response["Cross-Origin-Resource-Policy"] = "cross-origin"
    return response


@dataclass(frozen=True)
class DemoScreen:
    slug: str
    title: StrOrPromise


# The fake product's screens; each has its own URL so that a reload lands on the same screen,
# and the page switches between them with history.pushState like a single-page app.
DEMO_SCREENS = [
    DemoScreen("", pgettext_lazy("demo app screen", "Dashboard")),
    DemoScreen("reports", pgettext_lazy("demo app screen", "Reports")),
    DemoScreen("settings", pgettext_lazy("demo app screen", "Settings")),
]
# The options of kizuna.load() the demo passes on from its query string (tests speed it up).
DEMO_TRACKER_OPTIONS = ("flushAt", "flushInterval", "retryDelay")


@login_not_required
@require_safe
def demo_app(request: HttpRequest, screen: str = "") -> HttpResponse:
    """The demo customer app: a small fake reporting product that pastes the tracker snippet.

    It is configured from its query string (`writeKey`, `userId`, `groupId`, optionally
    `name`, `email`, `lang`), read by the page's own script; without a write key it shows how
    to connect it. The server never looks the values up, so the page reveals nothing.
    """
    current = next((s for s in DEMO_SCREENS if s.slug == screen), None)
    if current is None:
        raise Http404
    language = request.GET.get("lang", "")
    if language not in dict(settings.LANGUAGES):
        language = translation.get_language() or settings.LANGUAGE_CODE
    with translation.override(language):
        screens = [
            {
                "slug": s.slug,
                "title": str(s.title),
                "url": reverse("usage:demo_app_screen", args=[s.slug])
                if s.slug
                else reverse("usage:demo_app"),
            }
            for s in DEMO_SCREENS
        ]
        return render(
            request,
            "usage/demo_app.html",
            {
                "screens": screens,
                "current": current.slug,
                "current_title": str(current.title),
                "language": language,
                "tracker_url": request.build_absolute_uri(reverse("usage:tracker_js")),
                "tracker_options": DEMO_TRACKER_OPTIONS,
                "app_name": _("Sorairo Reports"),
            },
        )
