"""Fixtures of the engagement tests: a real SMTP server to send to."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from kizuna.engagement import inapp, sending
from kizuna.engagement.tests.smtp_sink import SmtpSink


@pytest.fixture
def smtp_sink(settings) -> Iterator[SmtpSink]:
    """A real aiosmtpd server on a free localhost port, with settings.ENGAGEMENT_SMTP
    pointed at it (no STARTTLS, no login)."""
    sink = SmtpSink()
    sink.start()
    settings.ENGAGEMENT_SMTP = sink.settings_value()
    try:
        yield sink
    finally:
        sink.stop()


@pytest.fixture(autouse=True)
def _fresh_send_schedule() -> Iterator[None]:
    # The debounced send task remembers what it enqueued in this process; each test starts
    # from nothing, like a fresh process.
    sending.schedule_send.reset()
    yield
    sending.schedule_send.reset()


@pytest.fixture(autouse=True)
def _fresh_inapp_cache() -> Iterator[None]:
    # The live in-app messages are cached per process; each test starts from the database.
    inapp.forget_cached_messages()
    yield
    inapp.forget_cached_messages()


@pytest.fixture
def write_key() -> str:
    """The write key of a tracking source, as the customer's app (and kizuna.js) uses it."""
    from kizuna.usage import services

    return services.create_source(None, "Web app").write_key
