"""A real HTTP server on 127.0.0.1 (a free port, in a thread) that records what it
receives and answers with the status codes a test queues — the other end of a webhook."""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class Receiver:
    url: str
    requests: list[Received] = field(default_factory=list)
    statuses: deque[int] = field(default_factory=deque)
    # Sent when no status is queued.
    default_status: int = 200
    response_body: bytes = b'{"ok": true}'
    redirect_to: str = ""

    def answer(self, *statuses: int) -> None:
        self.statuses.extend(statuses)


@contextmanager
def run_receiver() -> Iterator[Receiver]:
    holder: dict[str, Receiver] = {}

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            receiver = holder["receiver"]
            length = int(self.headers.get("Content-Length", "0"))
            body = self.rfile.read(length)
            receiver.requests.append(
                Received(path=self.path, headers=dict(self.headers.items()), body=body)
            )
            status = receiver.statuses.popleft() if receiver.statuses else receiver.default_status
            self.send_response(status)
            if 300 <= status < 400:
                self.send_header("Location", receiver.redirect_to or "/elsewhere")
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(receiver.response_body)))
            self.end_headers()
            self.wfile.write(receiver.response_body)

        def log_message(self, format: str, *args: object) -> None:
            pass  # keep test output quiet

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    port = server.server_address[1]
    holder["receiver"] = Receiver(url=f"http://127.0.0.1:{port}/hooks/kizuna")
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield holder["receiver"]
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
