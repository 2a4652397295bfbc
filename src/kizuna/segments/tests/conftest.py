"""Fixtures of the segment tests."""

from __future__ import annotations

import pytest

# The REST API clients (an admin key's `api`, `make_token` for other roles).
from kizuna.api.tests.conftest import api, make_token  # noqa: F401


@pytest.fixture(autouse=True)
def _tasks_run_immediately(settings):
    # A saved definition recomputes its segment in a background task: run it right away.
    settings.TASKS = {"default": {"BACKEND": "django.tasks.backends.immediate.ImmediateBackend"}}
