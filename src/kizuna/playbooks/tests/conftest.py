"""Fixtures of the CTA tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

# The REST API clients (an admin key's `api`, `make_token` for other roles).
from kizuna.api.tests.conftest import api, csm_api, make_token, viewer_api  # noqa: F401
from kizuna.core import events


@pytest.fixture(autouse=True)
def _tasks_run_immediately(settings):
    settings.TASKS = {"default": {"BACKEND": "django.tasks.backends.immediate.ImmediateBackend"}}


@pytest.fixture
def received(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[events.DomainEvent]]:
    """The domain events published during the test (instead of the real subscribers)."""
    seen: list[events.DomainEvent] = []
    monkeypatch.setattr(events, "_SUBSCRIBERS", [seen.extend])
    yield seen
