"""Fixtures of the usage tests."""

from __future__ import annotations

import pytest

from kizuna.usage import services


@pytest.fixture
def write_key(db) -> str:
    return services.create_source(None, "Web app").write_key
