"""The local stack's DynamoDB, in a process of its own.

On AWS, DynamoDB is a service of its own, and its work is never a Lambda's. The local stack
runs every handler, the workflow interpreter and moto in one process, and one Python process
runs Python on one core at a time. Under a burst that process was busy from the first lead to
the last, and moto's DynamoDB (parsing, validating and applying each request, under the lock
that makes its requests atomic) was about a third of it. Here the same backend, with the same
emulator changes (handoff.local.emulator), runs in a child process, on another core.

- **One endpoint still.** Handlers in the stack's process hand their DynamoDB calls to the child
  over kept connections (handoff.local.in_process), and moto's server in the stack's
  process passes on the DynamoDB requests it is sent (another process's CLI, a test's client),
  so everything addressed to the stack's AWS endpoint sees one DynamoDB.
- **The child lives as long as the stack.** It exits when its standard input closes, which
  happens when the stack stops or its process dies, so no DynamoDB outlives its stack.
- **A failure is AWS's.** A call the child cannot answer (it is gone, or the connection drops)
  is a connection error, which the SDK retries as it retries one on AWS.
- **Extensions.** A benchmark that measures DynamoDB from inside (bench/throttled.py counts the
  write units each write costs) names a ``module:function`` the child runs at start. The
  function returns a callable whose answer (JSON) ``DynamoDBProcess.report()`` fetches.
"""

from __future__ import annotations

import argparse
import http.client
import importlib
import json
import os
import subprocess
import sys
import threading
import urllib.parse
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler
from typing import IO, Any, ClassVar

from botocore.awsrequest import AWSPreparedRequest, AWSResponse
from botocore.compat import HTTPHeaders
from botocore.exceptions import EndpointConnectionError

SERVICE = "dynamodb"
REPORT_PATH = "/handoff-local/report"
READY = "handoff-dynamodb ready on port "
# Importing moto and the handlers' modules takes a few seconds on a slow machine.
START_TIMEOUT_SECONDS = 120
STOP_TIMEOUT_SECONDS = 10


class DynamoDBProcess:
    """The child: ``launch()``, ``wait_ready()``, then ``forward_here()`` this process's DynamoDB
    calls to it; ``stop()`` ends it."""

    def __init__(self, extensions: tuple[str, ...] = ()) -> None:
        self.extensions = extensions
        self.port = 0
        self._child: subprocess.Popen[bytes] | None = None
        # Idle kept connections, shared by every thread. The workflow runs each Lambda step on a
        # thread of its own, so a connection kept per thread served one step and was dropped:
        # a new TCP connection (and a new serving thread in the child) for every step.
        self._idle: list[http.client.HTTPConnection] = []
        self._idle_lock = threading.Lock()
        self.opened = 0  # connections made so far

    def launch(self) -> None:
        """Start the child; it readies itself (imports, moto) while the caller goes on."""
        command = [sys.executable, "-m", __name__]
        for extension in self.extensions:
            command += ["--extension", extension]
        # The child imports what this process can (the benchmark's extensions among them).
        path = os.pathsep.join(p for p in sys.path if p)
        self._child = subprocess.Popen(  # noqa: S603 - this interpreter, this module
            command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, env={**os.environ, "PYTHONPATH": path}
        )

    def wait_ready(self) -> None:
        """Block until the child listens; fail with what it said if it does not."""
        if self._child is None:
            raise RuntimeError("the DynamoDB process was never launched")
        line = _first_line(self._child.stdout, START_TIMEOUT_SECONDS)
        if not line.startswith(READY):
            self.stop()
            raise RuntimeError(f"the DynamoDB process did not start (it said {line!r}); see its stderr")
        self.port = int(line.removeprefix(READY))

    def forward_here(self) -> None:
        """DynamoDB calls to this process's moto go to the child from now on."""
        _forwarded.child = self

    def stop_forwarding(self) -> None:
        """DynamoDB calls stay in this process's moto again."""
        if _forwarded.child is self:
            _forwarded.child = None

    def stop(self) -> None:
        self.stop_forwarding()
        with self._idle_lock:
            idle, self._idle = self._idle, []
        for connection in idle:
            connection.close()
        child, self._child = self._child, None
        if child is None:
            return
        if child.stdin is not None:
            child.stdin.close()  # the child's signal to exit
        try:
            child.wait(timeout=STOP_TIMEOUT_SECONDS)
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()
        if child.stdout is not None:
            child.stdout.close()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def report(self, only: str | None = None) -> dict[str, Any]:
        """Each extension's report, by its name; ``only`` that one's (a poll need not carry the rest)."""
        path = REPORT_PATH if only is None else f"{REPORT_PATH}?{urllib.parse.urlencode({'only': only})}"
        status, _, body = self.send("GET", path, {}, b"")
        if status != 200:
            raise RuntimeError(f"the DynamoDB process answered {status} for its report")
        answer: dict[str, Any] = json.loads(body)
        return answer

    def send(
        self, method: str, path: str, headers: dict[str, str], body: bytes
    ) -> tuple[int, dict[str, str], bytes]:
        """One request to the child, over an idle kept connection (or a new one), kept again
        once answered. One that fails to connect or drops is AWS's EndpointConnectionError,
        which the SDK tries again; its connection is not kept."""
        connection = self._connection()
        try:
            connection.request(method, path, body=body, headers=headers)
            response = connection.getresponse()
            answer = response.status, dict(response.getheaders()), response.read()
        except (http.client.HTTPException, OSError):
            connection.close()
            raise EndpointConnectionError(endpoint_url=self.url) from None
        with self._idle_lock:
            self._idle.append(connection)
        return answer

    def _connection(self) -> http.client.HTTPConnection:
        with self._idle_lock:
            if self._idle:
                return self._idle.pop()  # the most recently used: the likeliest still open
            self.opened += 1
        return http.client.HTTPConnection("127.0.0.1", self.port, timeout=120)


