"""Bounces that come back later, as delivery status notifications (RFC 3464) in a mailbox.

A mail server that accepted a message and then could not deliver it sends a
multipart/report (report-type=delivery-status) to the envelope sender. We find our message by
the `X-Kizuna-Message` header (or the Message-ID) in the returned copy, then: a permanent
failure (status 5.x.x) bounces it and suppresses the address; a temporary one (4.x.x) is kept
as a soft bounce event only. `poll_imap` reads such reports from the bounce mailbox.
"""

from __future__ import annotations

import contextlib
import datetime
import email
import email.policy
import imaplib
import logging
import re
from dataclasses import dataclass, field
from email.message import Message
from urllib.parse import unquote, urlparse

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from kizuna.engagement.choices import EmailEventKind, MessageStatus
from kizuna.engagement.models import EmailEvent, EmailMessage
from kizuna.engagement.sending import suppress_bounced

logger = logging.getLogger(__name__)

_STATUS = re.compile(r"\b([245])\.\d{1,3}\.\d{1,3}\b")
_MESSAGE_ID = re.compile(r"<([^@>\s]+)@[^>]*>")


@dataclass(frozen=True)
class RecipientStatus:
    recipient: str
    action: str
    status: str  # "5.1.1"
    diagnostic: str

    @property
    def permanent(self) -> bool:
        return self.status.startswith("5")


@dataclass(frozen=True)
class DeliveryReport:
    token: str  # our message's token, "" when the report names none of ours
    recipients: tuple[RecipientStatus, ...]


@dataclass
class PollReport:
    read: int = 0
    bounced: int = 0
    soft: int = 0
    unmatched: int = 0
    errors: list[str] = field(default_factory=list)


def parse(raw: bytes) -> DeliveryReport | None:
    """The delivery status notification in `raw`, or None when it is not one."""
    report = email.message_from_bytes(raw, policy=email.policy.compat32)
    if report.get_content_type() != "multipart/report":
        return None
    if str(report.get_param("report-type") or "").lower() != "delivery-status":
        return None
    recipients: list[RecipientStatus] = []
    token = ""
    for part in report.walk():
        kind = part.get_content_type()
        if kind == "message/delivery-status":
            recipients.extend(_recipients(part))
        elif kind in ("message/rfc822", "text/rfc822-headers", "message/rfc822-headers"):
            token = token or _token(_returned_headers(part))
    return DeliveryReport(token=token, recipients=tuple(recipients))


def _recipients(part: Message) -> list[RecipientStatus]:
    payload = part.get_payload()
    blocks: list[Message]
    if isinstance(payload, list):
        blocks = [block for block in payload if isinstance(block, Message)]
    else:
        # Some servers send the fields as one text block.
        chunks = re.split(r"\r?\n\r?\n", str(payload))
        blocks = [email.message_from_string(chunk) for chunk in chunks]
    found = []
    for block in blocks:
        status = block.get("Status", "")
        if not status:
            continue
        match = _STATUS.search(status)
        recipient = block.get("Final-Recipient") or block.get("Original-Recipient") or ""
        found.append(
            RecipientStatus(
                recipient=recipient.partition(";")[2].strip() or recipient.strip(),
                action=(block.get("Action") or "").strip().lower(),
                status=match.group(0) if match else status.strip(),
                diagnostic=" ".join((block.get("Diagnostic-Code") or "").split()),
            )
        )
    return found


def _returned_headers(part: Message) -> Message:
    payload = part.get_payload()
    if isinstance(payload, list) and payload:
        first = payload[0]
        if isinstance(first, Message):
            return first
    text = part.get_payload(decode=True) or b""
    if isinstance(text, bytes):
        return email.message_from_bytes(text, policy=email.policy.compat32)
    return email.message_from_string(str(text))


def _token(headers: Message) -> str:
    token = (headers.get("X-Kizuna-Message") or "").strip()
    if token:
        return token
    match = _MESSAGE_ID.search(headers.get("Message-ID") or "")
    return match.group(1) if match else ""


