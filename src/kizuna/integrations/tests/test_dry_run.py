"""A dry run checks every row against Kizuna's rules and data, reports what would change and
every problem, and changes nothing."""

from __future__ import annotations

import csv
import io

import pytest
from django.test import Client
from django.urls import reverse

from kizuna.core.models import AuditEntry, Role
from kizuna.core.tests.factories import UserFactory
from kizuna.customers.models import Account
from kizuna.customers.tests.factories import AccountFactory
from kizuna.integrations import services
from kizuna.integrations.tests.files import csv_bytes, errors_of

pytestmark = pytest.mark.django_db

HEADER = ["取引先ID", "会社名", "業種", "従業員数", "担当CSM"]


def test_dry_run_counts_what_would_change_and_writes_nothing(import_file) -> None:
    AccountFactory.create(external_id="SF-1", name="株式会社サクラ", industry="other")
    AccountFactory.create(
        external_id="SF-2", name="ミドリ精機", industry="manufacturing", employees=None
    )
    content = csv_bytes(
        [
            HEADER[:3],
            ["SF-1", "株式会社サクラ物流", "logistics"],
            ["SF-2", "ミドリ精機", "manufacturing"],
            ["SF-3", "アオゾラ商事", "retail"],
        ]
    )
    job = import_file(content)
    assert job.status == "validated"
    assert (job.created_count, job.updated_count, job.unchanged_count, job.error_count) == (
        1,
        1,
        1,
        0,
    )
    assert job.can_apply
    assert Account.objects.count() == 2
    assert Account.objects.get(external_id="SF-1").name == "株式会社サクラ"
    assert not AuditEntry.objects.exists()
    assert [change["action"] for change in job.sample_changes] == ["update", "create"]
    assert job.sample_changes[0]["changes"]["name"] == ["株式会社サクラ", "株式会社サクラ物流"]


def test_each_problem_names_its_row_column_and_value(import_file) -> None:
    content = csv_bytes(
        [
            HEADER,
            ["SF-1", "株式会社サクラ", "宇宙開発", "多い", ""],
            ["SF-2", "", "retail", "10", "nobody"],
        ]
    )
    job = import_file(content)
    assert job.error_count == 2
    assert not job.can_apply
    assert errors_of(job) == [
        (
            2,
            "業種",
            "Select a valid choice. 宇宙開発 is not one of the available choices. "
            "Use one of: Software & IT, Manufacturing, Retail & e-commerce, Finance & insurance, "
            "Healthcare, Logistics, Construction & real estate, Education, Public sector, "
            "Media & advertising, Hospitality & food, Professional services, Other.",
        ),
        (2, "従業員数", "Enter a whole number."),
        (
            3,
            "担当CSM",
            "No active CSM, manager or admin is called “nobody” (give a user name, an e-mail "
            "address or a display name).",
        ),
        (3, "会社名", "This field is required."),
    ]
    assert job.row_errors.get(row_number=2, column="業種").value == "宇宙開発"


def test_owners_are_found_by_user_name_email_or_display_name(import_file) -> None:
    UserFactory.create(username="hanako", email="hanako@example.jp", display_name="佐藤 花子")
    UserFactory.create(username="miru", role=Role.VIEWER, display_name="見留")
    content = csv_bytes(
        [
            HEADER,
            ["SF-1", "A社", "", "", "hanako"],
            ["SF-2", "B社", "", "", "HANAKO@example.jp"],
            ["SF-3", "C社", "", "", "佐藤花子"],
            ["SF-4", "D社", "", "", "miru"],
        ]
    )
    job = import_file(content)
    assert errors_of(job) == [
        (
            5,
            "担当CSM",
            "No active CSM, manager or admin is called “miru” (give a user name, an e-mail "
            "address or a display name).",
        )
    ]


def test_duplicate_external_ids_in_one_file_are_errors_on_every_row(import_file) -> None:
    content = csv_bytes([HEADER[:2], ["SF-1", "A社"], ["SF-2", "B社"], ["SF-1", "C社"]])
    job = import_file(content)
    assert errors_of(job) == [
        (2, "取引先ID", "External ID “SF-1” is in more than one row of this file (rows 2, 4)."),
        (4, "取引先ID", "External ID “SF-1” is in more than one row of this file (rows 2, 4)."),
    ]
    assert job.created_count == 1


def test_a_row_without_external_id_is_an_error(import_file) -> None:
    job = import_file(csv_bytes([HEADER[:2], ["", "A社"]]))
    assert errors_of(job)[0][:2] == (2, "取引先ID")


def test_a_missing_external_id_column_is_a_file_problem(import_file) -> None:
    job = import_file(csv_bytes([["会社名"], ["A社"]]))
    assert "No column is mapped to “CRM / external ID”" in job.error_message
    assert not job.can_apply


def test_a_missing_required_column_is_a_file_problem_when_rows_create(import_file) -> None:
    job = import_file(csv_bytes([["取引先ID", "業種"], ["SF-1", "retail"], ["SF-2", "retail"]]))
    assert job.error_message.startswith("No column is mapped to “name”, which the 2 rows that")
    assert job.error_count == 0
    assert not job.can_apply


def test_an_update_may_leave_out_required_columns_and_keeps_other_values(import_file, csm) -> None:
    account = AccountFactory.create(external_id="SF-1", name="株式会社サクラ", industry="retail")
    job = import_file(csv_bytes([["取引先ID", "担当CSM"], ["SF-1", csm.username]]), apply=True)
    assert job.status == "applied", job.error_message
    account.refresh_from_db()
    assert (account.name, account.industry, account.owner) == ("株式会社サクラ", "retail", csm)


def test_rows_of_related_objects_must_name_an_existing_account(import_file) -> None:
    AccountFactory.create(external_id="SF-1")
    content = csv_bytes(
        [
            ["担当者ID", "取引先ID", "氏名"],
            ["P-1", "SF-1", "山田 太郎"],
            ["P-2", "SF-9", "鈴木 一郎"],
        ]
    )
    job = import_file(content, "contacts")
    assert errors_of(job) == [(3, "取引先ID", "No account has the external ID “SF-9”.")]


def test_all_problems_download_as_csv(import_file, csm_client: Client) -> None:
    job = import_file(csv_bytes([HEADER[:3], ["SF-1", "A社", "宇宙"], ["SF-2", "", "retail"]]))
    response = csm_client.get(reverse("integrations:import_errors", args=[job.pk]))
    text = response.content.decode("utf-8")
    assert response["Content-Type"].startswith("text/csv")
    assert text.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))
    assert rows[0] == ["Row", "Column", "Value", "Problem"]
    assert [row[:3] for row in rows[1:]] == [["2", "業種", "宇宙"], ["3", "会社名", ""]]


def test_problems_are_written_in_the_language_of_the_person_importing(csm) -> None:
    job = services.upload(
        csm, "accounts", "a.csv", csv_bytes([HEADER[:2], ["SF-1", ""]]), language="ja"
    )
    services.start_dry_run(job, inline=True)
    assert errors_of(job)[0][2] == "この項目は必須です。"
