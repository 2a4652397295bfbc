"""Large files are checked and applied by a background worker, which reports progress."""

from __future__ import annotations

import datetime

import pytest
from django.core.management import call_command
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from kizuna.customers.models import Account
from kizuna.integrations import services
from kizuna.integrations.models import ImportJob
from kizuna.integrations.tests.files import csv_bytes

CONTENT = csv_bytes([["取引先ID", "会社名"]] + [[f"SF-{n}", f"会社{n}"] for n in range(1, 31)])


@pytest.mark.django_db(transaction=True)
def test_the_worker_runs_the_dry_run_and_the_apply(csm, monkeypatch) -> None:
    monkeypatch.setattr(services, "INLINE_ROWS", 10)
    job = services.upload(csm, "accounts", "large.csv", CONTENT, language="en")
    services.start_dry_run(job)
    assert (job.status, bool(job.task_id)) == ("validating", True)
    call_command("worker", "--batch", "--no-scheduler", verbosity=0)
    job.refresh_from_db()
    assert (job.status, job.created_count) == ("validated", 30)
    services.start_apply(job, csm)
    assert job.status == "applying"
    assert not Account.objects.exists()
    call_command("worker", "--batch", "--no-scheduler", verbosity=0)
    job.refresh_from_db()
    assert (job.status, job.applied_by) == ("applied", csm)
    assert Account.objects.count() == 30


@pytest.mark.django_db
def test_the_progress_panel_polls_while_running_and_stops_when_done(
    csm, csm_client: Client
) -> None:
    job = services.upload(csm, "accounts", "large.csv", CONTENT, language="en")
    ImportJob.objects.filter(pk=job.pk).update(status="validating", phase="checking", rows_done=12)
    url = reverse("integrations:import_progress", args=[job.pk])
    running = csm_client.get(url).content.decode()
    assert 'hx-trigger="every 1s"' in running
    assert 'aria-valuenow="40"' in running
    assert "12 of 30 rows" in running
    ImportJob.objects.filter(pk=job.pk).update(
        status="validated", phase="", rows_done=30, created_count=30
    )
    done = csm_client.get(url).content.decode()
    assert "hx-trigger" not in done
    assert 'id="count-created">30<' in done


@pytest.mark.django_db
def test_a_run_whose_worker_died_may_be_started_again(csm) -> None:
    job = services.upload(csm, "accounts", "a.csv", CONTENT, language="en")
    quiet_since = timezone.now() - datetime.timedelta(minutes=30)
    ImportJob.objects.filter(pk=job.pk).update(status="validating", heartbeat_at=quiet_since)
    services.start_dry_run(job, inline=True)
    assert job.status == "validated"


@pytest.mark.django_db
def test_a_running_job_cannot_be_started_twice(csm) -> None:
    job = services.upload(csm, "accounts", "a.csv", CONTENT, language="en")
    ImportJob.objects.filter(pk=job.pk).update(status="validating", heartbeat_at=timezone.now())
    with pytest.raises(services.ImportRefused):
        services.start_dry_run(job, inline=True)


@pytest.mark.django_db
def test_a_stalled_run_offers_to_run_again(csm, csm_client: Client) -> None:
    job = services.upload(csm, "accounts", "a.csv", CONTENT, language="en")
    quiet_since = timezone.now() - datetime.timedelta(minutes=30)
    ImportJob.objects.filter(pk=job.pk).update(status="validating", heartbeat_at=quiet_since)
    page = csm_client.get(job.get_absolute_url()).content.decode()
    assert "stopped reporting progress" in page
    csm_client.post(reverse("integrations:import_restart", args=[job.pk]))
    job.refresh_from_db()
    assert (job.status, job.created_count) == ("validated", 30)


@pytest.mark.django_db
def test_a_queued_run_says_it_waits_for_a_worker(csm, csm_client: Client) -> None:
    job = services.upload(csm, "accounts", "a.csv", CONTENT, language="en")
    ImportJob.objects.filter(pk=job.pk).update(status="validating", heartbeat_at=timezone.now())
    page = csm_client.get(reverse("integrations:import_progress", args=[job.pk])).content.decode()
    assert "Waiting for a background worker" in page
