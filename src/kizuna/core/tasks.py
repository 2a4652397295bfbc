"""Housekeeping tasks run on a schedule (see jobs.py)."""

from __future__ import annotations

import datetime

from django.conf import settings
from django.contrib.sessions.models import Session
from django.tasks import task
from django.utils import timezone


@task
def clear_expired_sessions() -> int:
    deleted, _detail = Session.objects.filter(expire_date__lt=timezone.now()).delete()
    return deleted


@task
def prune_finished_task_results() -> int:
    """Keep a week of finished task results from the database queue, drop the rest."""
    if settings.TASKS_BACKEND != "database":
        return 0
    from django_tasks_db.models import DBTaskResult

    cutoff = timezone.now() - datetime.timedelta(days=7)
    deleted, _detail = DBTaskResult.objects.finished().filter(finished_at__lt=cutoff).delete()
    return deleted


@task
def recompute_pending_accounts() -> int:
    """Recompute tiers, stages, health and segments of the accounts whose data changed."""
    from kizuna.core import recompute

    return recompute.run_pending()


@task
def recompute_all_accounts() -> dict[str, str]:
    """Recompute tiers, stages, health and segments of every account (nightly)."""
    from kizuna.core import recompute

    return recompute.recompute().errors
