"""`kizuna worker`: run background tasks and the periodic-job scheduler."""

from __future__ import annotations

import threading
from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandParser

from kizuna.core import scheduler


class Command(BaseCommand):
    help = (
        "Run a background worker: it executes queued tasks (from the database queue by default, "
        "from Redis when KIZUNA_TASKS=redis) and enqueues periodic jobs when they are due. "
        "Run as many workers as you like; each periodic job still runs once per slot."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--batch",
            action="store_true",
            help="Run every task that is waiting, then exit (for cron-style use and tests).",
        )
        parser.add_argument(
            "--no-scheduler",
            action="store_true",
            help="Do not enqueue periodic jobs from this worker.",
        )

    def handle(
        self, *args: Any, batch: bool = False, no_scheduler: bool = False, **options: Any
    ) -> None:
        stop = threading.Event()
        if not no_scheduler:
            if batch:
                scheduler.enqueue_due()
            else:
                threading.Thread(
                    target=scheduler.run_forever, args=(stop,), name="kizuna-scheduler", daemon=True
                ).start()
        try:
            if settings.TASKS_BACKEND == "redis":
                # SimpleWorker runs each job in this process: the default worker forks per
                # job, which is unsafe while the scheduler thread runs.
                rq_args = [
                    "default",
                    "--job-class",
                    "django_tasks_rq.backend.Job",
                    "--worker-class",
                    "rq.worker.SimpleWorker",
                    # Tasks due later (a debounced task's trailing run) are moved to the
                    # queue by the scheduler that runs inside the workers.
                    "--with-scheduler",
                ]
                if batch:
                    rq_args.append("--burst")
                call_command("rqworker", *rq_args)
            else:
                db_args = ["--queue-name", "*", "--no-reload"]
                if batch:
                    db_args.append("--batch")
                call_command("db_worker", *db_args, verbosity=options.get("verbosity", 1))
        finally:
            stop.set()
