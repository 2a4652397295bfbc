"""Periodic jobs run once per slot, however many workers look for them."""

from __future__ import annotations

import datetime
from typing import Any

import pytest
from django.utils import timezone

from kizuna.core import scheduler
from kizuna.core.models import PeriodicJob

pytestmark = pytest.mark.django_db


class _FakeTask:
    def __init__(self) -> None:
        self.calls = 0

    def enqueue(self) -> Any:
        self.calls += 1
        return type("Result", (), {"id": f"r{self.calls}"})()


@pytest.fixture
def job(monkeypatch: pytest.MonkeyPatch) -> tuple[scheduler.Job, _FakeTask]:
    task = _FakeTask()
    monkeypatch.setattr(scheduler, "REGISTRY", {})
    registered = scheduler.register("test.every5", task, every=datetime.timedelta(minutes=5))
    return registered, task


def test_a_due_slot_is_enqueued_once_even_if_two_workers_look(job) -> None:
    _job, task = job
    now = timezone.now()
    scheduler.enqueue_due(now)  # creates the row, first slot in five minutes
    later = now + datetime.timedelta(minutes=6)
    first = scheduler.enqueue_due(later)
    second = scheduler.enqueue_due(later)
    assert first == ["test.every5"]
    assert second == []
    assert task.calls == 1


def test_claiming_moves_the_next_run_forward(job) -> None:
    now = timezone.now()
    scheduler.enqueue_due(now)
    scheduler.enqueue_due(now + datetime.timedelta(minutes=6))
    row = PeriodicJob.objects.get(name="test.every5")
    assert row.next_run_at == now + datetime.timedelta(minutes=11)
    assert row.last_task_id == "r1"


def test_daily_job_runs_at_the_local_time() -> None:
    daily = scheduler.Job(name="d", task=None, daily_at=datetime.time(3, 30))
    moment = timezone.make_aware(datetime.datetime(2026, 11, 22, 10, 0))
    following = timezone.localtime(daily.next_after(moment))
    assert (following.day, following.hour, following.minute) == (23, 3, 30)


def test_a_job_needs_exactly_one_cadence() -> None:
    with pytest.raises(ValueError, match="exactly one"):
        scheduler.register("bad", None)
