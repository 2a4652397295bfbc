"""The demo's mail catcher: a local SMTP server that keeps every message in a Maildir.

`kizuna demo` / `kizuna serve` start it (`start_catcher`) when no mail server is configured,
so the demo's campaigns and flows really send, and the mailbox page shows what arrived. It
listens on 127.0.0.1 only (port KIZUNA_DEMO_SMTP_PORT, default 8025) and stores messages under
DATA_DIR/mailbox.
"""

from __future__ import annotations

import email
import email.policy
import logging
import mailbox
import os
import threading
from dataclasses import dataclass
from email.message import EmailMessage as MimeMessage
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller
from django.conf import settings

logger = logging.getLogger(__name__)

HOST = "127.0.0.1"
DEFAULT_PORT = 8025

_lock = threading.Lock()
_controller: Controller | None = None


def maildir_path() -> Path:
    return Path(settings.DATA_DIR) / "mailbox"


def port() -> int:
    value = os.environ.get("KIZUNA_DEMO_SMTP_PORT", "")
    try:
        return int(value) if value else DEFAULT_PORT
    except ValueError:
        raise ValueError(f"KIZUNA_DEMO_SMTP_PORT must be a port number, not {value!r}") from None


class _Store:
    def __init__(self, path: Path) -> None:
        self.path = path
        self.lock = threading.Lock()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        data = bytes(envelope.original_content or envelope.content)
        with self.lock:
            mailbox.Maildir(self.path, create=True).add(data)
        return "250 2.0.0 Ok: caught"


def start_catcher() -> tuple[str, int] | None:
    """Start the catcher in a background thread (once per process) and point
    settings.ENGAGEMENT_SMTP at it; None when the port is taken."""
    global _controller
    with _lock:
        wanted = port()
        # aiosmtpd logs every SMTP command at INFO: too much for a demo's console.
        logging.getLogger("mail.log").setLevel(logging.WARNING)
        if _controller is None:
            controller = Controller(
                _Store(maildir_path()), hostname=HOST, port=wanted, ready_timeout=10
            )
            try:
                controller.start()
            except (OSError, RuntimeError) as exc:
                logger.warning(
                    "The demo mail catcher could not listen on %s:%s: %s", HOST, wanted, exc
                )
                return None
            _controller = controller
        settings.ENGAGEMENT_SMTP = {
            "host": HOST,
            "port": wanted,
            "username": "",
            "password": "",
            "starttls": False,
            "timeout": 10,
        }
        return HOST, wanted


def stop_catcher() -> None:
    global _controller
    with _lock:
        controller, _controller = _controller, None
    if controller is not None:
        controller.stop()


def catcher_address() -> tuple[str, int] | None:
    """Where the catcher listens, when this Kizuna sends to it (started in this process, or
    mail goes to its address and its mailbox exists)."""
    if _controller is not None:
        return HOST, port()
    smtp = settings.ENGAGEMENT_SMTP
    ours = smtp.get("host") in (HOST, "localhost") and smtp.get("port") == port()
    if ours and maildir_path().is_dir():
        return HOST, port()
    return None


@dataclass(frozen=True)
class Caught:
    key: str
    from_: str
    to: str
    subject: str
    date: Any  # datetime | None
    message: MimeMessage


def _open() -> mailbox.Maildir | None:
    path = maildir_path()
    if not path.is_dir():
        return None
    return mailbox.Maildir(path, factory=None, create=False)


def _parse(key: str, raw: bytes) -> Caught:
    parsed = email.message_from_bytes(raw, policy=email.policy.default)
    assert isinstance(parsed, MimeMessage)
    try:
        date = parsedate_to_datetime(str(parsed["Date"])) if parsed["Date"] else None
    except (TypeError, ValueError):
        date = None
    return Caught(
        key=key,
        from_=str(parsed["From"] or ""),
        to=str(parsed["To"] or ""),
        subject=str(parsed["Subject"] or ""),
        date=date,
        message=parsed,
    )


def _arrival(key: str) -> tuple[int, int]:
    # Maildir keys start with the delivery time: "<seconds>.M<microseconds>P<pid>Q<n>.<host>".
    seconds, _dot, rest = key.partition(".")
    micro = rest[1:].split("P", 1)[0] if rest.startswith("M") else ""
    return (int(seconds) if seconds.isdigit() else 0, int(micro) if micro.isdigit() else 0)


def caught(limit: int = 200) -> list[Caught]:
    """The newest caught messages first."""
    box = _open()
    if box is None:
        return []
    keys = sorted(box.keys(), key=_arrival, reverse=True)
    return [_parse(key, box.get_bytes(key)) for key in keys[:limit]]


def get(key: str) -> Caught | None:
    box = _open()
    if box is None:
        return None
    try:
        return _parse(key, box.get_bytes(key))
    except KeyError:
        return None


def parts(message: MimeMessage) -> tuple[str, str]:
    """The plain-text and HTML bodies of a caught message ("" when absent)."""
    text = message.get_body(("plain",))
    html = message.get_body(("html",))
    return (
        text.get_content() if text is not None else "",
        html.get_content() if html is not None else "",
    )
