"""Fixtures of the milestone tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

# The REST API clients (an admin key's `api`, `make_token` for other roles).
from kizuna.api.tests.conftest import api, make_token  # noqa: F401
from kizuna.core import events
from kizuna.milestones.models import Milestone


@pytest.fixture(autouse=True)
def _no_default_milestones(db) -> None:
    """Start without the default milestones the migrations create."""
    Milestone.objects.all().delete()


@pytest.fixture
def published() -> Iterator[list[events.DomainEvent]]:
    """The domain events published during the test."""
    seen: list[events.DomainEvent] = []

    def record(batch):
        seen.extend(batch)

    events.subscribe(record)
    yield seen
    events._SUBSCRIBERS.remove(record)
