"""Fixtures of the lifecycle tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from kizuna.api import services as api_services
from kizuna.api.tests.conftest import ApiClient
from kizuna.core import events
from kizuna.core.models import Role
from kizuna.lifecycle.models import StageRule


@pytest.fixture
def no_rules(db) -> None:
    """Start without the default stage rules the migrations create."""
    StageRule.objects.all().delete()


@pytest.fixture
def published() -> Iterator[list[events.DomainEvent]]:
    """The domain events published during the test."""
    seen: list[events.DomainEvent] = []

    def record(batch):
        seen.extend(batch)

    events.subscribe(record)
    yield seen
    events._SUBSCRIBERS.remove(record)


def _api_client(role: str) -> ApiClient:
    _key, token = api_services.create_api_key(None, name=f"{role} key", role=role)
    return ApiClient(token)


@pytest.fixture
def api(db) -> ApiClient:
    """An admin key's client."""
    return _api_client(Role.ADMIN)


@pytest.fixture
def csm_api(db) -> ApiClient:
    return _api_client(Role.CSM)


@pytest.fixture
def viewer_api(db) -> ApiClient:
    return _api_client(Role.VIEWER)
