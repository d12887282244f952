"""What every local CRM fake shares: a loopback HTTP server that records each request,
answers JSON, and can be told to fail (429/5xx with Retry-After) or stall (a timeout)."""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler
from typing import Any, Self
from urllib.parse import parse_qs, urlsplit

from handoff.local.loopback import LoopbackServer

Answer = tuple[int, Any]


class FakeCrm(LoopbackServer):
    retry_after = "1"  # seconds, on every injected 429

    def __init__(self, name: str, host: str = "127.0.0.1", port: int = 0):
        self.requests: list[str] = []  # "METHOD /path", in order
        self.writes: list[tuple[str, dict[str, Any]]] = []  # (path, JSON body) of every accepted write
        self._failures: list[int] = []
        self._stalls: list[float] = []
        self._lock = threading.Lock()
        super().__init__(self._handler(), name=name, host=host, port=port)

    def start(self) -> Self:  # type: ignore[override]
        super().start()
        return self

    def fail_next(self, count: int, status: int = 503) -> None:
        with self._lock:
            self._failures.extend([status] * count)

    def stall_next(self, count: int, seconds: float) -> None:
        """The next ``count`` requests answer only after ``seconds``: a CRM that times out."""
        with self._lock:
            self._stalls.extend([seconds] * count)

    def clear_faults(self) -> None:
        with self._lock:
            self._failures.clear()
            self._stalls.clear()

    def next_failure(self) -> int | None:
        with self._lock:
            return self._failures.pop(0) if self._failures else None

    def _next_stall(self) -> float:
        with self._lock:
            return self._stalls.pop(0) if self._stalls else 0.0

    def answer(
        self, method: str, path: str, query: dict[str, list[str]], headers: Any, body: bytes
    ) -> Answer:
        raise NotImplementedError

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                return

            def _serve(self) -> None:
                time.sleep(fake._next_stall())
                split = urlsplit(self.path)
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                with fake._lock:
                    fake.requests.append(f"{self.command} {split.path}")
                status, answer = fake.answer(
                    self.command, split.path, parse_qs(split.query), self.headers, body
                )
                data = json.dumps(answer).encode() if answer is not None else b""
                self.send_response(status)
                if data:
                    self.send_header("Content-Type", "application/json")
                if status == 429:
                    self.send_header("Retry-After", fake.retry_after)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = do_PATCH = _serve

        return Handler
