"""Background entry points of imports: thin wrappers around the services."""

from django.tasks import task

from kizuna.integrations import services


@task
def dry_run_import(job_id: int) -> None:
    services.run_dry_run(job_id)


@task
def apply_import(job_id: int) -> None:
    services.run_apply(job_id)


@task
def prune_import_uploads() -> int:
    return services.prune_uploads()
