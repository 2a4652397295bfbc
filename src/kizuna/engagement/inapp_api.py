"""The public endpoints kizuna.js calls for in-app guidance, next to the tracking API:

- ``POST /v1/inapp/decide`` — ``{writeKey, userId, anonymousId, groupId, url, language,
  event, preview}`` → ``{"messages": [...]}``, what this viewer may see now on this page.
- ``POST /v1/inapp/events`` — ``{writeKey, userId, anonymousId, groupId, message, kind,
  step, url, preview, messageId}`` → ``{"success": true}``; kind is shown / dismissed /
  clicked / completed.

Like ``/v1/batch`` they take ``text/plain`` JSON with the write key in the body (a "simple"
cross-origin request: no preflight, no cookies) and answer any origin. Errors use the
tracking API's ``{"success": false, "code", "message"}`` in English: 400 malformed, 401
unknown write key, 403 disabled source, 405 not POST, 413 too large.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from functools import lru_cache
from pathlib import Path
from typing import Any

from django.contrib.auth.decorators import login_not_required
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import condition, require_safe

from kizuna.engagement import inapp
from kizuna.usage.tracker_views import TRACKER_CACHE_CONTROL

MAX_BODY = 32 * 1024


def _cors(response: HttpResponse) -> HttpResponse:
    # No cookies are involved, so any origin may call; the write key is the authentication.
    response["Access-Control-Allow-Origin"] = "*"
    response["Access-Control-Allow-Methods"] = "POST, OPTIONS"
    response["Access-Control-Allow-Headers"] = "Authorization, Content-Type"
    response["Access-Control-Max-Age"] = "86400"
    return response


def _error(status: int, code: str, message: str) -> HttpResponse:
    return _cors(JsonResponse({"success": False, "code": code, "message": message}, status=status))


class _Refused(Exception):
    def __init__(self, response: HttpResponse) -> None:
        self.response = response


def _body(request: HttpRequest) -> dict[str, Any]:
    try:
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        declared = 0
    raw = request.read(MAX_BODY + 1) if declared <= MAX_BODY else b"x" * (MAX_BODY + 1)
    if len(raw) > MAX_BODY:
        raise _Refused(_error(413, "request_too_large", "The request body is larger than 32 KB."))
    try:
        body = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise _Refused(_error(400, "invalid_json", "The body is not valid JSON.")) from None
    if not isinstance(body, dict):
        raise _Refused(_error(400, "invalid_json", "The body must be a JSON object."))
    return body


def _write_key(request: HttpRequest, body: dict[str, Any]) -> str:
    key = body.get("writeKey")
    if isinstance(key, str) and key:
        return key
    scheme, _space, credentials = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() == "basic" and credentials:
        try:
            return base64.b64decode(credentials.strip(), validate=True).decode().partition(":")[0]
        except (binascii.Error, UnicodeDecodeError):
            return ""
    return ""


def _public(handler: Any) -> Any:
    """Shared wrapper: CORS preflight, POST only, body parsing and the error answers."""

    @csrf_exempt
    @login_not_required
    def view(request: HttpRequest) -> HttpResponse:
        if request.method == "OPTIONS":
            return _cors(HttpResponse(status=204))
        if request.method != "POST":
            response = _error(405, "method_not_allowed", "Send these calls with POST.")
            response["Allow"] = "POST, OPTIONS"
            return response
        try:
            body = _body(request)
            return _cors(handler(_write_key(request, body), body))
        except _Refused as refused:
            return refused.response
        except inapp.UnknownWriteKey:
            return _error(401, "invalid_write_key", "The write key is missing or not known.")
        except inapp.SourceDisabled:
            return _error(403, "source_disabled", "This data source is disabled.")
        except inapp.BadRequest as exc:
            return _error(400, "invalid_request", str(exc))

    view.__name__ = handler.__name__
    view.__doc__ = handler.__doc__
    return view


def _text(body: dict[str, Any], name: str) -> str:
    value = body.get(name) or ""
    if not isinstance(value, str):
        raise inapp.BadRequest(f"{name} must be a string.")
    return value[:2000]


@_public
def decide(write_key: str, body: dict[str, Any]) -> HttpResponse:
    """The messages the viewer may see now."""
    messages = inapp.decide(
        write_key=write_key,
        user_id=body.get("userId"),
        anonymous_id=body.get("anonymousId"),
        group_id=body.get("groupId"),
        url=_text(body, "url") or _text(body, "path"),
        event=body.get("event"),
        language=_text(body, "language"),
        preview=_text(body, "preview"),
    )
    return JsonResponse({"messages": messages})


@_public
def events(write_key: str, body: dict[str, Any]) -> HttpResponse:
    """What the viewer did with a message."""
    inapp.record_event(
        write_key=write_key,
        message_key=body.get("message"),
        kind=body.get("kind"),
        user_id=body.get("userId"),
        anonymous_id=body.get("anonymousId"),
        group_id=body.get("groupId"),
        url=body.get("url") or "",
        step=body.get("step"),
        preview=_text(body, "preview"),
        message_id=body.get("messageId"),
    )
    return JsonResponse({"success": True})


GUIDANCE_FILE = Path(__file__).resolve().parent / "static" / "engagement" / "inapp.js"


@lru_cache(maxsize=1)
def _guidance_script(mtime_ns: int) -> tuple[bytes, str]:
    content = GUIDANCE_FILE.read_bytes()
    return content, f'"{hashlib.sha256(content).hexdigest()[:32]}"'


def guidance_script() -> tuple[bytes, str]:
    """kizuna-inapp.js's bytes and ETag, read once per version of the file."""
    return _guidance_script(GUIDANCE_FILE.stat().st_mtime_ns)


@login_not_required
@require_safe
@condition(etag_func=lambda request: guidance_script()[1])
def guidance_js(request: HttpRequest) -> HttpResponse:
    """The in-app guidance renderer kizuna.js loads, at a stable URL next to /kizuna.js."""
    content, _etag = guidance_script()
    response = HttpResponse(content, content_type="text/javascript; charset=utf-8")
    response["Cache-Control"] = TRACKER_CACHE_CONTROL
    response["Access-Control-Allow-Origin"] = "*"
    response["Cross-Origin-Resource-Policy"] = "cross-origin"
    return response
