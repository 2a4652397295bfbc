"""Emails and the suppression list in the REST API: an account's and a contact's emails with
their events; read, add and remove suppressed addresses (managers and admins change them)."""

from __future__ import annotations

import pytest
from django.contrib.auth.decorators import login_not_required
from django.urls import URLPattern, include, path
from ninja import NinjaAPI

from kizuna.api import services as api_services
from kizuna.api.api import api as site_api
from kizuna.api.auth import AUTH
from kizuna.api.tests.conftest import ApiClient
from kizuna.core.models import AuditEntry, Role
from kizuna.customers.tests.factories import ContactFactory
from kizuna.engagement import tracking
from kizuna.engagement.api_tracking import router
from kizuna.engagement.models import Suppression
from kizuna.engagement.tests.factories import sent_email

# The router on an API of its own, with the site API's authentication and error bodies, so
# these tests do not depend on where the router is mounted.
_api = NinjaAPI(auth=AUTH, urls_namespace="engagement-tracking-api-test")
for _exc, _handler in site_api._exception_handlers.items():
    _api.add_exception_handler(_exc, _handler)
_api.add_router("", router)
_patterns, _app, _namespace = _api.urls
for _pattern in _patterns:
    if isinstance(_pattern, URLPattern):
        # As the site's API does: it answers 401 itself, never a sign-in redirect.
        _pattern.callback = login_not_required(_pattern.callback)
urlpatterns = [path("api/v1/", include((_patterns, _app), namespace=_namespace))]

pytestmark = [pytest.mark.django_db, pytest.mark.urls(__name__)]


def _client(role: str) -> ApiClient:
    _key, token = api_services.create_api_key(None, name=f"Tracking {role}", role=role)
    return ApiClient(token)


@pytest.fixture
def api() -> ApiClient:
    return _client(Role.ADMIN)


def test_an_accounts_emails_are_listed_with_their_events(api):
    contact = ContactFactory.create()
    message = sent_email(contact, links=[{"url": "https://example.jp/", "text": "x"}])
    tracking.record_click(message.token, 0)
    body = api.get(f"/api/v1/accounts/{contact.account_id}/emails").json()
    assert body["count"] == 1
    [row] = body["results"]
    assert row["status"] == "sent"
    assert row["furthest"] == "clicked"
    assert row["contact"] == {"id": contact.pk, "name": contact.name}
    assert [event["kind"] for event in row["events"]] == ["opened", "clicked"]
    assert row["events"][1]["url"] == "https://example.jp/"


def test_a_contacts_emails_are_filtered_by_status(api):
    contact = ContactFactory.create()
    sent_email(contact)
    sent_email(contact, status="held", sent_at=None, reason="frequency_cap")
    body = api.get(f"/api/v1/contacts/{contact.pk}/emails", status="held").json()
    assert [row["reason"] for row in body["results"]] == ["frequency_cap"]


def test_an_unknown_account_is_not_found(api):
    assert api.get("/api/v1/accounts/999999/emails").status_code == 404


def test_the_suppression_list_is_read_and_searched(api):
    Suppression.objects.create(email="sato@example.jp", reason="hard_bounce")
    Suppression.objects.create(email="tanaka@example.jp", reason="unsubscribed")
    body = api.get("/api/v1/suppressions", q="sato").json()
    assert [row["email"] for row in body["results"]] == ["sato@example.jp"]


def test_an_address_is_added_and_audited(api):
    response = api.post("/api/v1/suppressions", {"email": "Sato@example.jp", "detail": "依頼"})
    assert response.status_code == 201
    assert response.json()["reason"] == "manual"
    assert Suppression.objects.get().email == "sato@example.jp"
    assert AuditEntry.objects.filter(object_type="engagement.suppression").exists()


def test_a_duplicate_address_is_a_conflict(api):
    Suppression.objects.create(email="sato@example.jp", reason="hard_bounce")
    response = api.post("/api/v1/suppressions", {"email": "sato@example.jp"})
    assert response.status_code == 409


def test_an_invalid_address_names_the_field(api):
    response = api.post("/api/v1/suppressions", {"email": "nope"})
    assert response.status_code == 422
    assert "email" in response.json()["error"]["fields"]


def test_a_csm_key_cannot_change_the_list(api):
    response = _client(Role.CSM).post("/api/v1/suppressions", {"email": "sato@example.jp"})
    assert response.status_code == 403
    assert not Suppression.objects.exists()


def test_an_address_is_removed(api):
    row = Suppression.objects.create(email="sato@example.jp", reason="unsubscribed")
    assert api.delete(f"/api/v1/suppressions/{row.pk}").status_code == 204
    assert not Suppression.objects.exists()


def test_a_hard_bounce_is_removed_only_when_confirmed(api):
    row = Suppression.objects.create(email="sato@example.jp", reason="hard_bounce")
    assert api.delete(f"/api/v1/suppressions/{row.pk}").status_code == 409
    assert Suppression.objects.exists()
    assert api.delete(f"/api/v1/suppressions/{row.pk}?confirm=true").status_code == 204
    assert not Suppression.objects.exists()
