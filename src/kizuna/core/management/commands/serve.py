"""`kizuna serve`: Gunicorn (a production-grade WSGI server) and, on the embedded default, the
built-in background worker — two child processes supervised by this command."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from types import FrameType
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

STOP_TIMEOUT = 25  # seconds each child gets to finish what it is doing


class Supervisor:
    """Runs the server and the worker side by side: restarts the worker if it dies, stops
    everything if the server dies, and passes SIGTERM/SIGINT on to both for a clean stop."""

    def __init__(self, server: list[str], worker: list[str] | None) -> None:
        self.server_command = server
        self.worker_command = worker
        self.stopping = False

    def _spawn(self, command: list[str]) -> subprocess.Popen[bytes]:
        # Own sessions: a Ctrl-C to the terminal reaches this supervisor only, which then
        # stops the children in order.
        return subprocess.Popen(command, env=os.environ.copy(), start_new_session=True)  # noqa: S603

    def _stop(self, signum: int, frame: FrameType | None) -> None:
        self.stopping = True

    def run(self) -> int:
        signal.signal(signal.SIGTERM, self._stop)
        signal.signal(signal.SIGINT, self._stop)
        server = self._spawn(self.server_command)
        worker = self._spawn(self.worker_command) if self.worker_command else None
        code = 0
        while not self.stopping:
            if server.poll() is not None:
                code = server.returncode or 1
                print("kizuna: the web server stopped; stopping", file=sys.stderr)
                break
            if worker is not None and worker.poll() is not None and self.worker_command:
                print("kizuna: the background worker stopped; restarting it", file=sys.stderr)
                time.sleep(1)
                worker = self._spawn(self.worker_command)
            time.sleep(0.2)
        for child in (server, worker):
            if child is not None and child.poll() is None:
                child.send_signal(signal.SIGTERM)
        for child in (server, worker):
            if child is None:
                continue
            try:
                child.wait(timeout=STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                child.kill()
                child.wait()
        return code


def gunicorn_command(host: str, port: int, workers: int, threads: int) -> list[str]:
    return [
        sys.executable,
        "-m",
        "gunicorn",
        "kizuna.wsgi:application",
        "--bind",
        f"{host}:{port}",
        "--workers",
        str(workers),
        "--worker-class",
        "gthread",
        "--threads",
        str(threads),
        "--access-logfile",
        "-",
        "--error-logfile",
        "-",
        "--timeout",
        "60",
        "--graceful-timeout",
        "20",
        "--forwarded-allow-ips",
        os.environ.get("KIZUNA_FORWARDED_ALLOW_IPS", "127.0.0.1"),
    ]


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
        parser.add_argument(
            "--mail-catcher",
            action="store_true",
            help="Without a mail server (KIZUNA_SMTP_HOST), send tech-touch email to a local "
            "catcher whose messages Settings > Demo mailbox shows (the demo does this).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if not 0 < options["port"] < 65536:
            raise CommandError("--port must be between 1 and 65535.")
        if options["workers"] < 1 or options["threads"] < 1:
            raise CommandError("--workers and --threads must be at least 1.")
        with_worker = settings.TASKS_BACKEND == "database" and not options["no_worker"]
        self.stdout.write(f"Kizuna is serving at http://{options['host']}:{options['port']}/")
        if options["mail_catcher"] and not settings.ENGAGEMENT_SMTP["host"]:
            self._start_mail_catcher()
        self.stdout.flush()
        server = gunicorn_command(
            options["host"], options["port"], options["workers"], options["threads"]
        )
        worker = [sys.executable, "-m", "kizuna", "worker"] if with_worker else None
        code = Supervisor(server, worker).run()
        if code:
            raise CommandError(f"the web server exited with status {code}")

    def _start_mail_catcher(self) -> None:
        """Run the catcher in this (supervisor) process and point the web server and the
        worker, which inherit the environment, at it."""
        from kizuna.engagement import mailbox

        address = mailbox.start_catcher()
        if address is None:
            self.stderr.write("The demo mail catcher could not start; email stays queued.")
            return
        host, port = address
        os.environ.update(
            KIZUNA_SMTP_HOST=host, KIZUNA_SMTP_PORT=str(port), KIZUNA_SMTP_STARTTLS="false"
        )
        self.stdout.write(f"Tech-touch email goes to the demo mail catcher at {host}:{port}.")
