"""API keys: only a hash is stored, the key acts as a service user with its role, and
revoked, expired or wrong keys are refused with 401."""

from __future__ import annotations

import datetime
import hashlib

import pytest
from django.test import Client
from django.utils import timezone

from kizuna.api import services
from kizuna.api.models import ApiKey
from kizuna.api.tests.conftest import ApiClient
from kizuna.core.models import AuditEntry, Role, User
from kizuna.customers.forms import staff_choices
from kizuna.customers.tests.factories import AccountFactory

pytestmark = pytest.mark.django_db


def test_only_a_hash_of_the_secret_is_stored() -> None:
    key, token = services.create_api_key(None, name="CRM", role=Role.CSM)

    prefix, secret = token.removeprefix("kz_").split("_", 1)
    stored = ApiKey.objects.get(pk=key.pk)
    assert stored.prefix == prefix
    assert stored.secret_hash == hashlib.sha256(secret.encode()).hexdigest()
    assert secret not in str(list(ApiKey.objects.values()))
    assert len(secret) >= 40  # 256 random bits


def test_a_key_is_accepted_as_bearer_or_x_api_key(make_token) -> None:
    token = make_token(Role.VIEWER)

    bearer = Client().get("/api/v1/accounts", headers={"Authorization": f"Bearer {token}"})
    header = Client().get("/api/v1/accounts", headers={"X-API-Key": token})

    assert bearer.status_code == 200
    assert header.status_code == 200


def test_a_request_without_credentials_gets_401_json_not_a_login_redirect() -> None:
    response = Client().get("/api/v1/accounts")

    assert response.status_code == 401
    assert response["Content-Type"].startswith("application/json")
    assert response.json()["error"]["code"] == "not_authenticated"


@pytest.mark.parametrize(
    "token",
    ["kz_deadbeef_not-the-secret", "not-a-kizuna-key", "kz__", "kz_ab"],
)
def test_an_unknown_or_malformed_key_is_refused(make_token, token: str) -> None:
    make_token()

    response = ApiClient(token).get("/api/v1/accounts")

    assert response.status_code == 401
    assert response.json()["error"]["code"] == "invalid_api_key"


def test_the_right_prefix_with_a_wrong_secret_is_refused(make_token) -> None:
    token = make_token()
    forged = token[: token.rindex("_") + 1] + "x" * 43

    response = ApiClient(forged).get("/api/v1/accounts")

    assert response.status_code == 401


def test_a_revoked_key_is_refused() -> None:
    key, token = services.create_api_key(None, name="CRM", role=Role.ADMIN)
    services.revoke_api_key(None, key)

    response = ApiClient(token).get("/api/v1/accounts")

    assert response.status_code == 401
    assert response.json()["error"]["message"] == "The API key has been revoked."


def test_an_expired_key_is_refused() -> None:
    _key, token = services.create_api_key(
        None,
        name="CRM",
        role=Role.ADMIN,
        expires_at=timezone.now() - datetime.timedelta(seconds=1),
    )

    response = ApiClient(token).get("/api/v1/accounts")

    assert response.status_code == 401
    assert response.json()["error"]["message"] == "The API key has expired."


def test_a_viewer_key_cannot_write(viewer_api) -> None:
    response = viewer_api.post("/api/v1/accounts", {"name": "株式会社ヒカリ"})

    assert response.status_code == 403
    assert response.json()["error"]["code"] == "permission_denied"


def test_a_csm_key_writes_but_cannot_delete_accounts(csm_api) -> None:
    account = AccountFactory.create()

    assert csm_api.patch(f"/api/v1/accounts/{account.pk}", {"employees": 30}).status_code == 200
    assert csm_api.delete(f"/api/v1/accounts/{account.pk}").status_code == 403


def test_a_manager_key_deletes_accounts(make_token) -> None:
    account = AccountFactory.create()

    response = ApiClient(make_token(Role.MANAGER)).delete(f"/api/v1/accounts/{account.pk}")

    assert response.status_code == 204


def test_changes_made_with_a_key_are_audited_under_its_name() -> None:
    _key, token = services.create_api_key(None, name="Salesforce sync", role=Role.CSM)

    ApiClient(token).post("/api/v1/accounts", {"name": "株式会社ヒカリ"})

    entry = AuditEntry.objects.get(object_type="customers.account")
    assert str(entry.actor) == "API key: Salesforce sync"


def test_creating_and_revoking_a_key_are_audited(admin_client_user) -> None:
    _client, admin = admin_client_user
    key, _token = services.create_api_key(admin, name="CRM", role=Role.VIEWER)
    services.revoke_api_key(admin, key)

    entries = AuditEntry.objects.filter(object_type="api.apikey").order_by("id")
    assert [entry.action for entry in entries] == ["create", "update"]
    assert all(entry.actor == admin for entry in entries)
    assert "revoked_at" in entries[1].changes


def test_the_service_user_cannot_sign_in_or_own_accounts() -> None:
    key, _token = services.create_api_key(None, name="CRM", role=Role.CSM)
    user = User.objects.get(pk=key.user_id)

    assert not user.is_active
    assert not user.has_usable_password()
    assert not staff_choices().queryset.filter(pk=user.pk).exists()  # type: ignore[union-attr]


def test_last_used_is_written_at_most_once_a_minute(make_token) -> None:
    token = make_token()
    start = timezone.now()

    first = services.authenticate(token, now=start)
    services.authenticate(token, now=start + datetime.timedelta(seconds=30))
    after_30s = ApiKey.objects.get(pk=first.pk).last_used_at
    services.authenticate(token, now=start + datetime.timedelta(seconds=61))
    after_61s = ApiKey.objects.get(pk=first.pk).last_used_at

    assert after_30s == start
    assert after_61s == start + datetime.timedelta(seconds=61)


def test_a_key_over_its_rate_limit_gets_429_with_retry_after(make_token) -> None:
    from django.core.cache import cache

    cache.clear()
    client = ApiClient(make_token(Role.VIEWER, rate_limit_per_minute=2))

    statuses = [client.get("/api/v1/accounts").status_code for _ in range(3)]

    assert statuses == [200, 200, 429]
    limited = client.get("/api/v1/accounts")
    assert limited.json()["error"]["code"] == "rate_limited"
    assert 1 <= int(limited["Retry-After"]) <= 60


def test_a_signed_in_person_can_read_with_the_session(csm_client) -> None:
    assert csm_client.get("/api/v1/accounts").status_code == 200


def test_a_session_write_needs_the_csrf_token(csm) -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(csm)
    client.get("/")  # sets the CSRF cookie, as loading any page does
    token = client.cookies["csrftoken"].value
    body = '{"name": "株式会社ヒカリ"}'

    refused = client.post("/api/v1/accounts", body, content_type="application/json")
    accepted = client.post(
        "/api/v1/accounts", body, content_type="application/json", headers={"X-CSRFToken": token}
    )

    assert refused.status_code == 403
    assert refused.json()["error"]["code"] == "csrf_failed"
    assert accepted.status_code == 201
