"""Background entry points of Customer 360."""

from django.tasks import task

from kizuna.customers import services


@task
def refresh_all_rollups() -> int:
    return services.refresh_rollups()
