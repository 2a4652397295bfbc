"""Applying an import: all of it or nothing, idempotent by external id, audited, announced as
domain events, and followed by the account rollups."""

from __future__ import annotations

import datetime
from collections.abc import Iterator
from decimal import Decimal

import pytest
from django.utils import timezone

from kizuna.core import events
from kizuna.core.models import AuditEntry
from kizuna.customers.models import (
    Account,
    Contact,
    CustomFieldDefinition,
    Touchpoint,
)
from kizuna.customers.tests.factories import AccountFactory, ContactFactory, SubscriptionFactory
from kizuna.integrations import importer, services
from kizuna.integrations.models import TouchpointExternalId
from kizuna.integrations.tests.files import csv_bytes, errors_of

pytestmark = pytest.mark.django_db

ACCOUNTS = csv_bytes(
    [
        ["取引先ID", "会社名", "フリガナ", "業種"],
        ["SF-1", "株式会社サクラ物流", "ｻｸﾗﾌﾞﾂﾘｭｳ", "物流"],
        ["SF-2", "ミドリ精機株式会社", "ミドリセイキ", "manufacturing"],
    ]
)


@pytest.fixture
def received(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[list[events.DomainEvent]]]:
    batches: list[list[events.DomainEvent]] = []
    monkeypatch.setattr(events, "_SUBSCRIBERS", [lambda batch: batches.append(list(batch))])
    yield batches


def test_apply_creates_the_rows_ready_for_search(import_file) -> None:
    job = import_file(ACCOUNTS, apply=True)
    assert (job.status, job.created_count) == ("applied", 2)
    sakura = Account.objects.get(external_id="SF-1")
    assert (sakura.name_kana, sakura.industry) == ("サクラブツリュウ", "logistics")
    assert sakura.search_text == sakura.build_search_text()
    assert Account.objects.filter(search_text__contains="さくら").get() == sakura


def test_importing_the_same_file_again_changes_nothing(import_file) -> None:
    import_file(ACCOUNTS, apply=True)
    stamps = list(Account.objects.order_by("pk").values_list("updated_at", flat=True))
    again = import_file(ACCOUNTS)
    assert (again.created_count, again.updated_count, again.unchanged_count) == (0, 0, 2)
    assert not again.can_apply
    assert list(Account.objects.order_by("pk").values_list("updated_at", flat=True)) == stamps
    assert AuditEntry.objects.count() == 2


def test_an_error_in_the_last_row_means_nothing_is_applied(import_file) -> None:
    rows = (
        [["取引先ID", "会社名"]] + [[f"SF-{n}", f"会社{n}"] for n in range(1, 50)] + [["SF-50", ""]]
    )
    job = import_file(csv_bytes(rows))
    assert (job.created_count, job.error_count) == (49, 1)
    with pytest.raises(services.ImportRefused):
        services.start_apply(job, None, inline=True)
    assert not Account.objects.exists()


def test_apply_checks_again_and_changes_nothing_if_the_data_changed(import_file) -> None:
    AccountFactory.create(external_id="SF-1")
    content = csv_bytes(
        [
            ["担当者ID", "取引先ID", "氏名"],
            ["P-1", "SF-1", "山田 太郎"],
            ["P-2", "SF-1", "鈴木 一郎"],
        ]
    )
    job = import_file(content, "contacts")
    assert job.can_apply
    Account.objects.filter(external_id="SF-1").delete()
    services.start_apply(job, None, inline=True)
    job.refresh_from_db()
    assert job.status == "failed"
    assert "changed since the dry run" in job.error_message
    assert errors_of(job)[0][2] == "No account has the external ID “SF-1”."
    assert not Contact.objects.exists()


def test_a_record_edited_while_applying_makes_the_whole_import_change_nothing(
    import_file, monkeypatch: pytest.MonkeyPatch
) -> None:
    AccountFactory.create(external_id="SF-1", name="旧社名")
    content = csv_bytes([["取引先ID", "会社名"], ["SF-1", "新社名"], ["SF-2", "新規"]])
    job = import_file(content)
    checked = importer.Planner.plan

    def plan_then_someone_edits(self, rows):
        outcome = checked(self, rows)
        Account.objects.filter(external_id="SF-1").update(updated_at=timezone.now())
        return outcome

    monkeypatch.setattr(importer.Planner, "plan", plan_then_someone_edits)
    services.start_apply(job, None, inline=True)
    job.refresh_from_db()
    assert job.status == "failed"
    assert "1 record was changed by someone else" in job.error_message
    assert list(Account.objects.values_list("name", flat=True)) == ["旧社名"]


def test_a_failure_while_writing_rolls_everything_back(import_file, monkeypatch) -> None:
    def broken_subscriber(batch):
        raise RuntimeError("webhook outbox unavailable")

    monkeypatch.setattr(events, "_SUBSCRIBERS", [broken_subscriber])
    job = import_file(ACCOUNTS, apply=True)
    assert job.status == "failed"
    assert "webhook outbox unavailable" in job.error_message
    assert not Account.objects.exists()
    assert not AuditEntry.objects.exists()


