"""The suppression list page: everyone reads, searches and exports it; managers and admins
add and remove addresses (audited), and removing a hard bounce asks first."""

from __future__ import annotations

import pytest

from kizuna.core.models import AuditEntry
from kizuna.engagement.models import Suppression

pytestmark = pytest.mark.django_db

LIST = "/tech-touch/suppressions/"


def _add(email: str, reason: str = "manual", detail: str = "") -> Suppression:
    return Suppression.objects.create(email=email, reason=reason, detail=detail)


def test_the_list_shows_the_addresses(viewer_client):
    _add("a@example.jp", "hard_bounce")
    response = viewer_client.get(LIST)
    assert response.status_code == 200
    assert "a@example.jp" in response.content.decode()


def test_the_list_is_searched_by_address(viewer_client):
    _add("sato@example.jp")
    _add("tanaka@example.jp")
    body = viewer_client.get(LIST, {"q": "sato"}).content.decode()
    assert "sato@example.jp" in body
    assert "tanaka@example.jp" not in body


def test_the_list_is_filtered_by_reason(viewer_client):
    _add("sato@example.jp", "hard_bounce")
    _add("tanaka@example.jp", "unsubscribed")
    body = viewer_client.get(LIST, {"reason": "unsubscribed"}).content.decode()
    assert "tanaka@example.jp" in body
    assert "sato@example.jp" not in body


def test_a_viewer_sees_no_add_form(viewer_client):
    assert 'id="suppression-add"' not in viewer_client.get(LIST).content.decode()


@pytest.mark.parametrize("who", ["viewer_client", "csm_client"])
def test_only_managers_and_admins_add_addresses(request, who):
    client = request.getfixturevalue(who)
    response = client.post(LIST + "add/", {"email": "x@example.jp", "reason": "manual"})
    assert response.status_code == 403
    assert not Suppression.objects.exists()


def test_a_manager_adds_an_address_with_a_reason_and_it_is_audited(manager_client):
    response = manager_client.post(
        LIST + "add/", {"email": " Sato@Example.JP ", "reason": "manual", "detail": "電話で依頼"}
    )
    assert response.status_code == 302
    row = Suppression.objects.get()
    assert (row.email, row.reason, row.detail) == ("sato@example.jp", "manual", "電話で依頼")
    assert AuditEntry.objects.filter(object_type="engagement.suppression", action="create").exists()


def test_an_address_already_on_the_list_is_refused_by_name(manager_client):
    _add("sato@example.jp", "hard_bounce")
    response = manager_client.post(LIST + "add/", {"email": "sato@example.jp", "reason": "manual"})
    assert response.status_code == 400
    assert "already on the suppression list" in response.content.decode()
    assert Suppression.objects.get().reason == "hard_bounce"


def test_an_invalid_address_is_refused(manager_client):
    response = manager_client.post(LIST + "add/", {"email": "not-an-address", "reason": "manual"})
    assert response.status_code == 400
    assert not Suppression.objects.exists()


def test_a_csm_cannot_remove_an_address(csm_client):
    row = _add("sato@example.jp")
    assert csm_client.post(f"{LIST}{row.pk}/remove/").status_code == 403
    assert Suppression.objects.exists()


def test_a_manager_removes_an_address_and_it_is_audited(manager_client):
    row = _add("sato@example.jp", "unsubscribed")
    response = manager_client.post(f"{LIST}{row.pk}/remove/")
    assert response.status_code == 302
    assert not Suppression.objects.exists()
    assert AuditEntry.objects.filter(
        object_type="engagement.suppression", action="delete", object_id=str(row.pk)
    ).exists()


def test_removing_a_hard_bounce_asks_for_a_confirmation_first(manager_client):
    row = _add("sato@example.jp", "hard_bounce")
    response = manager_client.post(f"{LIST}{row.pk}/remove/")
    assert response.status_code == 400
    assert 'id="confirm-remove"' in response.content.decode()
    assert Suppression.objects.exists()


def test_a_confirmed_hard_bounce_is_removed(manager_client):
    row = _add("sato@example.jp", "hard_bounce")
    response = manager_client.post(f"{LIST}{row.pk}/remove/", {"confirm": "yes"})
    assert response.status_code == 302
    assert not Suppression.objects.exists()


def test_the_list_is_exported_as_csv_with_its_filters(viewer_client):
    _add("sato@example.jp", "hard_bounce", "550 user unknown")
    _add("tanaka@example.jp", "unsubscribed")
    response = viewer_client.get(LIST + "export/", {"reason": "hard_bounce"})
    assert response["Content-Type"].startswith("text/csv")
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    lines = text.strip().splitlines()
    assert lines[0] == "email,reason,detail,added_at,added_by"
    assert lines[1].startswith("sato@example.jp,hard_bounce,550 user unknown,")
    assert len(lines) == 2
