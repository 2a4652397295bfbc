"""Fixtures for the REST API and webhook tests."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client

from kizuna.api import services
from kizuna.core.models import Role


class ApiClient:
    """A test client that sends an API key and JSON bodies."""

    def __init__(self, token: str | None) -> None:
        self.client = Client()
        self.headers = {"Authorization": f"Bearer {token}"} if token else {}

    def _send(self, method: str, path: str, body: Any = None, **params: Any) -> Any:
        call = getattr(self.client, method)
        if body is None and method in ("get", "delete"):
            return call(path, params or None, headers=self.headers)
        return call(path, json.dumps(body), content_type="application/json", headers=self.headers)

    def get(self, path: str, **params: Any) -> Any:
        return self._send("get", path, **params)

    def post(self, path: str, body: Any) -> Any:
        return self._send("post", path, body)

    def patch(self, path: str, body: Any) -> Any:
        return self._send("patch", path, body)

    def put(self, path: str, body: Any) -> Any:
        return self._send("put", path, body)

    def delete(self, path: str) -> Any:
        return self._send("delete", path)


@pytest.fixture
def make_token(db) -> Callable[..., str]:
    def make(role: str = Role.ADMIN, name: str = "Test integration", **options: Any) -> str:
        _key, token = services.create_api_key(None, name=name, role=role, **options)
        return token

    return make


@pytest.fixture
def api(make_token) -> ApiClient:
    """An admin key's client."""
    return ApiClient(make_token(Role.ADMIN))


@pytest.fixture
def csm_api(make_token) -> ApiClient:
    return ApiClient(make_token(Role.CSM))


@pytest.fixture
def viewer_api(make_token) -> ApiClient:
    return ApiClient(make_token(Role.VIEWER))


@pytest.fixture
def receiver():
    from kizuna.api.tests.receiver import run_receiver

    with run_receiver() as running:
        yield running