class _Forwarded:
    """The child this process's DynamoDB calls go to, if any (one stack's at a time)."""

    child: DynamoDBProcess | None = None


_forwarded = _Forwarded()


def forwarding() -> DynamoDBProcess | None:
    return _forwarded.child


def answer_if_forwarded(request: AWSPreparedRequest, aws_url: str) -> AWSResponse | None:
    """The child's answer to a DynamoDB request addressed to this process's moto (in_process's
    ``before-send``), or None if DynamoDB is not forwarded or the request is not DynamoDB's."""
    from handoff.local.in_process import StreamedBody

    child = _forwarded.child
    if child is None or not aws_url.startswith(f"https://{SERVICE}."):
        return None
    body = _bytes(request.body)
    # botocore holds some values as bytes (X-Amz-Target among them).
    headers = {str(k): _text(v) for k, v in request.headers.items()}
    status, answer_headers, answer = child.send(request.method or "POST", "/", headers, body)
    # Addressed to AWS from now on, as an answered request is: no later before-send handler
    # (this one registered twice, say) takes it for a loopback request and sends it again.
    request.url = aws_url
    return AWSResponse(aws_url, status, answer_headers, StreamedBody(answer))  # type: ignore[arg-type]


def wsgi_app(child: DynamoDBProcess) -> Callable[..., Any]:
    """A WSGI app for moto's server: the DynamoDB requests it is sent, answered by the child."""

    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length) if length else b""
        headers = {
            key[5:].replace("_", "-").title(): value
            for key, value in environ.items()
            if key.startswith("HTTP_")
        }
        if environ.get("CONTENT_TYPE"):
            headers["Content-Type"] = environ["CONTENT_TYPE"]
        status, answer_headers, answer = child.send(environ.get("REQUEST_METHOD", "POST"), "/", headers, body)
        kept = [
            (k, v)
            for k, v in answer_headers.items()
            if k.lower() not in {"content-length", "connection", "transfer-encoding"}
        ]
        start_response(
            f"{status} {http.client.responses.get(status, '')}", [*kept, ("Content-Length", str(len(answer)))]
        )
        return [answer]

    return app


