"""The import pages: upload, columns, dry run, apply, saved mappings — for CSMs and above."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from kizuna.core.models import AuditEntry
from kizuna.customers.models import Account
from kizuna.integrations.models import ColumnMapping, ImportJob
from kizuna.integrations.tests.files import csv_bytes, xlsx_bytes

pytestmark = pytest.mark.django_db

ROWS = [["取引先ID", "会社名", "備考"], ["SF-1", "株式会社サクラ物流", "重要"]]


def _upload(client: Client, content: bytes, name: str = "accounts.csv", **extra: str):
    return client.post(
        reverse("integrations:imports"),
        {"object_type": "accounts", "file": SimpleUploadedFile(name, content), **extra},
    )


def _mapping_post(job: ImportJob, **columns: str) -> dict[str, str]:
    data = {f"column_{index}": "" for index, _header in enumerate(job.headers)}
    data.update(columns)
    return data


def test_upload_shows_the_columns_with_suggestions(csm_client: Client) -> None:
    response = _upload(csm_client, xlsx_bytes(ROWS), "accounts.xlsx")
    job = ImportJob.objects.get()
    assert response.status_code == 302
    assert response["Location"] == job.get_absolute_url()
    page = csm_client.get(job.get_absolute_url()).content.decode()
    assert '<option value="external_id" selected>' in page
    assert '<option value="name" selected>' in page
    assert "株式会社サクラ物流" in page  # the column's first values


def test_a_file_that_cannot_be_read_is_explained_on_the_upload_form(csm_client: Client) -> None:
    response = _upload(csm_client, b'id,name\r\nSF-1,"open\r\n')
    assert response.status_code == 200
    assert "closing quote" in response.content.decode()
    assert not ImportJob.objects.exists()


def test_dry_run_then_apply_from_the_page(csm_client: Client) -> None:
    _upload(csm_client, csv_bytes(ROWS))
    job = ImportJob.objects.get()
    response = csm_client.post(
        reverse("integrations:import_dry_run", args=[job.pk]),
        _mapping_post(job, column_0="external_id", column_1="name"),
    )
    assert response.status_code == 302
    page = csm_client.get(job.get_absolute_url()).content.decode()
    assert 'id="count-created">1<' in page
    assert 'id="apply-button"' in page
    assert not Account.objects.exists()
    csm_client.post(reverse("integrations:import_apply", args=[job.pk]))
    job.refresh_from_db()
    assert job.status == "applied"
    assert Account.objects.get().name == "株式会社サクラ物流"


def test_a_mapping_can_be_saved_and_used_for_the_next_file(csm_client: Client) -> None:
    _upload(csm_client, csv_bytes(ROWS))
    first = ImportJob.objects.get()
    csm_client.post(
        reverse("integrations:import_dry_run", args=[first.pk]),
        _mapping_post(first, column_0="external_id", column_1="name", save_as="CRM export"),
    )
    saved = ColumnMapping.objects.get()
    assert (saved.name, saved.columns) == (
        "CRM export",
        {"取引先ID": "external_id", "会社名": "name"},
    )
    assert AuditEntry.objects.filter(object_type="integrations.columnmapping").exists()
    _upload(csm_client, csv_bytes(ROWS), saved_mapping=str(saved.pk))
    second = ImportJob.objects.latest("pk")
    assert (second.mapping, second.saved_mapping) == (saved.columns, saved)


def test_two_columns_for_one_field_are_refused_on_the_page(csm_client: Client) -> None:
    _upload(csm_client, csv_bytes(ROWS))
    job = ImportJob.objects.get()
    response = csm_client.post(
        reverse("integrations:import_dry_run", args=[job.pk]),
        _mapping_post(job, column_0="external_id", column_1="name", column_2="name"),
    )
    assert response.status_code == 200
    assert "both fill" in response.content.decode()
    job.refresh_from_db()
    assert job.status == "uploaded"


def test_a_saved_mapping_is_edited_and_deleted(csm_client: Client) -> None:
    saved = ColumnMapping.objects.create(
        name="CRM", object_type="accounts", columns={"会社名": "name"}
    )
    url = reverse("integrations:mapping_edit", args=[saved.pk])
    assert csm_client.get(url).status_code == 200
    response = csm_client.post(
        url,
        {
            "name": "CRM v2",
            "rows": "2",
            "column_0": "会社名",
            "target_0": "name",
            "column_1": "ID",
            "target_1": "external_id",
        },
    )
    assert response.status_code == 302
    saved.refresh_from_db()
    assert (saved.name, saved.columns) == ("CRM v2", {"会社名": "name", "ID": "external_id"})
    json_file = csm_client.get(reverse("integrations:mapping_json", args=[saved.pk]))
    assert json_file.json()["columns"] == saved.columns
    csm_client.post(reverse("integrations:mapping_delete", args=[saved.pk]))
    assert not ColumnMapping.objects.exists()


def test_viewers_cannot_import(viewer_client: Client) -> None:
    assert viewer_client.get(reverse("integrations:imports")).status_code == 403
    assert _upload(viewer_client, csv_bytes(ROWS)).status_code == 403
    assert viewer_client.get(reverse("integrations:mappings")).status_code == 403
    assert not ImportJob.objects.exists()


def test_viewers_may_export(viewer_client: Client) -> None:
    assert viewer_client.get(reverse("integrations:export")).status_code == 200
    assert (
        viewer_client.get(reverse("integrations:export_csv", args=["accounts"])).status_code == 200
    )


@pytest.mark.parametrize("language", ["ja", "en"])
def test_every_page_renders(admin_client_user, language: str) -> None:
    client: Client = admin_client_user[0]
    client.cookies["django_language"] = language
    _upload(client, csv_bytes(ROWS))
    job = ImportJob.objects.get()
    saved = ColumnMapping.objects.create(
        name="CRM", object_type="accounts", columns={"会社名": "name"}
    )
    urls = [
        reverse("integrations:imports"),
        job.get_absolute_url(),
        reverse("integrations:mappings"),
        reverse("integrations:mapping_edit", args=[saved.pk]),
        reverse("integrations:export"),
    ]
    for url in urls:
        response = client.get(url)
        assert response.status_code == 200, url
        assert f'<html lang="{language}">' in response.content.decode(), url