def test_changes_are_audited_under_the_person_who_applied(import_file, csm) -> None:
    AccountFactory.create(external_id="SF-1", name="旧社名", name_kana="", industry="logistics")
    import_file(ACCOUNTS, apply=True)
    update = AuditEntry.objects.get(action="update")
    assert update.actor == csm
    assert update.object_repr == "株式会社サクラ物流"
    assert update.changes["name"] == ["旧社名", "株式会社サクラ物流"]
    create = AuditEntry.objects.get(action="create")
    assert create.account_id == Account.objects.get(external_id="SF-2").pk


def test_changed_rows_are_published_as_domain_events_in_one_batch(import_file, received) -> None:
    AccountFactory.create(external_id="SF-1", name="旧社名", name_kana="", industry="logistics")
    import_file(ACCOUNTS, apply=True)
    assert len(received) == 1
    assert sorted(event.type for event in received[0]) == ["account.created", "account.updated"]
    updated = next(event for event in received[0] if event.type == "account.updated")
    assert updated.changes["name"] == ["旧社名", "株式会社サクラ物流"]
    assert all(event.object_id for event in received[0])


def test_contracts_update_the_account_arr_and_tier(import_file) -> None:
    account = AccountFactory.create(external_id="SF-1")
    end = (timezone.localdate() + datetime.timedelta(days=200)).isoformat()
    content = csv_bytes(
        [
            ["契約ID", "取引先ID", "製品", "年額", "契約開始日", "契約終了日"],
            ["C-1", "SF-1", "Kizuna Cloud", "¥6,000,000", "2025/04/01", end],
            ["C-2", "SF-1", "Kizuna Analytics", "1,200,000", "2025/04/01", end],
        ]
    )
    job = import_file(content, "subscriptions", apply=True)
    assert job.status == "applied", job.error_message
    account.refresh_from_db()
    assert (account.arr, account.mrr, account.tier) == (
        Decimal(7_200_000),
        Decimal(600_000),
        "high",
    )
    assert account.next_renewal_date == datetime.date.fromisoformat(end)


def test_moving_a_contract_refreshes_both_accounts(import_file) -> None:
    old = AccountFactory.create(external_id="SF-1")
    new = AccountFactory.create(external_id="SF-2")
    SubscriptionFactory.create(account=old, external_id="C-1", arr=Decimal(1_800_000))
    Account.objects.filter(pk=old.pk).update(arr=1_800_000)
    import_file(csv_bytes([["契約ID", "取引先ID"], ["C-1", "SF-2"]]), "subscriptions", apply=True)
    old.refresh_from_db()
    new.refresh_from_db()
    assert (old.arr, new.arr) == (0, Decimal(1_800_000))


def test_touchpoints_are_upserted_by_their_external_id(import_file) -> None:
    AccountFactory.create(external_id="SF-1")
    rows = [
        ["活動ID", "取引先ID", "種別", "日時", "件名", "評価"],
        ["T-1", "SF-1", "電話", "2025/4/1 14:30", "更新前ヒアリング", "良い"],
    ]
    first = import_file(csv_bytes(rows), "touchpoints", apply=True)
    assert first.status == "applied", (first.error_message, errors_of(first))
    touchpoint = Touchpoint.objects.get()
    assert touchpoint.occurred_at == datetime.datetime(2025, 4, 1, 5, 30, tzinfo=datetime.UTC)
    assert (touchpoint.kind, touchpoint.rating) == ("call", "good")
    assert TouchpointExternalId.objects.get().touchpoint == touchpoint
    again = import_file(csv_bytes(rows), "touchpoints")
    assert again.unchanged_count == 1
    rows[1][4] = "更新前ヒアリング（2回目）"
    import_file(csv_bytes(rows), "touchpoints", apply=True)
    assert list(Touchpoint.objects.values_list("subject", flat=True)) == [
        "更新前ヒアリング（2回目）"
    ]


def test_a_product_user_id_of_another_contact_is_refused(import_file) -> None:
    account = AccountFactory.create(external_id="SF-1")
    ContactFactory.create(account=account, external_id="P-9", product_user_id="u-100")
    content = csv_bytes(
        [["担当者ID", "取引先ID", "氏名", "ユーザーID"], ["P-1", "SF-1", "山田", "u-100"]]
    )
    job = import_file(content, "contacts")
    assert errors_of(job) == [
        (2, "ユーザーID", "“u-100” already belongs to another record (external ID “P-9”).")
    ]


def test_custom_fields_are_imported_with_their_rules(import_file) -> None:
    CustomFieldDefinition.objects.create(
        key="contract_plan",
        label_ja="契約プラン",
        label_en="Plan",
        field_type="choice",
        choices=["A", "B"],
    )
    AccountFactory.create(external_id="SF-1", custom_attributes={"contract_plan": "A"})
    AccountFactory.create(external_id="SF-2")
    content = csv_bytes([["取引先ID", "契約プラン"], ["SF-1", "B"], ["SF-2", "C"]])
    job = import_file(
        content, columns={"取引先ID": "external_id", "契約プラン": "custom.contract_plan"}
    )
    assert errors_of(job)[0][:2] == (3, "契約プラン")
    ok = import_file(csv_bytes([["取引先ID", "契約プラン"], ["SF-1", "B"]]), apply=True)
    assert ok.status == "applied"
    assert Account.objects.get(external_id="SF-1").custom_attributes == {"contract_plan": "B"}
