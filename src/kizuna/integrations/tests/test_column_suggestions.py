"""Columns are mapped to fields from their names, in Japanese or English."""

from __future__ import annotations

import pytest

from kizuna.customers.models import CustomFieldDefinition
from kizuna.integrations.mapping import suggest

pytestmark = pytest.mark.django_db


def test_japanese_account_headers_are_suggested() -> None:
    headers = [
        "取引先ID",
        "会社名",
        "フリガナ",
        "業種",
        "従業員数",
        "担当CSM",
        "ステージ",
        "備考欄",
    ]
    assert suggest(headers, "accounts") == {
        "取引先ID": "external_id",
        "会社名": "name",
        "フリガナ": "name_kana",
        "業種": "industry",
        "従業員数": "employees",
        "担当CSM": "owner",
        "ステージ": "stage",
    }


def test_english_headers_are_suggested_whatever_their_spelling() -> None:
    headers = ["Account ID", "Company Name", "account_owner", "LIFECYCLE STAGE", "Website"]
    assert suggest(headers, "accounts") == {
        "Account ID": "external_id",
        "Company Name": "name",
        "account_owner": "owner",
        "LIFECYCLE STAGE": "stage",
        "Website": "domain",
    }


def test_contract_headers_are_suggested() -> None:
    headers = [
        "契約ID",
        "取引先ID",
        "製品名",
        "プラン",
        "ライセンス数",
        "月額",
        "年額",
        "契約開始日",
        "更新日",
    ]
    assert suggest(headers, "subscriptions") == {
        "契約ID": "external_id",
        "取引先ID": "account_external_id",
        "製品名": "product",
        "プラン": "plan",
        "ライセンス数": "seats",
        "月額": "mrr",
        "年額": "arr",
        "契約開始日": "start_date",
        "更新日": "end_date",
    }


def test_marks_such_as_required_and_full_width_letters_do_not_matter() -> None:
    assert suggest(["会社名（必須）", "ＡＲＲ", "Ｅメール"], "subscriptions") == {"ＡＲＲ": "arr"}
    assert suggest(["氏名(必須)", "Ｅメール"], "contacts") == {
        "氏名(必須)": "name",
        "Ｅメール": "email",
    }


def test_custom_fields_are_suggested_by_key_or_label() -> None:
    CustomFieldDefinition.objects.create(
        key="contract_plan", label_ja="契約プラン", label_en="Plan"
    )
    CustomFieldDefinition.objects.create(
        key="partner", label_ja="販売パートナー", label_en="Partner"
    )
    assert suggest(["契約プラン", "partner"], "accounts") == {
        "契約プラン": "custom.contract_plan",
        "partner": "custom.partner",
    }


def test_a_field_is_suggested_for_the_first_matching_column_only() -> None:
    assert suggest(["会社名", "企業名"], "accounts") == {"会社名": "name"}


def test_an_exported_file_maps_itself() -> None:
    headers = ["external_id", "account_external_id", "name", "email", "is_champion"]
    assert suggest(headers, "contacts") == {header: header for header in headers}
