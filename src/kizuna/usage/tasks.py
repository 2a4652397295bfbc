"""Background entry points of product usage."""

from __future__ import annotations

from django.tasks import task

from kizuna.usage import rollups


@task
def rollup_new_events() -> int:
    """Fold newly received events into the rollups (enqueued after ingest, and every minute)."""
    return rollups.rollup_new_events()


@task
def refresh_usage_windows() -> int:
    """Move every account's 30-day usage figures to today's window (just after midnight)."""
    return rollups.refresh_windows()
