"""Enqueue a background task at most once per interval per process, and not while the one
enqueued last is still waiting: a steady stream of changes keeps about one task queued, not
one per change. Whatever a skipped enqueue would have done, the queued task (or the task's
periodic job) finds too."""

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

    def __call__(self) -> None:
        now = time.monotonic()
        with self.lock:
            if now - self.enqueued_at < self.seconds:
                return
            self.enqueued_at = now
            waiting = self.result_id
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

    def reset(self) -> None:
        with self.lock:
            self.enqueued_at = -float("inf")
            self.result_id = None
