"""Background entry points of CTAs."""

from django.tasks import task

from kizuna.playbooks import services


@task
def wake_snoozed() -> int:
    return services.wake_snoozed()
