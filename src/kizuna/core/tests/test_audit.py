"""Every change to customer data and settings is in the audit log, field by field."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from kizuna.core.models import AuditAction, AuditEntry, Role, User
from kizuna.core.tests.factories import UserFactory
from kizuna.customers.tests.factories import AccountFactory

pytestmark = pytest.mark.django_db


def _account_form(**overrides: str) -> dict[str, str]:
    data = {
        "name": "株式会社ミドリ",
        "name_kana": "ミドリ",
        "industry": "retail",
        "stage": "adoption",
    }
    data.update(overrides)
    return data


def test_creating_an_account_is_logged_with_its_values(csm: User, csm_client: Client) -> None:
    csm_client.post(reverse("customers:account_new"), _account_form())
    entry = AuditEntry.objects.get(object_type="customers.account")
    assert entry.action == AuditAction.CREATE
    assert entry.actor == csm
    assert entry.changes["name"] == ["", "株式会社ミドリ"]


def test_update_logs_each_changed_field_old_to_new(csm_client: Client) -> None:
    account = AccountFactory.create(name="株式会社ミドリ", name_kana="ミドリ", industry="retail")
    csm_client.post(
        reverse("customers:account_edit", args=[account.pk]),
        _account_form(name="株式会社アオイ", name_kana="ミドリ"),
    )
    entry = AuditEntry.objects.get(action=AuditAction.UPDATE)
    assert entry.changes["name"] == ["株式会社ミドリ", "株式会社アオイ"]
    assert entry.account_id == account.pk


def test_saving_without_changes_logs_nothing(csm_client: Client) -> None:
    account = AccountFactory.create(
        name="株式会社ミドリ",
        name_kana="ミドリ",
        industry="retail",
        stage="adoption",
        domain="",
        external_id=None,
    )
    csm_client.post(reverse("customers:account_edit", args=[account.pk]), _account_form())
    assert not AuditEntry.objects.filter(action=AuditAction.UPDATE).exists()


def test_account_page_shows_its_change_history(csm_client: Client) -> None:
    account = AccountFactory.create(name="株式会社ミドリ", name_kana="ミドリ", industry="retail")
    csm_client.post(
        reverse("customers:account_edit", args=[account.pk]), _account_form(name="株式会社アオイ")
    )
    page = csm_client.get(reverse("customers:account", args=[account.pk])).content.decode()
    assert "株式会社ミドリ" in page and "→" in page


def test_passwords_never_appear_in_the_log(admin_client_user) -> None:
    client, _admin = admin_client_user
    client.post(
        reverse("core:user_new"),
        {
            "username": "tanaka",
            "role": Role.CSM,
            "password": "Sakura-Butsuryu-2026",
            "is_active": "on",
        },
    )
    entry = AuditEntry.objects.get(object_type="core.user", action=AuditAction.CREATE)
    logged = str(entry.changes)
    user = User.objects.get(username="tanaka")
    assert "Sakura-Butsuryu-2026" not in logged
    assert user.password not in logged


def test_deleting_is_logged(manager_client: Client) -> None:
    account = AccountFactory.create(name="株式会社ミドリ")
    manager_client.post(reverse("customers:account_delete", args=[account.pk]))
    entry = AuditEntry.objects.get(action=AuditAction.DELETE)
    assert entry.object_repr == "株式会社ミドリ"
    assert entry.object_id == str(account.pk)


def test_log_reads_in_labels_not_codes(csm_client: Client) -> None:
    account = AccountFactory.create(name="株式会社ミドリ", name_kana="ミドリ", industry="retail")
    csm_client.post(
        reverse("customers:account_edit", args=[account.pk]),
        _account_form(stage="renewal"),
    )
    entry = AuditEntry.objects.get(action=AuditAction.UPDATE)
    assert ("lifecycle stage", "Onboarding", "Renewal") in entry.change_rows()
    assert entry.object_type_label == "account"


def test_password_change_shows_only_that_it_changed(admin_client_user) -> None:
    client, _admin = admin_client_user
    user = UserFactory.create(username="tanaka", role=Role.CSM)
    client.post(
        reverse("core:user_edit", args=[user.pk]),
        {
            "username": "tanaka",
            "role": Role.CSM,
            "password": "Minami-Kaze-2026!",
            "is_active": "on",
        },
    )
    entry = AuditEntry.objects.get(object_type="core.user", action=AuditAction.UPDATE)
    assert ("password", "", "(changed)") in entry.change_rows()
