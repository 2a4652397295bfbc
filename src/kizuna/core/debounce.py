"""Enqueue a background task at most once per interval per process, and not while the one
enqueued last is still waiting: a steady stream of changes keeps about one task queued, not
one per change. A change that comes within the interval, after that task may already have
run, gets one trailing task due at the end of the interval: the last change of a burst is
handled within about the interval, never left for the task's periodic job."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any

logger = logging.getLogger(__name__)


class Debounced:
    def __init__(self, task: Callable[[], Any], seconds: float) -> None:
        # `task` returns the Django task, imported late (tasks modules import services).
        self.task = task
        self.seconds = seconds
        self.lock = threading.Lock()
        self.enqueued_at = -float("inf")
        self.result_id: str | None = None
        # The window (its start) that already has a trailing task.
        self.trailing_for = -float("inf")

    def __call__(self) -> None:
        now = time.monotonic()
        with self.lock:
            if now - self.enqueued_at < self.seconds:
                if self.trailing_for == self.enqueued_at:
                    return
                self.trailing_for = self.enqueued_at
                delay = self.seconds - (now - self.enqueued_at)
                trailing = True
            else:
                self.enqueued_at = now
                trailing = False
            waiting = self.result_id
        if trailing:
            self._enqueue_later(delay)
            return
        from django.tasks import TaskResultStatus

        task = self.task()
        try:
            if waiting is not None and task.get_result(waiting).status == TaskResultStatus.READY:
                return
            result = task.enqueue()
        except Exception:
            # The work is recorded in the database; the periodic job picks it up.
            logger.exception("Could not enqueue %s; its periodic job will run it", task.name)
            return
        with self.lock:
            self.result_id = result.id

    def _enqueue_later(self, delay: float) -> None:
        import datetime

        from django.utils import timezone

        task = self.task()
        try:
            task.using(run_after=timezone.now() + datetime.timedelta(seconds=delay)).enqueue()
        except Exception:
            logger.exception("Could not enqueue %s; its periodic job will run it", task.name)

    def reset(self) -> None:
        with self.lock:
            self.enqueued_at = -float("inf")
            self.result_id = None
            self.trailing_for = -float("inf")
