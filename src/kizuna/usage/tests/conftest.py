"""Fixtures of the usage tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from kizuna.usage import services


@pytest.fixture(autouse=True)
def _forget_cached_lookups() -> Iterator[None]:
    # Ingestion caches write keys and who a user id is for a few seconds per process; each
    # test starts from its own database, so it starts from empty caches too.
    services.forget_cached_sources()
    services.forget_cached_people()
    yield
    services.forget_cached_sources()
    services.forget_cached_people()


@pytest.fixture
def write_key(db) -> str:
    return services.create_source(None, "Web app").write_key
