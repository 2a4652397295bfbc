"""A real SMTP server for tests: aiosmtpd on a free localhost port, keeping what it receives.

`SmtpSink` records each accepted message (parsed with `email.policy.default`) and its
envelope, and can misbehave on demand: be down (connections refused), answer 451 (try
again later) to everything, or refuse given recipients with 550.
"""

from __future__ import annotations

import email
import email.policy
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from email.message import EmailMessage as MimeMessage
from typing import Any

from aiosmtpd.controller import Controller


@dataclass(frozen=True)
class Envelope:
    mail_from: str
    rcpt_tos: tuple[str, ...]
    data: bytes


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class _Handler:
    sink: SmtpSink

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, rcpt_options: list[str]
    ) -> str:
        if self.sink.temporary_failures > 0:
            self.sink.temporary_failures -= 1
            return "451 4.3.0 Try again later"
        if address.lower() in self.sink.refused:
            return "550 5.1.1 No such user here"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        data = bytes(envelope.original_content or envelope.content)
        with self.sink.lock:
            self.sink.envelopes.append(Envelope(envelope.mail_from, tuple(envelope.rcpt_tos), data))
            self.sink.messages.append(email.message_from_bytes(data, policy=email.policy.default))
        return "250 2.0.0 Ok: queued"


@dataclass
class SmtpSink:
    host: str = "127.0.0.1"
    port: int = field(default_factory=free_port)
    messages: list[MimeMessage] = field(default_factory=list)
    envelopes: list[Envelope] = field(default_factory=list)
    # Lower-cased addresses answered "550 No such user".
    refused: set[str] = field(default_factory=set)
    # The next this many RCPT commands are answered "451 Try again later".
    temporary_failures: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)
    controller: Controller | None = None

    @property
    def running(self) -> bool:
        return self.controller is not None

    def start(self) -> None:
        if self.controller is not None:
            return
        controller = Controller(
            _Handler(self),
            hostname=self.host,
            port=self.port,
            decode_data=False,
            data_size_limit=0,
            ready_timeout=10,
        )
        controller.start()
        self.controller = controller

    def stop(self) -> None:
        """Take the server down: connections are refused until `start()`."""
        controller, self.controller = self.controller, None
        if controller is not None:
            controller.stop()

    def refuse(self, address: str) -> None:
        self.refused.add(address.lower())

    def fail_temporarily(self, times: int = 1) -> None:
        self.temporary_failures = times

    def recipients(self) -> list[str]:
        return [rcpt for envelope in self.envelopes for rcpt in envelope.rcpt_tos]

    def wait_for(self, count: int, timeout: float = 10.0) -> list[MimeMessage]:
        """Bounded polling for messages sent from another thread or process."""
        deadline = time.monotonic() + timeout
        while len(self.messages) < count and time.monotonic() < deadline:
            time.sleep(0.02)
        return list(self.messages)

    def settings_value(self) -> dict[str, object]:
        return {
            "host": self.host,
            "port": self.port,
            "username": "",
            "password": "",
            "starttls": False,
            "timeout": 5,
        }


def running_sink(configure: Callable[[dict[str, object]], None]) -> SmtpSink:
    sink = SmtpSink()
    sink.start()
    configure(sink.settings_value())
    return sink