def _text(value: object) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def _bytes(body: Any) -> bytes:
    """A prepared request's body as bytes (DynamoDB's are bytes already)."""
    if body is None:
        return b""
    if isinstance(body, str):
        return body.encode()
    return bytes(body) if isinstance(body, bytes | bytearray) else bytes(body.read())


def _first_line(stream: IO[bytes] | None, timeout: float) -> str:
    """The stream's first line, or '' if none comes within the timeout."""
    if stream is None:
        return ""
    lines: list[bytes] = []
    reader = threading.Thread(target=lambda: lines.append(stream.readline()), daemon=True)
    reader.start()
    reader.join(timeout)
    return lines[0].decode().strip() if lines else ""


# --- the child ---------------------------------------------------------------------------------


class _Handler(BaseHTTPRequestHandler):
    """DynamoDB's JSON protocol, answered by moto's backends as the stack's process would."""

    protocol_version = "HTTP/1.1"  # keep-alive: the stack keeps its connections for many calls
    # An answer goes out as two writes (its headers, then its body). With Nagle's algorithm on, the
    # second waited for the caller's delayed acknowledgement of the first: 40 ms a call.
    disable_nagle_algorithm = True
    reports: ClassVar[dict[str, Callable[[], Any]]] = {}

    def do_POST(self) -> None:
        from handoff.local.in_process import aws_url, moto_answer

        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        sent = HTTPHeaders()
        for key, value in self.headers.items():
            sent[key] = value
        request = AWSPreparedRequest(
            method="POST",
            url=f"http://127.0.0.1{self.path}",
            headers=sent,
            body=body,
            stream_output=False,
        )
        address = aws_url(request)
        answered = None
        if address is not None and address.startswith(f"https://{SERVICE}."):
            request.url = address
            answered = moto_answer(request)
        if answered is None:
            failure = {"__type": "UnrecognizedClientException", "message": "not a signed DynamoDB request"}
            answered = (400, {"Content-Type": "application/x-amz-json-1.0"}, json.dumps(failure))
        status, headers, answer = answered
        self._reply(status, headers, answer.encode() if isinstance(answer, str) else answer)

    def do_GET(self) -> None:
        path, _, query = self.path.partition("?")
        only = urllib.parse.parse_qs(query).get("only")
        if path != REPORT_PATH or (only and only[0] not in self.reports):
            self._reply(404, {"Content-Type": "text/plain"}, b"not found")
            return
        answer = json.dumps(
            {name: report() for name, report in self.reports.items() if not only or name == only[0]}
        ).encode()
        self._reply(200, {"Content-Type": "application/json"}, answer)

    def _reply(self, status: int, headers: dict[str, str], body: bytes) -> None:
        self.send_response_only(status)  # moto's answer has its own Date and Server
        for key, value in headers.items():
            if key.lower() not in {"content-length", "connection", "transfer-encoding"}:
                self.send_header(key, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        """One line per call is noise; the stack's process reports what fails."""


def main(argv: list[str] | None = None) -> None:
    from handoff.local import collector, emulator
    from handoff.local.loopback import LoopbackServer

    parser = argparse.ArgumentParser(description="The local stack's DynamoDB (started by the stack).")
    parser.add_argument("--extension", action="append", default=[], help="module:function to run at start")
    args = parser.parse_args(argv)
    emulator.install()
    reports: dict[str, Callable[[], Any]] = {}
    for extension in args.extension:
        module, _, function = extension.partition(":")
        reports[extension] = getattr(importlib.import_module(module), function)()
    _Handler.reports = reports
    server = LoopbackServer(_Handler, name="dynamodb")
    server.start()
    collector.stack_started()  # this process holds the tables, as the stack's holds the rest
    port = server.server.server_address[1]
    print(f"{READY}{port}", flush=True)
    sys.stdout = sys.stderr  # nothing reads the pipe after this line; a full pipe would block
    sys.stdin.buffer.read()  # until the stack closes it, or its process dies
    server.stop()


if __name__ == "__main__":
    main()
