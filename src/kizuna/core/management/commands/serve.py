"""`kizuna serve`: Gunicorn (a production-grade WSGI server) plus, on the embedded default,
the built-in background worker as a supervised child process."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from gunicorn.app.base import BaseApplication


class KizunaServer(BaseApplication):
    def __init__(self, options: dict[str, Any]) -> None:
        self.options = options
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self) -> Any:
        from kizuna.wsgi import application

        return application


class WorkerSupervisor:
    """Keeps one `kizuna worker` child running; restarts it if it dies."""

    def __init__(self) -> None:
        self.process: subprocess.Popen[bytes] | None = None
        self.stopping = threading.Event()

    def start(self) -> None:
        threading.Thread(target=self._run, name="kizuna-worker-supervisor", daemon=True).start()

    def _run(self) -> None:
        while not self.stopping.is_set():
            self.process = subprocess.Popen(
                [sys.executable, "-m", "kizuna", "worker"], env=os.environ.copy()
            )
            self.process.wait()
            if not self.stopping.is_set():
                print("kizuna: the background worker stopped; restarting it", file=sys.stderr)
                self.stopping.wait(2)

    def stop(self) -> None:
        self.stopping.set()
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()


def serve(host: str, port: int, workers: int, threads: int, with_worker: bool) -> None:
    supervisor = WorkerSupervisor() if with_worker else None
    if supervisor:
        supervisor.start()
        time.sleep(0.2)
    options = {
        "bind": f"{host}:{port}",
        "workers": workers,
        "worker_class": "gthread",
        "threads": threads,
        "accesslog": "-",
        "errorlog": "-",
        "timeout": 60,
        "graceful_timeout": 20,
        "forwarded_allow_ips": os.environ.get("KIZUNA_FORWARDED_ALLOW_IPS", "127.0.0.1"),
    }
    try:
        KizunaServer(options).run()
    finally:
        if supervisor:
            supervisor.stop()


class Command(BaseCommand):
    help = (
        "Serve Kizuna over HTTP with Gunicorn. With the embedded database queue (the default) "
        "the background worker runs alongside; with KIZUNA_TASKS=redis run `kizuna worker` "
        "separately, as many as you need."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--host", default=os.environ.get("KIZUNA_HOST", "127.0.0.1"))
        parser.add_argument("--port", type=int, default=int(os.environ.get("KIZUNA_PORT", "8000")))
        parser.add_argument("--workers", type=int, default=2, help="HTTP worker processes.")
        parser.add_argument("--threads", type=int, default=4, help="Threads per HTTP worker.")
        parser.add_argument(
            "--no-worker",
            action="store_true",
            help="Do not start the built-in background worker.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if not 0 < options["port"] < 65536:
            raise CommandError("--port must be between 1 and 65535.")
        if options["workers"] < 1 or options["threads"] < 1:
            raise CommandError("--workers and --threads must be at least 1.")
        with_worker = settings.TASKS_BACKEND == "database" and not options["no_worker"]
        self.stdout.write(f"Kizuna is serving at http://{options['host']}:{options['port']}/")
        self.stdout.flush()
        serve(options["host"], options["port"], options["workers"], options["threads"], with_worker)
