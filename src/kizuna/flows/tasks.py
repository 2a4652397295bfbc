"""Background entry points of success flows."""

from __future__ import annotations

from django.tasks import task


@task
def run_due_steps() -> int:
    """Run the flow steps that are due (enqueued when steps become due, and every minute)."""
    from kizuna.flows import engine

    return engine.run_due().runs


@task
def enrol_by_date() -> int:
    """Enrol accounts in date-triggered flows (hourly)."""
    from kizuna.flows import triggers

    return triggers.enrol_by_date()


@task
def enrol_on_schedule() -> int:
    """Enrol the audiences of scheduled flows whose time has come (every minute)."""
    from kizuna.flows import engine, triggers

    entered = triggers.enrol_on_schedule()
    if entered:
        engine.run_due()
    return entered
