"""Kill the server in the middle of a batch ingest: every batch that got a 200 is in the
database, and after the clients retry, every event is there exactly once.

A real `kizuna serve` (Gunicorn, two worker processes) runs as a child process on its own
database — an SQLite file in a temporary directory, or a fresh PostgreSQL database when the
suite runs on PostgreSQL — while client threads post batches with retries. The server is
killed with SIGKILL (no chance to clean up) once some batches are acknowledged.
"""

from __future__ import annotations

import base64
import contextlib
import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings

BATCHES = 48
BATCH_SIZE = 100
CLIENTS = 4
DEADLINE = 60.0


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def database(tmp_path: Path) -> Iterator[dict[str, str]]:
    """The environment of a Kizuna with its own empty database, migrated."""
    env = {**os.environ, "KIZUNA_DATA_DIR": str(tmp_path), "KIZUNA_LOG_LEVEL": "WARNING"}
    env.pop("KIZUNA_DATABASE_URL", None)
    name = ""
    config = settings.DATABASES["default"]
    if config["ENGINE"] == "django.db.backends.postgresql":
        import psycopg

        name = f"kizuna_crash_{uuid.uuid4().hex[:10]}"
        admin: dict[str, Any] = {
            "host": config["HOST"],
            "port": config["PORT"] or 5432,
            "user": config["USER"],
            "password": config.get("PASSWORD") or None,
        }
        with psycopg.connect(**admin, dbname="postgres", autocommit=True) as connection:
            connection.execute(f'CREATE DATABASE "{name}"')
        password = f":{config['PASSWORD']}" if config.get("PASSWORD") else ""
        env["KIZUNA_DATABASE_URL"] = (
            f"postgres://{config['USER']}{password}@{config['HOST']}:{admin['port']}/{name}"
        )
    subprocess.run(
        [sys.executable, "-m", "kizuna", "migrate", "-v0"], env=env, check=True, timeout=120
    )
    yield env
    if name:
        import psycopg

        with psycopg.connect(**admin, dbname="postgres", autocommit=True) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _write_key(env: dict[str, str]) -> str:
    result = subprocess.run(
        [sys.executable, "-m", "kizuna", "sources", "create", "crash test"],
        env=env,
        check=True,
        capture_output=True,
        text=True,
        timeout=60,
    )
    return result.stdout.strip()


def _serve(env: dict[str, str], port: int) -> subprocess.Popen[bytes]:
    server = subprocess.Popen(  # noqa: S603
        [
            sys.executable,
            "-m",
            "kizuna",
            "serve",
            "--port",
            str(port),
            "--workers",
            "2",
            "--threads",
            "2",
            "--no-worker",
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            connection.request("OPTIONS", "/v1/batch")
            connection.getresponse().read()
            return server
        except OSError:
            time.sleep(0.1)
    _crash(server)
    raise AssertionError("kizuna serve did not start")


class Sender(threading.Thread):
    """Posts its batches in order, retrying each until it is acknowledged with a 200."""

    def __init__(self, port: int, key: str, batches: list[tuple[int, bytes]]) -> None:
        super().__init__(daemon=True)
        self.port = port
        self.auth = "Basic " + base64.b64encode(f"{key}:".encode()).decode()
        self.batches = batches
        self.acknowledged: list[int] = []
        self.failures: list[str] = []
        self.retries = 0

    def run(self) -> None:
        deadline = time.monotonic() + DEADLINE
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        for number, body in self.batches:
            while time.monotonic() < deadline:
                try:
                    connection.request(
                        "POST",
                        "/v1/batch",
                        body,
                        {"Content-Type": "application/json", "Authorization": self.auth},
                    )
                    response = connection.getresponse()
                    answer = response.read()
                except (OSError, http.client.HTTPException):
                    connection.close()
                    connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
                    self.retries += 1
                    time.sleep(0.05)
                    continue
                if response.status == 200:
                    self.acknowledged.append(number)
                    break
                self.failures.append(f"{response.status} {answer[:200]!r}")
                return
        connection.close()


def _descendants(pid: int) -> list[int]:
    """The process and everything it started (Linux /proc), parents first."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        parent = int(stat.rsplit(")", 1)[1].split()[1])
        children.setdefault(parent, []).append(int(entry.name))
    found, todo = [], [pid]
    while todo:
        current = todo.pop(0)
        found.append(current)
        todo.extend(children.get(current, []))
    return found


def _crash(server: subprocess.Popen[bytes]) -> None:
    """SIGKILL the supervisor, Gunicorn's master and its workers at once: nobody gets to
    finish a request, flush anything or clean up."""
    for pid in _descendants(server.pid):
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    server.wait()


def _stop(server: subprocess.Popen[bytes]) -> None:
    server.send_signal(signal.SIGTERM)  # the supervisor stops its children in order
    try:
        server.wait(timeout=30)
    except subprocess.TimeoutExpired:
        _crash(server)


def _batches() -> list[tuple[int, bytes, list[str]]]:
    batches = []
    for number in range(BATCHES):
        ids = [f"crash-{number:03d}-{i:03d}" for i in range(BATCH_SIZE)]
        body = {
            "batch": [
                {
                    "type": "track",
                    "userId": f"user-{i % 7}",
                    "event": "Report Exported",
                    "messageId": m,
                }
                for i, m in enumerate(ids)
            ]
        }
        batches.append((number, json.dumps(body).encode(), ids))
    return batches


def _stored_ids(env: dict[str, str]) -> list[str]:
    if "KIZUNA_DATABASE_URL" in env:
        import psycopg

        with psycopg.connect(env["KIZUNA_DATABASE_URL"]) as connection:
            rows: list[Any] = connection.execute("SELECT message_id FROM usage_event").fetchall()
    else:
        import sqlite3

        path = Path(env["KIZUNA_DATA_DIR"]) / "kizuna.sqlite3"
        with sqlite3.connect(path) as connection:
            rows = connection.execute("SELECT message_id FROM usage_event").fetchall()
    return [row[0] for row in rows]


def test_killed_server_loses_nothing_acknowledged_and_stores_nothing_twice(database):
    key = _write_key(database)
    port = _free_port()
    batches = _batches()
    ids_of = {number: ids for number, _body, ids in batches}
    senders = [
        Sender(port, key, [(n, body) for n, body, _ids in batches[i::CLIENTS]])
        for i in range(CLIENTS)
    ]
    server = _serve(database, port)
    for sender in senders:
        sender.start()
    deadline = time.monotonic() + DEADLINE
    while sum(len(s.acknowledged) for s in senders) < BATCHES // 3:
        assert time.monotonic() < deadline, "the server acknowledged too few batches"
        time.sleep(0.005)

    _crash(server)  # mid-ingest: requests are in flight
    acknowledged = [number for s in senders for number in list(s.acknowledged)]
    stored = set(_stored_ids(database))
    missing = [n for n in acknowledged if not set(ids_of[n]) <= stored]

    server = _serve(database, port)
    try:
        for sender in senders:
            sender.join(timeout=DEADLINE)
    finally:
        _stop(server)

    assert missing == [], "acknowledged batches lost in the crash"
    assert sum(s.retries for s in senders) > 0  # the clients did retry across the crash
    assert [s.failures for s in senders] == [[]] * CLIENTS
    assert sorted(n for s in senders for n in s.acknowledged) == list(range(BATCHES))
    after = _stored_ids(database)
    assert len(after) == len(set(after)) == BATCHES * BATCH_SIZE
