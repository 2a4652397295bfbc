"""Exports carry the columns an import takes, so an exported file imports again unchanged."""

from __future__ import annotations

import csv
import io

import pytest
from django.test import Client
from django.urls import reverse
from openpyxl import load_workbook

from kizuna.customers.models import CustomFieldDefinition
from kizuna.customers.tests.factories import (
    AccountFactory,
    ContactFactory,
    OpportunityFactory,
    SubscriptionFactory,
    TouchpointFactory,
)
from kizuna.integrations.models import TouchpointExternalId
from kizuna.integrations.tests.files import errors_of

pytestmark = pytest.mark.django_db


@pytest.fixture
def portfolio(csm):
    CustomFieldDefinition.objects.create(
        key="contract_plan",
        label_ja="契約プラン",
        label_en="Plan",
        field_type="choice",
        choices=["A", "B"],
    )
    account = AccountFactory.create(
        external_id="SF-1",
        name="株式会社サクラ物流",
        owner=csm,
        employees=120,
        custom_attributes={"contract_plan": "B"},
    )
    AccountFactory.create(external_id="SF-2", name='=HYPERLINK("http://evil")', region="kanto")
    ContactFactory.create(
        account=account, external_id="P-1", is_champion=True, phone="03-1234-5678"
    )
    SubscriptionFactory.create(account=account, external_id="C-1")
    OpportunityFactory.create(account=account, external_id="O-1", owner=csm)
    touchpoint = TouchpointFactory.create(
        account=account, author=csm, rating="good", channel="phone"
    )
    TouchpointExternalId.objects.create(touchpoint=touchpoint, external_id="T-1")
    return account


def _csv(client: Client, object_type: str) -> list[list[str]]:
    response = client.get(reverse("integrations:export_csv", args=[object_type]))
    content = b"".join(response.streaming_content)  # type: ignore[attr-defined]
    text = content.decode("utf-8")
    assert text.startswith("\ufeff")
    return list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))


def test_accounts_export_as_csv_with_import_columns(csm_client: Client, portfolio, csm) -> None:
    rows = _csv(csm_client, "accounts")
    assert rows[0] == [
        "external_id",
        "name",
        "name_kana",
        "domain",
        "industry",
        "employees",
        "region",
        "owner",
        "stage",
        "custom.contract_plan",
        "tier",
        "arr",
        "mrr",
        "next_renewal_date",
    ]
    assert rows[1][:2] == ["SF-1", "株式会社サクラ物流"]
    assert rows[1][5] == "120"
    assert rows[1][7] == csm.username
    assert rows[1][9] == "B"


def test_excel_export_keeps_text_that_looks_like_a_formula_as_text(
    csm_client: Client, portfolio
) -> None:
    response = csm_client.get(reverse("integrations:export_xlsx", args=["accounts"]))
    content = b"".join(response.streaming_content)  # type: ignore[attr-defined]
    sheet = load_workbook(io.BytesIO(content)).worksheets[0]
    assert sheet["B3"].value == '=HYPERLINK("http://evil")'
    assert sheet["B3"].data_type == "s"


@pytest.mark.parametrize(
    "object_type", ["accounts", "contacts", "subscriptions", "opportunities", "touchpoints"]
)
@pytest.mark.parametrize("extension", ["csv", "xlsx"])
def test_an_export_imports_again_without_changes(
    csm_client: Client, portfolio, import_file, object_type: str, extension: str
) -> None:
    name = f"integrations:export_{extension}"
    response = csm_client.get(reverse(name, args=[object_type]))
    content = b"".join(response.streaming_content)  # type: ignore[attr-defined]
    job = import_file(content, object_type, name=f"export.{extension}")
    assert errors_of(job) == []
    assert job.error_message == ""
    assert (job.created_count, job.updated_count) == (0, 0)
    assert job.unchanged_count == job.rows_total > 0


def test_the_account_list_exports_what_it_shows_as_excel(csm_client: Client, portfolio) -> None:
    url = reverse("integrations:export_xlsx", args=["accounts"]) + "?q=さくら"
    content = b"".join(csm_client.get(url).streaming_content)  # type: ignore[attr-defined]
    sheet = load_workbook(io.BytesIO(content)).worksheets[0]
    values = list(sheet.values)
    assert values[0][-4:] == ("tier", "arr", "mrr", "next_renewal_date")
    assert [row[1] for row in values[1:]] == ["株式会社サクラ物流"]


def test_the_account_list_csv_imports_again_unchanged(
    csm_client: Client, portfolio, import_file
) -> None:
    response = csm_client.get(reverse("customers:accounts_export"))
    content = b"".join(response.streaming_content)  # type: ignore[attr-defined]
    job = import_file(content)
    assert job.mapping["external_id"] == "external_id"
    assert "id" not in job.mapping
    assert (job.unchanged_count, job.created_count, job.updated_count, job.error_count) == (
        2,
        0,
        0,
        0,
    )
