"""Accounts through the REST API: the same validation, audit and events as the UI, lookups
by id and external id, create-or-update by external id, filters, ordering and pages."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.db import models
from django.utils import timezone

from kizuna.core.models import AuditEntry, Role
from kizuna.core.tests.factories import UserFactory
from kizuna.customers.models import Account, CustomFieldDefinition
from kizuna.customers.tests.factories import AccountFactory, SubscriptionFactory

pytestmark = pytest.mark.django_db


def test_create_returns_201_and_the_account(api) -> None:
    owner = UserFactory.create(role=Role.CSM)

    response = api.post(
        "/api/v1/accounts",
        {
            "name": "株式会社ヒカリ",
            "name_kana": "ヒカリ",
            "industry": "software",
            "employees": 120,
            "region": "kanto",
            "external_id": "SF-001",
            "owner_id": owner.pk,
        },
    )

    assert response.status_code == 201
    body = response.json()
    account = Account.objects.get(pk=body["id"])
    assert account.name == "株式会社ヒカリ"
    assert account.owner == owner
    assert body["region"] == "kanto"
    assert body["stage"] == "onboarding"  # the model's default
    assert body["arr"] == "0.00"


def test_create_is_audited(api) -> None:
    response = api.post("/api/v1/accounts", {"name": "株式会社ヒカリ"})

    entry = AuditEntry.objects.get(object_type="customers.account")
    assert entry.action == "create"
    assert entry.object_id == str(response.json()["id"])


def test_a_missing_name_is_a_422_with_the_field(api) -> None:
    response = api.post("/api/v1/accounts", {"name": "  "})

    assert response.status_code == 422
    assert response.json()["error"]["fields"] == {"name": ["This field is required."]}
    assert not Account.objects.exists()


def test_a_value_of_the_wrong_type_is_a_422_with_the_field(api) -> None:
    response = api.post("/api/v1/accounts", {"name": "株式会社ヒカリ", "employees": -1})

    assert response.status_code == 422
    assert list(response.json()["error"]["fields"]) == ["employees"]


def test_an_unknown_field_is_refused(api) -> None:
    response = api.post("/api/v1/accounts", {"name": "株式会社ヒカリ", "nmae": "typo"})

    assert response.status_code == 422
    assert "nmae" in response.json()["error"]["fields"]


def test_a_viewer_as_owner_is_refused(api) -> None:
    viewer = UserFactory.create(role=Role.VIEWER)

    response = api.post("/api/v1/accounts", {"name": "株式会社ヒカリ", "owner_id": viewer.pk})

    assert response.status_code == 422
    assert "owner_id" in response.json()["error"]["fields"]


def test_a_duplicate_external_id_is_a_409(api) -> None:
    AccountFactory.create(external_id="SF-001")

    response = api.post("/api/v1/accounts", {"name": "株式会社ヒカリ", "external_id": "SF-001"})

    assert response.status_code == 409
    assert response.json()["error"]["code"] == "conflict"
    assert "external_id" in response.json()["error"]["fields"]


def test_get_by_id_and_by_external_id(api) -> None:
    account = AccountFactory.create(external_id="SF/2024/001")

    by_id = api.get(f"/api/v1/accounts/{account.pk}")
    by_external_id = api.get("/api/v1/accounts/by-external-id/SF/2024/001")

    assert by_id.json() == by_external_id.json()
    assert by_id.json()["external_id"] == "SF/2024/001"


@pytest.mark.parametrize("path", ["/api/v1/accounts/999999", "/api/v1/accounts/by-external-id/X"])
def test_an_unknown_account_is_a_404(api, path: str) -> None:
    response = api.get(path)

    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


def test_patch_changes_only_the_fields_sent(api) -> None:
    account = AccountFactory.create(name="株式会社ヒカリ", domain="hikari.co.jp", employees=10)

    response = api.patch(f"/api/v1/accounts/{account.pk}", {"employees": 12})

    assert response.status_code == 200
    account.refresh_from_db()
    assert (account.name, account.domain, account.employees) == (
        "株式会社ヒカリ",
        "hikari.co.jp",
        12,
    )
    entry = AuditEntry.objects.get(object_type="customers.account", action="update")
    assert entry.changes == {"employees": ["10", "12"]}


def test_patch_with_nothing_changed_logs_nothing(api) -> None:
    account = AccountFactory.create()

    api.patch(f"/api/v1/accounts/{account.pk}", {"name": account.name})

    assert not AuditEntry.objects.filter(action="update").exists()


def test_custom_attributes_are_validated_merged_and_removed(api) -> None:
    CustomFieldDefinition.objects.create(key="plan", label_ja="プラン", label_en="Plan")
    CustomFieldDefinition.objects.create(
        key="seats_goal", label_ja="目標", label_en="Goal", field_type="number"
    )
    account = AccountFactory.create(custom_attributes={"plan": "A", "seats_goal": 10})

    bad = api.patch(f"/api/v1/accounts/{account.pk}", {"custom_attributes": {"seats_goal": "x"}})
    unknown = api.patch(f"/api/v1/accounts/{account.pk}", {"custom_attributes": {"nope": 1}})
    merged = api.patch(f"/api/v1/accounts/{account.pk}", {"custom_attributes": {"seats_goal": 20}})
    removed = api.patch(f"/api/v1/accounts/{account.pk}", {"custom_attributes": {"plan": None}})

    assert bad.status_code == 422
    assert "custom_attributes.seats_goal" in bad.json()["error"]["fields"]
    assert unknown.status_code == 422
    assert "custom_attributes.nope" in unknown.json()["error"]["fields"]
    assert merged.json()["custom_attributes"] == {"plan": "A", "seats_goal": 20}
    assert removed.json()["custom_attributes"] == {"seats_goal": 20}


def test_upsert_creates_then_updates_by_external_id(api) -> None:
    created = api.put("/api/v1/accounts/by-external-id/SF-777", {"name": "株式会社ヒカリ"})
    updated = api.put("/api/v1/accounts/by-external-id/SF-777", {"stage": "adoption"})

    assert created.status_code == 201
    assert updated.status_code == 200
    account = Account.objects.get()
    assert (account.external_id, account.name, account.stage) == (
        "SF-777",
        "株式会社ヒカリ",
        "adoption",
    )


def test_upsert_refuses_a_different_external_id_in_the_body(api) -> None:
    response = api.put(
        "/api/v1/accounts/by-external-id/SF-1", {"name": "株式会社ヒカリ", "external_id": "SF-2"}
    )

    assert response.status_code == 422
    assert not Account.objects.exists()


def test_delete_removes_the_account_and_is_audited(api) -> None:
    account = AccountFactory.create()

    response = api.delete(f"/api/v1/accounts/{account.pk}")

    assert response.status_code == 204
    assert not Account.objects.exists()
    assert AuditEntry.objects.filter(action="delete", object_id=str(account.pk)).exists()


def test_list_is_paginated_with_a_total(api) -> None:
    AccountFactory.create_batch(7)

    first = api.get("/api/v1/accounts", limit=3, ordering="id")
    last = api.get("/api/v1/accounts", limit=3, offset=6, ordering="id")

    assert first.json()["count"] == 7
    assert len(first.json()["results"]) == 3
    assert len(last.json()["results"]) == 1
    ids = [row["id"] for row in first.json()["results"]]
    assert ids == sorted(ids)


def test_list_orders_by_arr(api) -> None:
    small = AccountFactory.create()
    large = AccountFactory.create()
    SubscriptionFactory.create(account=small, mrr=Decimal(1000), arr=Decimal(12000))
    SubscriptionFactory.create(account=large, mrr=Decimal(9000), arr=Decimal(108000))
    from kizuna.customers import services

    services.refresh_rollups()

    response = api.get("/api/v1/accounts", ordering="-arr")

    assert [row["id"] for row in response.json()["results"]] == [large.pk, small.pk]


def test_list_filters_like_the_account_list(api) -> None:
    owner = UserFactory.create(role=Role.CSM)
    match = AccountFactory.create(
        name="株式会社サクラ物流", name_kana="サクラブツリュウ", owner=owner, stage="adoption"
    )
    AccountFactory.create(name="株式会社サクラ商事", name_kana="サクラショウジ", stage="adoption")
    AccountFactory.create(name="ミドリ精機", name_kana="ミドリセイキ", owner=owner)

    response = api.get("/api/v1/accounts", q="さくら", owner=str(owner.pk), stage="adoption")

    assert [row["id"] for row in response.json()["results"]] == [match.pk]


def test_list_filters_by_custom_attribute(api) -> None:
    CustomFieldDefinition.objects.create(key="plan", label_ja="プラン", label_en="Plan")
    match = AccountFactory.create(custom_attributes={"plan": "Enterprise"})
    AccountFactory.create(custom_attributes={"plan": "Starter"})

    response = api.get("/api/v1/accounts", custom="plan:Enterprise")
    unknown = api.get("/api/v1/accounts", custom="nope:1")

    assert [row["id"] for row in response.json()["results"]] == [match.pk]
    assert unknown.status_code == 422


def test_list_filters_by_updated_since_and_external_id(api) -> None:
    old = AccountFactory.create(external_id="SF-OLD")
    recent = AccountFactory.create(external_id="SF-NEW")
    Account.objects.filter(pk=old.pk).update(
        updated_at=timezone.now() - datetime.timedelta(days=10)
    )
    since = (timezone.now() - datetime.timedelta(days=1)).isoformat()

    by_time = api.get("/api/v1/accounts", updated_since=since)
    by_external_id = api.get("/api/v1/accounts", external_id="SF-OLD")

    assert [row["id"] for row in by_time.json()["results"]] == [recent.pk]
    assert [row["id"] for row in by_external_id.json()["results"]] == [old.pk]


def test_an_invalid_filter_is_a_422(api) -> None:
    response = api.get("/api/v1/accounts", tier="platinum")

    assert response.status_code == 422
    assert "tier" in response.json()["error"]["fields"]


def test_the_documented_defaults_are_the_models() -> None:
    from kizuna.customers.api import AccountCreate

    for name in ("industry", "stage", "name_kana", "domain"):
        field = Account._meta.get_field(name)
        assert isinstance(field, models.Field)
        assert AccountCreate.model_fields[name].default == field.get_default()


def test_a_number_custom_filter_compares_numbers(api) -> None:
    CustomFieldDefinition.objects.create(
        key="seats_goal", label_ja="目標", label_en="Goal", field_type="number"
    )

    match = AccountFactory.create(custom_attributes={"seats_goal": 12})
    AccountFactory.create(custom_attributes={"seats_goal": 13})

    assert api.get("/api/v1/accounts", custom="seats_goal:NaN").status_code == 422
    response = api.get("/api/v1/accounts", custom="seats_goal:12.0")
    assert [row["id"] for row in response.json()["results"]] == [match.pk]
