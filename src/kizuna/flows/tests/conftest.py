"""Fixtures of the success-flow tests."""

from __future__ import annotations

import pytest

from kizuna.flows import actions
from kizuna.flows.tests.factories import Unavailable


@pytest.fixture
def unavailable_action(monkeypatch):
    """Register `test.unavailable`, an action whose capability is missing, for the test."""
    monkeypatch.setitem(actions._PATHS, Unavailable.key, "kizuna.flows.tests.factories:Unavailable")
    return Unavailable.key
