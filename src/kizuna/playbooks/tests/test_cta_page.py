"""The CTA page: checklist ticking, quick touchpoint logging and closing with an outcome."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from kizuna.core.models import User
from kizuna.customers.models import Touchpoint
from kizuna.customers.tests.factories import AccountFactory
from kizuna.playbooks import services
from kizuna.playbooks.tests.factories import PlaybookFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def cta(csm: User):
    PlaybookFactory.create(key="risk-play")
    account = AccountFactory.create(owner=csm, name="さくら商事")
    cta, _ = services.open_cta(
        account_id=account.pk, type="risk", reason="No login", playbook_key="risk-play"
    )
    return cta


def test_shows_reason_checklist_and_account(csm_client: Client, cta) -> None:
    response = csm_client.get(cta.get_absolute_url())

    body = response.content.decode()
    assert response.status_code == 200
    assert "No login" in body and "Call the champion" in body and "さくら商事" in body


def test_ticking_a_step_by_htmx_returns_the_row(csm_client: Client, cta) -> None:
    task = cta.tasks.first()

    response = csm_client.post(
        reverse("playbooks:task_toggle", args=[cta.pk, task.pk]), HTTP_HX_REQUEST="true"
    )

    task.refresh_from_db()
    assert task.done_at is not None
    assert 'aria-checked="true"' in response.content.decode()


def test_logging_a_touchpoint_with_a_rating(csm_client: Client, csm: User, cta) -> None:
    response = csm_client.post(
        reverse("playbooks:cta_touchpoint", args=[cta.pk]),
        {"kind": "call", "subject": "Called the champion", "rating": "good"},
        HTTP_HX_REQUEST="true",
    )

    touchpoint = Touchpoint.objects.get()
    assert (touchpoint.account_id, touchpoint.rating, touchpoint.author_id) == (
        cta.account_id,
        "good",
        csm.pk,
    )
    assert "Called the champion" in response.content.decode()


def test_a_touchpoint_without_subject_is_refused(csm_client: Client, cta) -> None:
    response = csm_client.post(
        reverse("playbooks:cta_touchpoint", args=[cta.pk]), {"kind": "call"}, HTTP_HX_REQUEST="true"
    )

    assert not Touchpoint.objects.exists()
    assert "form-errors" in response.content.decode()


def test_closing_with_an_outcome(csm_client: Client, cta) -> None:
    csm_client.post(
        reverse("playbooks:cta_close", args=[cta.pk]), {"status": "done", "outcome": "resolved"}
    )

    cta.refresh_from_db()
    assert (cta.status, cta.outcome) == ("done", "resolved")


def test_closing_without_outcome_changes_nothing(csm_client: Client, cta) -> None:
    csm_client.post(reverse("playbooks:cta_close", args=[cta.pk]), {"status": "done"})

    cta.refresh_from_db()
    assert cta.status == "open"


def test_creating_a_cta_by_hand(csm_client: Client, csm: User) -> None:
    account = AccountFactory.create(owner=csm)

    response = csm_client.post(
        reverse("playbooks:cta_new"),
        {"account": account.pk, "type": "expansion", "reason": "Asked for more seats"},
    )

    cta = account.ctas.get()
    assert response.status_code == 302 and response["Location"] == cta.get_absolute_url()
    assert (cta.owner_id, cta.source, cta.created_by_id) == (csm.pk, "manual", csm.pk)


def test_the_account_panel_lists_open_ctas(csm_client: Client, cta) -> None:
    response = csm_client.get(reverse("playbooks:account_panel", args=[cta.account_id]))

    assert "No login" in response.content.decode()
    assert f"?account={cta.account_id}" in response.content.decode()


def test_all_pages_render(manager_client: Client, cta) -> None:
    for name in ("work", "team", "playbooks", "rules", "cta_new", "playbook_new", "rule_new"):
        assert manager_client.get(reverse(f"playbooks:{name}")).status_code == 200, name
    assert manager_client.get(cta.get_absolute_url()).status_code == 200
