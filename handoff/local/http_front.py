"""An HTTP front that turns requests into API Gateway (REST, proxy) events.

It serves the same routes as the deployed API (handoff.deploy.functions.ROUTES) and calls
the same handlers, in-process.
"""

from __future__ import annotations

import base64
import json
import re
import time
import uuid
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qs, urlsplit

from handoff.aws import container
from handoff.deploy import credentials
from handoff.deploy.functions import CONSOLE_AUTH, ROUTES, Route
from handoff.deploy.gateway import INTEGRATION_TIMEOUT_SECONDS
from handoff.local import lambdas
from handoff.local.gateway import (
    Refusal,
    SessionAuthorizer,
    Throttles,
    admit,
    integration_failure,
    integration_timeout,
    no_route,
    size_refusal,
)
from handoff.local.loopback import LoopbackServer


def usage_plan_key() -> str:
    """The key the deployed usage plan holds: the api-key secret's value."""
    return container.ports().secret(credentials.API_KEY.name)


def _compile(route: Route) -> re.Pattern[str]:
    pattern = re.sub(r"\{(\w+)\}", r"(?P<\1>[^/]+)", route.path)
    return re.compile(f"^{pattern}$")


_COMPILED = [(route, _compile(route)) for route in ROUTES]


def match(method: str, path: str) -> tuple[Route, dict[str, str]] | None:
    for route, pattern in _COMPILED:
        found = pattern.match(path)
        if found and route.method == method:
            return route, found.groupdict()
    return None


def session_authorizer() -> SessionAuthorizer:
    """The console's authorizer as API Gateway runs it, dispatched to the console_auth handler."""
    return SessionAuthorizer(
        lambda event: lambdas.invoke(CONSOLE_AUTH, event), region=lambdas.REGION, account=lambdas.ACCOUNT
    )


def build_event(
    route: Route,
    *,
    params: dict[str, str],
    method: str,
    raw_path: str,
    headers: dict[str, str],
    body: bytes,
) -> dict[str, Any]:
    split = urlsplit(raw_path)
    query = parse_qs(split.query, keep_blank_values=True)
    try:
        text: str | None = body.decode("utf-8") if body else None
        encoded = False
    except UnicodeDecodeError:
        text, encoded = base64.b64encode(body).decode(), True
    return {
        "resource": route.path,
        "path": split.path,
        "httpMethod": method,
        "headers": headers,
        "multiValueHeaders": {k: [v] for k, v in headers.items()},
        "queryStringParameters": {k: v[-1] for k, v in query.items()} or None,
        "multiValueQueryStringParameters": query or None,
        "pathParameters": params or None,
        "stageVariables": None,
        "requestContext": {
            "resourcePath": route.path,
            "httpMethod": method,
            "path": split.path,  # as received: the local front has no stage prefix
            "stage": "local",
            "requestId": str(uuid.uuid4()),
            "requestTimeEpoch": int(time.time() * 1000),
            "identity": {"sourceIp": "127.0.0.1"},
        },
        "body": text,
        "isBase64Encoded": encoded,
    }


class _Handler(BaseHTTPRequestHandler):
    server_version = "HandoffLocal/1"
    throttles = Throttles()  # the front's buckets; HttpFront gives each server its own
    sessions = session_authorizer()  # and its own authorizer cache

    def log_message(self, format: str, *args: Any) -> None:  # quiet by default
        return

    def _reply(
        self, status: int, headers: dict[str, str], body: bytes, cookies: list[str] | None = None
    ) -> None:
        self.send_response(status)
        for key, value in headers.items():
            self.send_header(key, value)
        for cookie in cookies or []:  # one header each: Set-Cookie values cannot be comma-joined
            self.send_header("Set-Cookie", cookie)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _refuse(self, refusal: Refusal) -> None:
        """Send what the gateway answers in place of the function."""
        self._reply(refusal.status, dict(refusal.headers), refusal.body)

    def _error(self, status: int, code: str, message: str, headers: dict[str, str] | None = None) -> None:
        body = json.dumps({"error": code, "message": message, "details": []}).encode()
        self._reply(status, {"Content-Type": "application/json", **(headers or {})}, body)

    def _handle(self) -> None:
        path = urlsplit(self.path).path
        found = match(self.command, path)
        if found is None:
            unrouted = no_route()
            self._refuse(unrouted)
            return
        route, params = found
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            self._error(400, "bad_request", "Content-Length is not a number")
            return
        if length < 0:
            self._error(400, "bad_request", "Content-Length is negative")
            return
        headers = {k: v for k, v in self.headers.items()}
        # A throttled request or a body over the limit is refused before it is read, as API
        # Gateway does.
        refusal = self.throttles.take(route) or size_refusal(length)
        body = b""
        if refusal is None:
            body = self.rfile.read(length) if length else b""
            refusal = admit(route, headers, body, usage_plan_key)
        if refusal is not None:
            self._refuse(refusal)
            return
        headers.setdefault("X-Forwarded-Proto", "http")  # API Gateway sets it; so does this front
        event = build_event(
            route, params=params, method=self.command, raw_path=self.path, headers=headers, body=body
        )
        if route.session:
            checked = self.sessions.check(route, event)
            if isinstance(checked, Refusal):
                self._refuse(checked)
                return
            event["requestContext"]["authorizer"] = checked.authorizer
        self._call(route, event)

    def _call(self, route: Route, event: dict[str, Any]) -> None:
        """Invoke the route's function and answer with what it returns, as a proxy integration."""
        try:
            result = lambdas.invoke_within(route.function, event, INTEGRATION_TIMEOUT_SECONDS)
        except lambdas.StillRunning:  # API Gateway stops waiting; the function runs on
            self._refuse(integration_timeout())
            return
        except lambdas.Throttled:  # no slot came free: Lambda's concurrency is spent
            self._refuse(integration_failure())
            return
        except Exception:  # what API Gateway answers when a Lambda crashes
            self._error(502, "internal", "the function failed; see the server log")
            raise
        payload = result.get("body") or ""
        data = base64.b64decode(payload) if result.get("isBase64Encoded") else payload.encode()
        out_headers = dict(result.get("headers") or {})
        cookies: list[str] = []
        for key, values in (result.get("multiValueHeaders") or {}).items():
            if key.lower() == "set-cookie":
                cookies.extend(values)
                out_headers.pop(key, None)
            else:
                out_headers[key] = ", ".join(values)
        if "Set-Cookie" in out_headers:
            cookies.insert(0, out_headers.pop("Set-Cookie"))
        self._reply(int(result.get("statusCode", 200)), out_headers, data, cookies)

    def __getattr__(self, name: str) -> Any:
        # Every method, even one http.server has never heard of, gets a JSON answer (the gateway's
        # 404 when no route takes it), never http.server's 501.
        if name.startswith("do_"):
            return self._handle
        raise AttributeError(name)


class HttpFront(LoopbackServer):
    """The API Gateway stand-in."""

    def __init__(self, host: str, port: int):
        # Each front keeps its own buckets, as each deployed API has its own.
        handler = type(
            "_FrontHandler", (_Handler,), {"throttles": Throttles(), "sessions": session_authorizer()}
        )
        super().__init__(handler, name="http-front", host=host, port=port)
