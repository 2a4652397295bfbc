"""A CSM moves an account's stage by hand from its page, saying why; the move is recorded
with who and why, restarts the time in stage, and is refused without a reason."""

from __future__ import annotations

import datetime

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from kizuna.core.models import AuditEntry, DirtyAccount
from kizuna.customers.tests.factories import AccountFactory
from kizuna.lifecycle.choices import StageChangeSource
from kizuna.lifecycle.models import StageChange

pytestmark = pytest.mark.django_db

LONG_AGO = timezone.localdate() - datetime.timedelta(days=40)


def _move(client: Client, account_id: int, **data: str):
    return client.post(reverse("lifecycle:account_stage", args=[account_id]), data)


def test_a_csm_moves_the_stage_with_a_reason(csm, csm_client):
    account = AccountFactory.create(stage="onboarding", stage_entered_on=LONG_AGO)

    response = _move(csm_client, account.pk, stage="adoption", reason="キックオフ完了")

    assert response.status_code == 302
    account.refresh_from_db()
    assert (account.stage, account.stage_entered_on) == ("adoption", timezone.localdate())
    change = StageChange.objects.get(account=account)
    assert (change.from_stage, change.to_stage, change.source, change.actor, change.reason) == (
        "onboarding",
        "adoption",
        StageChangeSource.MANUAL,
        csm,
        "キックオフ完了",
    )


def test_the_move_is_audited_marks_the_account_and_publishes_stage_changed(csm_client, published):
    account = AccountFactory.create(stage="onboarding")

    _move(csm_client, account.pk, stage="adoption", reason="done")

    assert AuditEntry.objects.filter(account_id=account.pk, changes__has_key="stage").exists()
    assert DirtyAccount.objects.filter(account_id=account.pk).exists()
    assert [event.type for event in published] == ["stage.changed"]


def test_htmx_gets_the_panel_back_with_the_new_history(csm_client):
    account = AccountFactory.create(stage="value")

    response = csm_client.post(
        reverse("lifecycle:account_stage", args=[account.pk]),
        {"stage": "renewal", "reason": "更新交渉を前倒し"},
        HTTP_HX_REQUEST="true",
    )

    html = response.content.decode()
    assert 'id="lifecycle-panel"' in html
    assert "更新交渉を前倒し" in html


def test_a_move_without_a_reason_is_refused_and_nothing_changes(csm_client):
    account = AccountFactory.create(stage="onboarding", stage_entered_on=LONG_AGO)

    response = _move(csm_client, account.pk, stage="adoption", reason="  ")

    assert "This field is required." in response.content.decode()
    account.refresh_from_db()
    assert (account.stage, account.stage_entered_on) == ("onboarding", LONG_AGO)
    assert not StageChange.objects.exists()


def test_a_viewer_cannot_move_a_stage(viewer_client):
    account = AccountFactory.create(stage="onboarding")

    response = _move(viewer_client, account.pk, stage="adoption", reason="x")

    assert response.status_code == 403
    assert not StageChange.objects.exists()


def test_the_panel_shows_the_history_with_who_and_why(csm_client):
    account = AccountFactory.create(stage="onboarding")
    _move(csm_client, account.pk, stage="adoption", reason="管理者研修が完了")

    html = csm_client.get(reverse("lifecycle:account_panel", args=[account.pk])).content.decode()

    assert "管理者研修が完了" in html
    assert 'id="stage-move-form"' in html


def test_a_viewer_sees_the_panel_without_the_form(viewer_client):
    account = AccountFactory.create()

    html = viewer_client.get(reverse("lifecycle:account_panel", args=[account.pk])).content.decode()

    assert 'id="lifecycle-panel"' in html
    assert 'id="stage-move-form"' not in html
