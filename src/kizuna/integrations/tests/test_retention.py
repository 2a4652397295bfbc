"""Uploaded files are kept a month, then dropped; the import records stay."""

from __future__ import annotations

import datetime

import pytest
from django.utils import timezone

from kizuna.core import scheduler
from kizuna.integrations import services
from kizuna.integrations.models import ImportFile, ImportJob
from kizuna.integrations.tests.files import csv_bytes

pytestmark = pytest.mark.django_db

CONTENT = csv_bytes([["取引先ID", "会社名"], ["SF-1", "株式会社サクラ"]])


def test_files_of_old_imports_are_deleted_and_their_records_kept(csm) -> None:
    old = services.upload(csm, "accounts", "old.csv", CONTENT)
    recent = services.upload(csm, "accounts", "recent.csv", CONTENT)
    ImportJob.objects.filter(pk=old.pk).update(
        created_at=timezone.now() - datetime.timedelta(days=31)
    )
    assert services.prune_uploads() == 1
    assert list(ImportFile.objects.values_list("job", flat=True)) == [recent.pk]
    assert ImportJob.objects.count() == 2


def test_a_job_whose_file_is_gone_says_so(csm) -> None:
    job = services.upload(csm, "accounts", "old.csv", CONTENT, language="en")
    ImportFile.objects.all().delete()
    services.start_dry_run(job, inline=True)
    assert job.error_message == "The uploaded file is no longer kept; upload it again."


def test_pruning_is_a_daily_job() -> None:
    assert "integrations.prune_import_uploads" in scheduler.REGISTRY
