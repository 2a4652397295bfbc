"""Periodic jobs that are safe to run with any number of workers.

A job is registered with a name, a task and a cadence (`every` a timedelta, or `daily_at` a
local time). Each worker runs `enqueue_due` every few seconds; a due slot is claimed by a
conditional UPDATE of `PeriodicJob.next_run_at` (it succeeds for exactly one worker), and only
the worker that claimed it enqueues the task.
"""

from __future__ import annotations

import datetime
import logging
import threading
from dataclasses import dataclass
from typing import Any

from django.db import close_old_connections, transaction
from django.utils import timezone

from kizuna.core.models import PeriodicJob

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Job:
    name: str
    task: Any  # a django.tasks.Task
    every: datetime.timedelta | None = None
    daily_at: datetime.time | None = None

    def next_after(self, moment: datetime.datetime) -> datetime.datetime:
        if self.every is not None:
            return moment + self.every
        assert self.daily_at is not None
        local = timezone.localtime(moment)
        candidate = local.replace(
            hour=self.daily_at.hour,
            minute=self.daily_at.minute,
            second=0,
            microsecond=0,
        )
        if candidate <= local:
            candidate += datetime.timedelta(days=1)
        return candidate


REGISTRY: dict[str, Job] = {}


def register(
    name: str,
    task: Any,
    *,
    every: datetime.timedelta | None = None,
    daily_at: datetime.time | None = None,
) -> Job:
    if (every is None) == (daily_at is None):
        raise ValueError("A periodic job needs exactly one of `every` and `daily_at`.")
    job = Job(name=name, task=task, every=every, daily_at=daily_at)
    REGISTRY[name] = job
    return job


def _ensure_rows(now: datetime.datetime) -> None:
    PeriodicJob.objects.bulk_create(
        [PeriodicJob(name=job.name, next_run_at=job.next_after(now)) for job in REGISTRY.values()],
        ignore_conflicts=True,
    )


def enqueue_due(now: datetime.datetime | None = None) -> list[str]:
    """Enqueue every registered job whose slot is due; return the names enqueued here."""
    now = now or timezone.now()
    _ensure_rows(now)
    enqueued: list[str] = []
    due = PeriodicJob.objects.filter(name__in=REGISTRY.keys(), next_run_at__lte=now)
    for row in due:
        job = REGISTRY[row.name]
        with transaction.atomic():
            claimed = PeriodicJob.objects.filter(pk=row.pk, next_run_at=row.next_run_at).update(
                next_run_at=job.next_after(now), last_enqueued_at=now
            )
            if not claimed:
                continue  # another worker took this slot
            try:
                result = job.task.enqueue()
            except Exception as exc:
                logger.exception("Could not enqueue periodic job %s", job.name)
                PeriodicJob.objects.filter(pk=row.pk).update(last_error=str(exc)[:2000])
                continue
            PeriodicJob.objects.filter(pk=row.pk).update(last_task_id=result.id, last_error="")
        enqueued.append(job.name)
    return enqueued


def run_forever(stop: threading.Event, interval: float = 15.0) -> None:
    """The scheduler loop every worker runs in a background thread."""
    while not stop.is_set():
        try:
            names = enqueue_due()
            if names:
                logger.info("Enqueued periodic jobs: %s", ", ".join(names))
        except Exception:
            logger.exception("Periodic job scheduler failed; trying again shortly")
        finally:
            close_old_connections()
        stop.wait(interval)
