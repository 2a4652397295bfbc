"""One reused SMTP connection, and what an SMTP server's answer means for a message.

`Mailer` opens the connection on first use (STARTTLS and login as `settings.ENGAGEMENT_SMTP`
says) and sends many messages over it. Failures come back as `SendFailure`, classified so the
worker knows what to do: try again later (the connection, a 4xx), the recipient refused
for good (a 5xx to RCPT: a hard bounce), or the message refused for good (a 5xx to DATA).
"""

from __future__ import annotations

import enum
import smtplib
import ssl
from types import TracebackType
from typing import Any

from django.conf import settings
from django.utils.translation import gettext_lazy as _

NOT_CONFIGURED = _("no mail server configured")


class FailureKind(enum.StrEnum):
    # The server could not be reached or dropped the connection; nothing was delivered.
    CONNECTION = "connection"
    # The server refused our sender address (a configuration problem, never the contact's).
    SENDER = "sender"
    RECIPIENT = "recipient"
    DATA = "data"


class SendFailure(Exception):
    def __init__(self, kind: FailureKind, code: int | None, text: str) -> None:
        self.kind = kind
        self.code = code
        self.text = text
        super().__init__(str(self))

    def __str__(self) -> str:
        return f"{self.code} {self.text}" if self.code else self.text

    @property
    def permanent(self) -> bool:
        return self.code is not None and 500 <= self.code < 600

    @property
    def stops_batch(self) -> bool:
        """Whether the rest of the batch should wait: the connection is gone, the server is
        closing it (421) or refuses our sender address, so the next message would fail too."""
        return self.kind in (FailureKind.CONNECTION, FailureKind.SENDER) or self.code == 421


def config() -> dict[str, Any]:
    return dict(settings.ENGAGEMENT_SMTP)


def is_configured() -> bool:
    return bool(config().get("host"))


def _text(reply: bytes | str) -> str:
    return reply.decode("utf-8", "replace") if isinstance(reply, bytes) else str(reply)


class Mailer:
    """Sends messages over one SMTP connection, opened on first use and reopened after a
    failure. Use as a context manager so the connection is closed with QUIT."""

    def __init__(self, smtp_config: dict[str, Any] | None = None) -> None:
        self.config = smtp_config or config()
        self.connection: smtplib.SMTP | None = None

    def __enter__(self) -> Mailer:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def open(self) -> smtplib.SMTP:
        host = self.config.get("host") or ""
        if not host:
            raise SendFailure(FailureKind.CONNECTION, None, str(NOT_CONFIGURED))
        port = int(self.config.get("port") or 25)
        timeout = float(self.config.get("timeout") or 30)
        try:
            if port == 465:
                conn: smtplib.SMTP = smtplib.SMTP_SSL(
                    host, port, timeout=timeout, context=ssl.create_default_context()
                )
            else:
                conn = smtplib.SMTP(host, port, timeout=timeout)
            conn.ehlo()
            if self.config.get("starttls") and port != 465:
                conn.starttls(context=ssl.create_default_context())
                conn.ehlo()
            if self.config.get("username"):
                conn.login(self.config["username"], self.config.get("password") or "")
        except smtplib.SMTPResponseException as exc:
            raise SendFailure(FailureKind.CONNECTION, exc.smtp_code, _text(exc.smtp_error)) from exc
        except (smtplib.SMTPException, OSError) as exc:
            raise SendFailure(FailureKind.CONNECTION, None, str(exc) or type(exc).__name__) from exc
        self.connection = conn
        return conn

    def send(self, from_addr: str, to_addr: str, data: bytes) -> str:
        """Hand one message to the server; return its answer ("250 2.0.0 Ok: queued")."""
        conn = self.connection or self.open()
        try:
            code, reply = conn.mail(from_addr)
            if code != 250:
                self._reset()
                raise SendFailure(FailureKind.SENDER, code, _text(reply))
            code, reply = conn.rcpt(to_addr)
            if code not in (250, 251):
                self._reset()
                raise SendFailure(FailureKind.RECIPIENT, code, _text(reply))
            try:
                code, reply = conn.data(data)
            except smtplib.SMTPDataError as exc:
                self._reset()
                raise SendFailure(FailureKind.DATA, exc.smtp_code, _text(exc.smtp_error)) from exc
            if code != 250:
                self._reset()
                raise SendFailure(FailureKind.DATA, code, _text(reply))
        except SendFailure as failure:
            if failure.code == 421:
                self.close()
            raise
        except (smtplib.SMTPException, OSError) as exc:
            self.close()
            raise SendFailure(FailureKind.CONNECTION, None, str(exc) or type(exc).__name__) from exc
        return f"{code} {_text(reply)}"[:500]

    def _reset(self) -> None:
        if self.connection is None:
            return
        try:
            self.connection.rset()
        except (smtplib.SMTPException, OSError):
            self.close()

    def close(self) -> None:
        conn, self.connection = self.connection, None
        if conn is None:
            return
        try:
            conn.quit()
        except (smtplib.SMTPException, OSError):
            conn.close()
