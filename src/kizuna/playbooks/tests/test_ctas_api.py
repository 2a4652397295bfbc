"""/api/v1/ctas and /api/v1/playbooks: CRUD with open_cta semantics and role checks."""

from __future__ import annotations

import pytest

from kizuna.customers.tests.factories import AccountFactory
from kizuna.playbooks.models import Cta
from kizuna.playbooks.tests.factories import CtaFactory, PlaybookFactory

pytestmark = pytest.mark.django_db


def test_create_read_update_delete(api) -> None:
    PlaybookFactory.create(key="risk-play")
    account = AccountFactory.create()

    created = api.post(
        "/api/v1/ctas",
        {
            "account_id": account.pk,
            "type": "risk",
            "reason": "No login",
            "playbook_key": "risk-play",
        },
    )
    assert created.status_code == 201, created.json()
    body = created.json()
    assert (
        body["source"] == "api" and len(body["tasks"]) == 2 and body["playbook_key"] == "risk-play"
    )
    cta_id = body["id"]

    assert api.get(f"/api/v1/ctas/{cta_id}").json()["reason"] == "No login"
    listed = api.get("/api/v1/ctas", account_id=account.pk, open="true").json()
    assert [row["id"] for row in listed["results"]] == [cta_id]

    patched = api.patch(
        f"/api/v1/ctas/{cta_id}", {"priority": "low", "status": "done", "outcome": "resolved"}
    )
    assert patched.status_code == 200, patched.json()
    assert (patched.json()["priority"], patched.json()["status"], patched.json()["outcome"]) == (
        "low",
        "done",
        "resolved",
    )

    assert api.delete(f"/api/v1/ctas/{cta_id}").status_code == 204
    assert not Cta.objects.exists()


def test_an_open_duplicate_is_a_409_naming_it(api) -> None:
    cta = CtaFactory.create(reason="No login")

    response = api.post(
        "/api/v1/ctas", {"account_id": cta.account_id, "type": "risk", "reason": "No login"}
    )

    assert response.status_code == 409
    assert str(cta.pk) in response.json()["error"]["message"]


def test_the_same_source_key_returns_the_first_cta(api) -> None:
    account = AccountFactory.create()
    payload = {"account_id": account.pk, "type": "risk", "reason": "x", "source_key": "crm:42"}

    first = api.post("/api/v1/ctas", payload)
    again = api.post("/api/v1/ctas", payload)

    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json()["id"] == again.json()["id"]


def test_closing_without_outcome_is_a_422_and_changes_nothing(api) -> None:
    cta = CtaFactory.create()

    response = api.patch(f"/api/v1/ctas/{cta.pk}", {"priority": "low", "status": "done"})

    assert response.status_code == 422
    assert "outcome" in response.json()["error"]["fields"]
    cta.refresh_from_db()
    assert (cta.priority, cta.status) == ("medium", "open")


def test_unknown_account_is_a_422(api) -> None:
    response = api.post("/api/v1/ctas", {"account_id": 999999, "type": "risk", "reason": "x"})

    assert response.status_code == 422
    assert "account_id" in response.json()["error"]["fields"]


def test_a_viewer_reads_but_cannot_write(viewer_api) -> None:
    cta = CtaFactory.create()

    assert viewer_api.get("/api/v1/ctas").status_code == 200
    assert (
        viewer_api.post(
            "/api/v1/ctas", {"account_id": cta.account_id, "type": "risk", "reason": "y"}
        ).status_code
        == 403
    )
    assert viewer_api.patch(f"/api/v1/ctas/{cta.pk}", {"priority": "low"}).status_code == 403


def test_a_csm_works_ctas_but_cannot_delete_or_write_playbooks(csm_api) -> None:
    cta = CtaFactory.create()

    assert (
        csm_api.patch(
            f"/api/v1/ctas/{cta.pk}", {"status": "snoozed", "snoozed_until": "2999-01-01"}
        ).status_code
        == 422
    )
    assert csm_api.delete(f"/api/v1/ctas/{cta.pk}").status_code == 403
    assert csm_api.post("/api/v1/playbooks", {"key": "x", "name": "X"}).status_code == 403


def test_playbooks_read_and_write(api) -> None:
    created = api.post(
        "/api/v1/playbooks",
        {
            "key": "qbr",
            "name": "Quarterly review",
            "cta_type": "lifecycle",
            "steps": [{"title": "Prepare", "due_offset_days": 3}],
        },
    )
    assert created.status_code == 201, created.json()
    assert created.json()["steps"] == [{"title": "Prepare", "guidance": "", "due_offset_days": 3}]

    bad = api.patch("/api/v1/playbooks/qbr", {"steps": [{"title": ""}]})
    assert bad.status_code == 422
    assert "steps[1].title" in bad.json()["error"]["fields"]

    assert api.get("/api/v1/playbooks/qbr").json()["name"] == "Quarterly review"
    assert api.post("/api/v1/playbooks", {"key": "qbr", "name": "Again"}).status_code == 409
    assert api.delete("/api/v1/playbooks/qbr").status_code == 204
