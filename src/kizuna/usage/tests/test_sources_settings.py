"""The data sources settings page: who may use it, write keys shown once, disabling and
rotating keys, and what counts as a login."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from kizuna.core.models import AuditEntry
from kizuna.usage.models import Event, Source, UsageSettings
from kizuna.usage.tests.helpers import post, track

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("fixture", ["csm_client", "viewer_client"])
def test_only_managers_and_admins_see_sources(request, fixture):
    client = request.getfixturevalue(fixture)

    assert client.get(reverse("usage:sources")).status_code == 403
    assert client.post(reverse("usage:source_new"), {"name": "x"}).status_code == 403
    assert not Source.objects.exists()


def test_manager_sees_the_page_and_the_sidebar_entry(manager_client: Client):
    response = manager_client.get(reverse("usage:sources"))

    assert response.status_code == 200
    assert f'href="{reverse("usage:sources")}"' in response.text
    assert "No data sources yet" in response.text


def test_creating_a_source_shows_its_key_once(manager_client: Client):
    response = manager_client.post(reverse("usage:source_new"), {"name": "Web app"})

    key = response.context["write_key"]
    source = Source.objects.get()
    assert key in response.text and "kizuna.load(" in response.text
    assert response["Cache-Control"] == "no-store"
    assert source.key_hash == Source.hash_key(key) and key not in source.key_hash
    assert key not in manager_client.get(reverse("usage:sources")).text
    assert AuditEntry.objects.filter(object_type="usage.source", action="create").exists()


def test_the_new_key_works(manager_client: Client):
    key = manager_client.post(reverse("usage:source_new"), {"name": "Web app"}).context["write_key"]

    response = post(Client(), "/v1/track", track("u", "A"), key=key)

    assert response.status_code == 200


def test_a_source_needs_a_name(manager_client: Client):
    response = manager_client.post(reverse("usage:source_new"), {"name": ""})

    assert response.status_code == 400
    assert not Source.objects.exists()


def test_disabling_refuses_its_calls(admin_client_user, write_key):
    client, _admin = admin_client_user
    source = Source.objects.get()

    client.post(reverse("usage:source_enabled", args=[source.pk]), {"enabled": "0"})

    assert post(Client(), "/v1/track", track("u", "A"), key=write_key).status_code == 403
    client.post(reverse("usage:source_enabled", args=[source.pk]), {"enabled": "1"})
    assert post(Client(), "/v1/track", track("u", "A"), key=write_key).status_code == 200


def test_rotating_retires_the_old_key(manager_client: Client, write_key):
    source = Source.objects.get()

    response = manager_client.post(reverse("usage:source_rotate", args=[source.pk]))

    new_key = response.context["write_key"]
    assert post(Client(), "/v1/track", track("u", "A"), key=write_key).status_code == 401
    assert post(Client(), "/v1/track", track("u", "B"), key=new_key).status_code == 200
    assert list(Event.objects.values_list("event", flat=True)) == ["B"]


def test_rotate_and_enable_need_post(manager_client: Client, write_key):
    source = Source.objects.get()

    assert manager_client.get(reverse("usage:source_rotate", args=[source.pk])).status_code == 405


def test_login_events_are_saved(manager_client: Client):
    response = manager_client.post(
        reverse("usage:settings"), {"login_events": "ログイン\n Logged In \n\n"}
    )

    assert response.status_code == 302
    assert UsageSettings.current().login_events == ["ログイン", "Logged In"]


@pytest.mark.parametrize(
    ("text", "error"),
    [("", "This field is required."), ("A\nA", "Each event name may appear only once.")],
)
def test_bad_login_events_are_refused(manager_client: Client, text, error):
    response = manager_client.post(reverse("usage:settings"), {"login_events": text})

    assert response.status_code == 400
    assert error in response.text
    assert UsageSettings.current().login_events == ["Logged In", "login", "Signed In"]


def test_csm_cannot_change_login_events(csm_client: Client):
    response = csm_client.post(reverse("usage:settings"), {"login_events": "x"})

    assert response.status_code == 403
