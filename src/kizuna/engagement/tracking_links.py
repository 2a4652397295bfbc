"""Signed, absolute URLs for the tracking pixel, tracked links and the preference centre.

Each URL carries the message token and a short HMAC (SHA-256 with settings.SECRET_KEY) over
the kind of link and its parts, so nobody can forge an open, a click or an unsubscribe for
someone else's message. The paths are fixed here and the tracking views
(`views_tracking.py`, URL names engagement:track_open / track_click / preferences) must be
routed at exactly these paths and check the signature with `verify`:

- open pixel:        /e/o/<token>/<signature>.gif
- tracked click:     /e/c/<token>/<index>/<signature>
- preference centre: /e/u/<token>/<signature>/   (also the List-Unsubscribe one-click POST)
"""

from __future__ import annotations

import base64
import hashlib
import hmac

from django.conf import settings

KINDS = ("open", "click", "unsubscribe")
SIGNATURE_LENGTH = 16


def _key() -> bytes:
    return hashlib.sha256(
        b"kizuna.engagement.tracking_links" + settings.SECRET_KEY.encode()
    ).digest()


def sign(kind: str, *parts: str) -> str:
    """The signature of a link of `kind` ("open", "click", "unsubscribe") over `parts`."""
    message = "\x1f".join((kind, *parts)).encode()
    digest = hmac.new(_key(), message, hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode()[:SIGNATURE_LENGTH]


def verify(kind: str, *parts: str, signature: str) -> bool:
    """Whether `signature` is the one this server gives a link of `kind` over `parts`."""
    if kind not in KINDS or len(signature) != SIGNATURE_LENGTH:
        return False
    return hmac.compare_digest(sign(kind, *parts), signature)


def _base() -> str:
    return str(settings.ENGAGEMENT_PUBLIC_URL).rstrip("/")


def open_url(token: str) -> str:
    return f"{_base()}/e/o/{token}/{sign('open', token)}.gif"


def click_url(token: str, index: int) -> str:
    return f"{_base()}/e/c/{token}/{index}/{sign('click', token, str(index))}"


def unsubscribe_url(token: str) -> str:
    return f"{_base()}/e/u/{token}/{sign('unsubscribe', token)}/"


def message_links(token: str) -> dict[str, str]:
    """The per-message values of the unsubscribe_url and preferences_url variables (one page:
    the preference centre, where a contact unsubscribes from a category or from everything)."""
    url = unsubscribe_url(token)
    return {"unsubscribe_url": url, "preferences_url": url}
