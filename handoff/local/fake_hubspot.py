"""A local stand-in for the documented HubSpot CRM v3 objects API.

Serves ``GET /crm/v3/objects/contacts/{id}`` (with ``associations=companies``) and
``GET /crm/v3/objects/companies/{id}`` from a JSON file, checks the bearer token,
and answers with HubSpot's documented error shape. ``fail_next`` injects 429/5xx
answers so retries are tested against HTTP, not against a mock of our own client.
"""

from __future__ import annotations

import json
import re
import threading
import time
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from handoff.local.loopback import LoopbackServer

OBJECT_PATH = re.compile(r"^/crm/v3/objects/(contacts|companies)/([^/]+)$")


class FakeHubSpot(LoopbackServer):
    def __init__(self, data_file: Path, token: str, host: str = "127.0.0.1", port: int = 0):
        self.data: dict[str, dict[str, Any]] = json.loads(data_file.read_text())
        self.token = token
        self.requests: list[str] = []
        self._failures: list[int] = []
        self._stalls: list[float] = []
        self._lock = threading.Lock()
        super().__init__(self._handler(), name="fake-hubspot", host=host, port=port)

    def fail_next(self, count: int, status: int = 503) -> None:
        with self._lock:
            self._failures.extend([status] * count)

    def _next_failure(self) -> int | None:
        with self._lock:
            return self._failures.pop(0) if self._failures else None

    def stall_next(self, count: int, seconds: float) -> None:
        """The next ``count`` requests answer only after ``seconds``: a CRM that times out."""
        with self._lock:
            self._stalls.extend([seconds] * count)

    def _next_stall(self) -> float:
        with self._lock:
            return self._stalls.pop(0) if self._stalls else 0.0

    def start(self) -> FakeHubSpot:  # type: ignore[override]
        super().start()
        return self

    def _answer(self, path: str, query: dict[str, list[str]], auth: str | None) -> tuple[int, dict[str, Any]]:
        self.requests.append(path)
        if auth != f"Bearer {self.token}":
            return 401, _error("Authentication credentials not found.", "INVALID_AUTHENTICATION")
        failure = self._next_failure()
        if failure:
            return failure, _error("Internal error", "INTERNAL_ERROR" if failure >= 500 else "RATE_LIMITS")
        found = OBJECT_PATH.match(path)
        if not found:
            return 404, _error("Unknown path", "OBJECT_NOT_FOUND")
        kind, object_id = found.groups()
        record = self.data.get(kind, {}).get(object_id)
        if record is None:
            return 404, _error("resource not found", "OBJECT_NOT_FOUND")
        wanted = set(",".join(query.get("properties", [])).split(",")) - {""}
        result = dict(record)
        if wanted:
            result["properties"] = {k: v for k, v in record.get("properties", {}).items() if k in wanted}
        if "companies" not in ",".join(query.get("associations", [])):
            result.pop("associations", None)
        return 200, result

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                return

            def do_GET(self) -> None:
                time.sleep(fake._next_stall())
                split = urlsplit(self.path)
                status, body = fake._answer(
                    split.path, parse_qs(split.query), self.headers.get("Authorization")
                )
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                if status == 429:
                    self.send_header("Retry-After", "1")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        return Handler


def _error(message: str, category: str) -> dict[str, Any]:
    return {
        "status": "error",
        "message": message,
        "correlationId": "00000000-0000-0000-0000-000000000000",
        "category": category,
    }
