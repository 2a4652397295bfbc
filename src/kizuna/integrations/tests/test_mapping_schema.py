"""Mappings are validated data: only known fields, each filled by one column."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from kizuna.integrations.mapping import ColumnMap
from kizuna.integrations.models import ColumnMapping

pytestmark = pytest.mark.django_db


def test_a_valid_mapping_drops_ignored_columns() -> None:
    mapping = ColumnMap.parse({"取引先ID": "external_id", "会社名": "name", "備考": ""}, "accounts")
    assert mapping.as_json() == {"取引先ID": "external_id", "会社名": "name"}


def test_a_mapping_file_may_wrap_the_columns() -> None:
    data = {"name": "CRM", "object_type": "accounts", "columns": {"会社名": "name"}}
    assert ColumnMap.parse(data, "accounts").as_json() == {"会社名": "name"}


def test_an_unknown_field_is_refused() -> None:
    with pytest.raises(ValidationError, match="“arr” is not a field of Accounts"):
        ColumnMap.parse({"年額": "arr"}, "accounts")


def test_two_columns_for_one_field_are_refused() -> None:
    with pytest.raises(ValidationError, match="“会社名” and “企業名” both fill"):
        ColumnMap.parse({"会社名": "name", "企業名": "name"}, "accounts")


def test_a_mapping_must_be_an_object() -> None:
    with pytest.raises(ValidationError, match="JSON object"):
        ColumnMap.parse(["name"], "accounts")


def test_a_saved_mapping_is_validated_by_its_model() -> None:
    saved = ColumnMapping(name="CRM", object_type="contacts", columns={"氏名": "owner"})
    with pytest.raises(ValidationError) as raised:
        saved.full_clean()
    assert "columns" in raised.value.message_dict


def test_columns_present_only_in_the_mapping_are_reported() -> None:
    mapping = ColumnMap.parse({"取引先ID": "external_id", "会社名": "name"}, "accounts")
    assert mapping.missing(["取引先ID", "社名"]) == ["会社名"]
    assert mapping.bound(["社名", "取引先ID"]) == [(1, "取引先ID", "external_id")]