def process(raw: bytes, *, now: datetime.datetime | None = None) -> str:
    """Apply one notification: "bounced", "soft", "unmatched" or "ignored" (not a DSN)."""
    now = now or timezone.now()
    report = parse(raw)
    if report is None or not report.recipients:
        return "ignored"
    message = EmailMessage.objects.filter(token=report.token).first() if report.token else None
    if message is None:
        return "unmatched"
    mine = [r for r in report.recipients if r.recipient.lower() == message.to_email.lower()]
    status = (mine or list(report.recipients))[0]
    detail = f"{status.status} {status.diagnostic}".strip()
    with transaction.atomic():
        if status.permanent:
            if message.status != MessageStatus.BOUNCED:
                message.last_error = detail[:2000]
                message.save(update_fields=["last_error"])
                suppress_bounced(message, detail, now=now)
            return "bounced"
        EmailEvent.objects.create(
            message=message,
            kind=EmailEventKind.BOUNCED,
            at=now,
            detail={"soft": True, "status": status.status, "error": status.diagnostic},
        )
    return "soft"


def poll_imap(url: str | None = None) -> PollReport:
    """Read the unseen messages of the bounce mailbox (settings.ENGAGEMENT_BOUNCE_IMAP_URL,
    e.g. imaps://bounces:secret@mail.example.jp:993/INBOX, user and password URL-escaped),
    apply each notification, and mark every message read seen, notifications or not, so the
    next poll skips it. A message that fails to process stays unseen. A refused login or a
    missing mailbox raises imaplib.IMAP4.error."""
    url = url if url is not None else settings.ENGAGEMENT_BOUNCE_IMAP_URL
    report = PollReport()
    if not url:
        return report
    parts = urlparse(url)
    if parts.scheme not in ("imap", "imaps"):
        raise ValueError(f"KIZUNA_BOUNCE_IMAP_URL must start with imap:// or imaps:// ({url!r})")
    host = parts.hostname or "localhost"
    mailbox = unquote(parts.path.lstrip("/")) or "INBOX"
    client: imaplib.IMAP4
    if parts.scheme == "imaps":
        client = imaplib.IMAP4_SSL(host, parts.port or 993, timeout=30)
    else:
        client = imaplib.IMAP4(host, parts.port or 143, timeout=30)
    try:
        client.login(unquote(parts.username or ""), unquote(parts.password or ""))
        typ, data = client.select(_quoted(mailbox))
        if typ != "OK":
            answer = b" ".join(item for item in data if isinstance(item, bytes)).decode(
                errors="replace"
            )
            raise imaplib.IMAP4.error(f"cannot open the bounce mailbox {mailbox!r}: {answer}")
        # UIDs, not sequence numbers: another client expunging meanwhile renumbers the latter.
        _typ, data = client.uid("SEARCH", "UNSEEN")
        for found in (data[0] or b"").split():
            uid = found.decode()
            _typ, fetched = client.uid("FETCH", uid, "(BODY.PEEK[])")
            raw = next(
                (item[1] for item in fetched if isinstance(item, tuple) and len(item) > 1), b""
            )
            report.read += 1
            try:
                outcome = process(bytes(raw))
            except Exception as exc:
                # One odd message must not stop the others; it stays unseen for a look.
                logger.exception("Could not process bounce message UID %s", uid)
                report.errors.append(str(exc))
                continue
            if outcome == "bounced":
                report.bounced += 1
            elif outcome == "soft":
                report.soft += 1
            elif outcome == "unmatched":
                report.unmatched += 1
            client.uid("STORE", uid, "+FLAGS", "(\\Seen)")
    finally:
        with contextlib.suppress(imaplib.IMAP4.error, OSError):
            client.logout()
    return report


def _quoted(mailbox: str) -> str:
    # imaplib sends arguments as they are: a name with a space or quote must be quoted.
    escaped = mailbox.replace("\\", "\\\\").replace('"', '\\"')
    return f'"{escaped}"'
