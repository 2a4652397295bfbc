"""Roles are enforced on the server for every page and action."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from kizuna.customers.models import Account
from kizuna.customers.tests.factories import AccountFactory

pytestmark = pytest.mark.django_db


def test_anonymous_visitors_are_sent_to_sign_in(client: Client) -> None:
    response = client.get(reverse("customers:accounts"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("core:login"))


def test_viewer_reads_accounts(viewer_client: Client) -> None:
    account = AccountFactory.create()
    assert viewer_client.get(reverse("customers:account", args=[account.pk])).status_code == 200


def test_viewer_cannot_edit_an_account(viewer_client: Client) -> None:
    account = AccountFactory.create(name="変更前")
    url = reverse("customers:account_edit", args=[account.pk])
    response = viewer_client.post(url, {"name": "変更後", "industry": "other", "stage": "adoption"})
    assert response.status_code == 403
    account.refresh_from_db()
    assert account.name == "変更前"


def test_forbidden_action_renders_the_403_page(viewer_client: Client) -> None:
    response = viewer_client.get(reverse("customers:account_new"))
    assert response.status_code == 403
    assert "not allowed" in response.content.decode()


def test_viewer_cannot_log_a_touchpoint(viewer_client: Client) -> None:
    account = AccountFactory.create()
    url = reverse("customers:touchpoint_log", args=[account.pk])
    response = viewer_client.post(url, {"kind": "call", "subject": "x"})
    assert response.status_code == 403
    assert account.touchpoints.count() == 0


def test_csm_cannot_change_tier_thresholds(csm_client: Client) -> None:
    response = csm_client.post(
        reverse("customers:tiers"), {"high_touch_min_arr": "1", "low_touch_min_arr": "0"}
    )
    assert response.status_code == 403


def test_csm_cannot_delete_an_account(csm_client: Client) -> None:
    account = AccountFactory.create()
    response = csm_client.post(reverse("customers:account_delete", args=[account.pk]))
    assert response.status_code == 403
    assert Account.objects.filter(pk=account.pk).exists()


def test_only_admins_manage_users(manager_client: Client) -> None:
    assert manager_client.get(reverse("core:users")).status_code == 403
    assert manager_client.get(reverse("core:user_new")).status_code == 403


def test_manager_reads_the_audit_log(manager_client: Client) -> None:
    assert manager_client.get(reverse("core:audit")).status_code == 200


def test_csm_cannot_read_the_audit_log(csm_client: Client) -> None:
    assert csm_client.get(reverse("core:audit")).status_code == 403


def test_unknown_account_gives_the_404_page(csm_client: Client) -> None:
    response = csm_client.get(reverse("customers:account", args=[999999]))
    assert response.status_code == 404
    assert "Page not found" in response.content.decode()
