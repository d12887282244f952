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
- **Framed, not HTTP.** Both ends are this module, on one machine, so a call crosses as one
  length-prefixed frame on a Unix socket (``_write_frame``): the request as the SDK signed it,
  and moto's answer. Over HTTP on loopback TCP, building and parsing the HTTP messages and the
  TCP stack cost the stack's process about 0.6 ms of a DynamoDB call's 2.2 ms, and the child as
  much again; about twelve calls a lead, in the process a burst keeps busy.
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
import io
import json
import os
import shutil
import socket
import socketserver
import struct
import subprocess
import sys
import tempfile
import threading
import urllib.parse
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any, BinaryIO, ClassVar

from botocore.awsrequest import AWSPreparedRequest, AWSResponse
from botocore.compat import HTTPHeaders
from botocore.exceptions import EndpointConnectionError

SERVICE = "dynamodb"
REPORT_PATH = "/handoff-local/report"
READY = "handoff-dynamodb ready on socket "
# Importing moto and the handlers' modules takes a few seconds on a slow machine.
START_TIMEOUT_SECONDS = 120
STOP_TIMEOUT_SECONDS = 10
# A frame: the lengths of its head (JSON) and body, then both.
_FRAME = struct.Struct("!II")
# The child takes as many connections at once as a burst's steps make (the stack's servers' backlog).
LISTEN_BACKLOG = 1024
CALL_TIMEOUT_SECONDS = 120


class DynamoDBProcess:
    """The child: ``launch()``, ``wait_ready()``, then ``forward_here()`` this process's DynamoDB
    calls to it; ``stop()`` ends it."""

    def __init__(self, extensions: tuple[str, ...] = ()) -> None:
        self.extensions = extensions
        self.socket_path = ""
        self._child: subprocess.Popen[bytes] | None = None
        # Idle kept connections, shared by every thread. The workflow runs each Lambda step on a
        # thread of its own, so a connection kept per thread served one step and was dropped:
        # a new TCP connection (and a new serving thread in the child) for every step.
        self._idle: list[_Connection] = []
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
        self.socket_path = line.removeprefix(READY)

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
        return f"unix://{self.socket_path}"

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
        try:
            connection = self._connection()
            head, answer = connection.call({"method": method, "path": path, "headers": headers}, body)
        except (OSError, ValueError):
            raise EndpointConnectionError(endpoint_url=self.url) from None
        with self._idle_lock:
            self._idle.append(connection)
        return int(head["status"]), dict(head["headers"]), answer

    def _connection(self) -> _Connection:
        with self._idle_lock:
            if self._idle:
                return self._idle.pop()  # the most recently used: the likeliest still open
            self.opened += 1
        return _Connection(self.socket_path)


class _Connection:
    """One kept connection to the child: a frame out, a frame back. A connection that fails is
    closed, and the caller does not keep it."""

    def __init__(self, path: str) -> None:
        self._socket = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self._socket.settimeout(CALL_TIMEOUT_SECONDS)
        try:
            self._socket.connect(path)
        except OSError:
            self._socket.close()
            raise
        self._reader = self._socket.makefile("rb")

    def call(self, head: dict[str, Any], body: bytes) -> tuple[dict[str, Any], bytes]:
        try:
            _write_frame(self._socket, head, body)
            return _read_frame(self._reader)
        except (OSError, ValueError):
            self.close()
            raise

    def close(self) -> None:
        self._reader.close()
        self._socket.close()


def _write_frame(to: socket.socket, head: dict[str, Any], body: bytes) -> None:
    encoded = json.dumps(head).encode()
    to.sendall(_FRAME.pack(len(encoded), len(body)) + encoded + body)  # one write: no Nagle wait


def _read_frame(reader: BinaryIO | io.BufferedIOBase) -> tuple[dict[str, Any], bytes]:
    """A frame's head and body; ValueError if the stream ends inside one (the other end closed)."""
    lengths = reader.read(_FRAME.size)
    if len(lengths) < _FRAME.size:
        raise ValueError("the connection closed")
    head_length, body_length = _FRAME.unpack(lengths)
    head, body = reader.read(head_length), reader.read(body_length)
    if len(head) < head_length or len(body) < body_length:
        raise ValueError("the connection closed inside a frame")
    decoded: dict[str, Any] = json.loads(head)
    return decoded, body


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


