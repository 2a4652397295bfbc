"""Background tasks run through the database queue (default) and the Redis queue."""

from __future__ import annotations

import socket

import pytest
import redis
from django.core.management import call_command
from django.tasks import task_backends

from kizuna.core.tasks import clear_expired_sessions


@pytest.mark.django_db(transaction=True)
def test_database_queue_runs_a_task_with_the_worker() -> None:
    result = clear_expired_sessions.enqueue()
    call_command("worker", "--batch", "--no-scheduler", verbosity=0)
    result.refresh()
    assert result.status == "SUCCESSFUL"


def _redis_up() -> bool:
    try:
        socket.create_connection(("127.0.0.1", 6379), timeout=1).close()
    except OSError:
        return False
    return True


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(not _redis_up(), reason="Redis is not running on 127.0.0.1:6379")
def test_redis_queue_runs_a_task_with_the_worker(settings) -> None:
    # A Redis database of its own, emptied first, so other users of this Redis are untouched.
    url = "redis://127.0.0.1:6379/15"
    redis.Redis.from_url(url).flushdb()
    settings.TASKS_BACKEND = "redis"
    settings.RQ_QUEUES = {"default": {"URL": url}}
    settings.TASKS = {"default": {"BACKEND": "django_tasks_rq.RQBackend", "QUEUES": ["default"]}}
    result = clear_expired_sessions.enqueue()
    assert type(task_backends["default"]).__name__ == "RQBackend"
    call_command("worker", "--batch", "--no-scheduler", verbosity=0)
    result.refresh()
    assert result.status == "SUCCESSFUL"
