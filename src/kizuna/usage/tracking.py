"""The Segment-compatible tracking endpoints: ``POST /v1/{identify,track,page,screen,group,
alias,batch}``, the one-letter paths analytics.js uses (``/v1/i``, ``/v1/t``, … ``/v1/b``) and
``/v1/import``.

Authentication is the source's write key, as Segment does it: the HTTP Basic user name, or
`writeKey` in the body. Browsers may call from any origin (CORS, no credentials).

Answers (always JSON, with Segment's ``code``/``message`` keys on errors, which the official
libraries log):

- 200 — everything valid is stored and committed; `rejected` lists the messages that were
  not, by index, with their reasons (Segment also answers 200 to a batch it partly drops).
- 400 — the body is not JSON, not valid gzip, not a batch, or no message in it is valid.
- 401 — no write key, or one that is not known; 403 — the source is disabled.
- 413 — the body is over 500 KB (a batch) or 32 KB (a single call), once decompressed.
- 404 / 405 / 415 — unknown endpoint, a method other than POST, an unsupported encoding.
"""

from __future__ import annotations

import base64
import binascii

from django.contrib.auth.decorators import login_not_required
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils import timezone, translation
from django.views.decorators.csrf import csrf_exempt

from kizuna.usage import segment, services


@csrf_exempt
@login_not_required
def collect(request: HttpRequest, kind: str) -> HttpResponse:
    # Answers are for libraries and the developers reading their logs: always in English,
    # like Segment's, whatever language the request asks for.
    with translation.override("en"):
        return _collect(request, kind)


def _collect(request: HttpRequest, kind: str) -> HttpResponse:
    if request.method == "OPTIONS":
        return _cors(request, HttpResponse(status=204))
    if kind not in segment.PATH_TYPES:
        return _error(
            request, 404, "unknown_endpoint", f"There is no tracking endpoint /v1/{kind}."
        )
    if request.method != "POST":
        response = _error(request, 405, "method_not_allowed", "Send tracking calls with POST.")
        response["Allow"] = "POST, OPTIONS"
        return response
    forced_type = segment.PATH_TYPES[kind]
    limit = segment.MAX_BATCH_BYTES if forced_type is None else segment.MAX_MESSAGE_BYTES
    received_at = timezone.now()
    try:
        raw = _read(request, limit)
        body = segment.decode_body(raw, request.headers.get("Content-Encoding", ""), limit)
    except segment.BodyError as exc:
        return _error(request, exc.status, exc.code, exc.message)

    write_key = _basic_user(request) or segment.write_key_in_body(body)
    if not write_key:
        return _error(
            request,
            401,
            "missing_write_key",
            "Send the source's write key as the HTTP Basic user name or as writeKey.",
        )
    source = services.source_for_key(write_key)
    if source is None:
        return _error(request, 401, "invalid_write_key", "The write key is not known.")
    if not source.enabled:
        return _error(request, 403, "source_disabled", "This data source is disabled.")

    try:
        if forced_type is None:
            items, sent_at = segment.batch_items(body)
        else:
            items = [body]
            sent_at = body.get("sentAt") if isinstance(body, dict) else None
    except segment.BodyError as exc:
        return _error(request, exc.status, exc.code, exc.message)
    messages, rejected = segment.normalise_all(
        items,
        forced_type=forced_type,
        batch_sent_at=sent_at,
        received_at=received_at,
        measure=forced_type is None and len(raw) > segment.MAX_MESSAGE_BYTES,
    )
    if items and not messages:
        first = rejected[0]
        payload = {
            "success": False,
            "code": first.code if forced_type else "invalid_batch",
            "message": first.reason if forced_type else "No message in the batch is valid.",
            "rejected": [item.as_json() for item in rejected],
        }
        return _cors(request, JsonResponse(payload, status=400))
    result = services.ingest(
        source.id, messages, received_at=received_at, received=len(items), rejected=rejected
    )
    payload = {
        "success": True,
        "received": result.received,
        "stored": result.stored,
        "duplicates": result.duplicates,
        "rejected": [item.as_json() for item in result.rejected],
    }
    if result.warnings:
        payload["warnings"] = result.warnings
    return _cors(request, JsonResponse(payload))


def _read(request: HttpRequest, limit: int) -> bytes:
    # Compressed bodies are smaller than what they inflate to, so the declared length can be
    # checked against the limit before anything is read.
    try:
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        declared = 0
    if declared > limit:
        raise segment.BodyError(
            413, "request_too_large", f"The request body is larger than {limit // 1024} KB."
        )
    raw = request.read(limit + 1)
    if len(raw) > limit:
        raise segment.BodyError(
            413, "request_too_large", f"The request body is larger than {limit // 1024} KB."
        )
    return raw


def _basic_user(request: HttpRequest) -> str:
    header = request.headers.get("Authorization", "")
    scheme, _space, credentials = header.partition(" ")
    if scheme.lower() != "basic" or not credentials:
        return ""
    try:
        decoded = base64.b64decode(credentials.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return ""
    return decoded.partition(":")[0]


def _error(request: HttpRequest, status: int, code: str, message: str) -> HttpResponse:
    return _cors(
        request, JsonResponse({"success": False, "code": code, "message": message}, status=status)
    )


def _cors(request: HttpRequest, response: HttpResponse) -> HttpResponse:
    """Any web page may send tracking calls; no cookies are involved, so credentials are not
    allowed and the origin is echoed back (or * for calls without one)."""
    origin = request.headers.get("Origin")
    response["Access-Control-Allow-Origin"] = origin or "*"
    response["Vary"] = "Origin"
    if request.method == "OPTIONS":
        requested = request.headers.get("Access-Control-Request-Headers", "")
        response["Access-Control-Allow-Methods"] = "POST, OPTIONS"
        response["Access-Control-Allow-Headers"] = (
            requested or "Authorization, Content-Type, Content-Encoding"
        )
        response["Access-Control-Max-Age"] = "86400"
    return response
