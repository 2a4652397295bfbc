"""`kizuna apikey`: create prints a working key, list shows keys, revoke refuses one."""

from __future__ import annotations

import io

import pytest
from django.core.management import CommandError, call_command

from kizuna.api.models import ApiKey
from kizuna.api.tests.conftest import ApiClient
from kizuna.core.models import Role

pytestmark = pytest.mark.django_db


def _create(*args: str) -> str:
    out = io.StringIO()
    call_command("apikey", "create", *args, stdout=out, stderr=io.StringIO())
    return out.getvalue().strip()


def test_create_prints_a_key_that_works_with_its_role() -> None:
    token = _create("Salesforce sync", "--role", "viewer")

    client = ApiClient(token)
    assert client.get("/api/v1/accounts").status_code == 200
    assert client.post("/api/v1/accounts", {"name": "株式会社ヒカリ"}).status_code == 403
    assert ApiKey.objects.get().role == Role.VIEWER


def test_create_with_expiry_sets_it() -> None:
    _create("Nightly export", "--role", "csm", "--expires", "30")

    key = ApiKey.objects.get()
    assert key.expires_at is not None
    assert 29 <= (key.expires_at - key.created_at).days <= 30


def test_create_refuses_an_unknown_role() -> None:
    with pytest.raises(CommandError):
        _create("CRM", "--role", "superuser")
    assert not ApiKey.objects.exists()


def test_list_shows_prefix_status_and_name() -> None:
    token = _create("CRM", "--role", "admin")
    out = io.StringIO()

    call_command("apikey", "list", stdout=out)

    line = out.getvalue().strip()
    assert line.startswith(token[: len("kz_") + 8])
    assert "active" in line
    assert "CRM" in line


def test_revoke_refuses_the_key_from_now_on() -> None:
    token = _create("CRM", "--role", "admin")
    out = io.StringIO()

    call_command("apikey", "revoke", token.rsplit("_", 1)[0], stdout=out)

    assert "revoked" in out.getvalue()
    assert ApiClient(token).get("/api/v1/accounts").status_code == 401


def test_revoke_of_an_unknown_prefix_is_an_error() -> None:
    with pytest.raises(CommandError, match="No API key"):
        call_command("apikey", "revoke", "kz_00000000", stdout=io.StringIO())