class _Handler(socketserver.StreamRequestHandler):
    """One kept connection from the stack's process: each frame is a request (DynamoDB's JSON
    protocol, answered by moto's backends as the stack's process would, or a report), answered
    with a frame, until the stack closes it."""

    reports: ClassVar[dict[str, Callable[[], Any]]] = {}

    def handle(self) -> None:
        while True:
            try:
                head, body = _read_frame(self.rfile)
            except ValueError:
                return  # the stack closed the connection
            if head.get("method") == "GET":
                status, headers, answer = self._report(str(head.get("path", "")))
            else:
                status, headers, answer = _answer(dict(head.get("headers") or {}), body)
            try:
                _write_frame(self.connection, {"status": status, "headers": headers}, answer)
            except OSError:
                return

    def _report(self, path_and_query: str) -> tuple[int, dict[str, str], bytes]:
        path, _, query = path_and_query.partition("?")
        only = urllib.parse.parse_qs(query).get("only")
        if path != REPORT_PATH or (only and only[0] not in self.reports):
            return 404, {"Content-Type": "text/plain"}, b"not found"
        answer = json.dumps(
            {name: report() for name, report in self.reports.items() if not only or name == only[0]}
        ).encode()
        return 200, {"Content-Type": "application/json"}, answer


def _answer(headers: dict[str, str], body: bytes) -> tuple[int, dict[str, str], bytes]:
    """moto's answer to a DynamoDB request as the SDK signed it; 400 if it names no DynamoDB."""
    from handoff.local.in_process import aws_url, moto_answer

    sent = HTTPHeaders()
    for key, value in headers.items():
        sent[key] = value
    request = AWSPreparedRequest(
        method="POST", url="http://127.0.0.1/", headers=sent, body=body, stream_output=False
    )
    address = aws_url(request)
    answered = None
    if address is not None and address.startswith(f"https://{SERVICE}."):
        request.url = address
        answered = moto_answer(request)
    if answered is None:
        failure = {"__type": "UnrecognizedClientException", "message": "not a signed DynamoDB request"}
        answered = (400, {"Content-Type": "application/x-amz-json-1.0"}, json.dumps(failure))
    status, answer_headers, answer = answered
    kept = {
        str(k): str(v)
        for k, v in answer_headers.items()
        if k.lower() not in {"content-length", "connection", "transfer-encoding"}
    }
    return status, kept, answer.encode() if isinstance(answer, str) else answer


class _Server(socketserver.ThreadingUnixStreamServer):
    daemon_threads = True
    request_queue_size = LISTEN_BACKLOG


def main(argv: list[str] | None = None) -> None:
    from handoff.local import collector, emulator

    parser = argparse.ArgumentParser(description="The local stack's DynamoDB (started by the stack).")
    parser.add_argument("--extension", action="append", default=[], help="module:function to run at start")
    args = parser.parse_args(argv)
    emulator.install()
    reports: dict[str, Callable[[], Any]] = {}
    for extension in args.extension:
        module, _, function = extension.partition(":")
        reports[extension] = getattr(importlib.import_module(module), function)()
    _Handler.reports = reports
    # A directory only this user can enter holds the socket (a Unix socket's path is short).
    folder = Path(tempfile.mkdtemp(prefix="handoff-dynamodb-"))
    path = str(folder / "socket")
    server = _Server(path, _Handler)
    serving = threading.Thread(target=server.serve_forever, name="dynamodb", daemon=True)
    serving.start()
    collector.stack_started()  # this process holds the tables, as the stack's holds the rest
    print(f"{READY}{path}", flush=True)
    sys.stdout = sys.stderr  # nothing reads the pipe after this line; a full pipe would block
    try:
        sys.stdin.buffer.read()  # until the stack closes it, or its process dies
    finally:
        server.shutdown()
        server.server_close()
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
