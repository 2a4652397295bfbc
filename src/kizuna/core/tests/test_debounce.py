"""A debounced task is enqueued at most once per interval, and the last change of a burst
gets a trailing task due at the end of the interval."""

from __future__ import annotations

import datetime
from typing import Any

import pytest
from django.utils import timezone

from kizuna.core.debounce import Debounced


class FakeTask:
    name = "fake"

    def __init__(self) -> None:
        self.enqueued: list[datetime.datetime | None] = []
        self.run_after: datetime.datetime | None = None

    def using(self, *, run_after: datetime.datetime) -> FakeTask:
        later = FakeTask()
        later.enqueued = self.enqueued
        later.run_after = run_after
        return later

    def enqueue(self) -> Any:
        self.enqueued.append(self.run_after)

        class Result:
            id = "r1"

        return Result()

    def get_result(self, result_id: str) -> Any:
        class Result:
            status = "SUCCESSFUL"

        return Result()


@pytest.fixture
def task() -> FakeTask:
    return FakeTask()


def test_a_burst_enqueues_once_now_and_once_at_the_end_of_the_interval(task: FakeTask) -> None:
    debounced = Debounced(lambda: task, 2.0)
    for _change in range(10):
        debounced()
    assert len(task.enqueued) == 2
    assert task.enqueued[0] is None
    trailing = task.enqueued[1]
    assert trailing is not None
    assert timezone.now() < trailing <= timezone.now() + datetime.timedelta(seconds=2)


def test_a_single_change_enqueues_one_task(task: FakeTask) -> None:
    Debounced(lambda: task, 2.0)()
    assert task.enqueued == [None]
