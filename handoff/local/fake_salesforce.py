"""A local stand-in for the documented Salesforce endpoints Handoff calls.

``POST /services/oauth2/token`` (client-credentials grant; answers an access token and
this server as the instance URL) and ``PATCH /services/data/vXX.X/sobjects/{Lead|Contact}/{id}``
(204 on success). Bearer tokens are checked; ``expire_tokens`` makes every issued token
answer 401 INVALID_SESSION_ID, as an expired session does. Errors use Salesforce's
documented shape: a list of {"message", "errorCode"}.
"""

from __future__ import annotations

import json
import re
import secrets
from typing import Any
from urllib.parse import parse_qs

from handoff.local.fake_crm import Answer, FakeCrm

SOBJECT_PATH = re.compile(r"^/services/data/v\d+\.\d/sobjects/(Lead|Contact)/([A-Za-z0-9]{15,18})$")


class FakeSalesforce(FakeCrm):
    def __init__(self, client_id: str, client_secret: str, host: str = "127.0.0.1", port: int = 0):
        self.client_id, self.client_secret = client_id, client_secret
        self.records: dict[str, dict[str, Any]] = {}
        self.tokens_issued = 0
        self._valid_tokens: set[str] = set()
        super().__init__("fake-salesforce", host=host, port=port)

    def expire_tokens(self) -> None:
        with self._lock:
            self._valid_tokens.clear()

    def answer(
        self, method: str, path: str, query: dict[str, list[str]], headers: Any, body: bytes
    ) -> Answer:
        if method == "POST" and path == "/services/oauth2/token":
            return self._token(body)
        token = (headers.get("Authorization") or "").removeprefix("Bearer ")
        if token not in self._valid_tokens:
            return 401, [{"message": "Session expired or invalid", "errorCode": "INVALID_SESSION_ID"}]
        failure = self.next_failure()
        if failure:
            code = "REQUEST_LIMIT_EXCEEDED" if failure == 429 else "SERVER_UNAVAILABLE"
            return failure, [{"message": "Try again later", "errorCode": code}]
        found = SOBJECT_PATH.match(path)
        if method != "PATCH" or not found:
            return 404, [{"message": "The requested resource does not exist", "errorCode": "NOT_FOUND"}]
        try:
            fields = json.loads(body)
        except ValueError:
            return 400, [{"message": "JSON parser error", "errorCode": "JSON_PARSER_ERROR"}]
        with self._lock:
            self.writes.append((path, fields))
            self.records.setdefault(found.group(2), {}).update(fields)
        return 204, None

    def _token(self, body: bytes) -> Answer:
        form = {k: v[0] for k, v in parse_qs(body.decode()).items()}
        if form.get("grant_type") != "client_credentials":
            return 400, {"error": "unsupported_grant_type", "error_description": "grant type not supported"}
        if (form.get("client_id"), form.get("client_secret")) != (self.client_id, self.client_secret):
            return 400, {"error": "invalid_client", "error_description": "invalid client credentials"}
        token = secrets.token_hex(16)
        with self._lock:
            self._valid_tokens.add(token)
            self.tokens_issued += 1
        return 200, {
            "access_token": token,
            "instance_url": self.url,
            "token_type": "Bearer",
            "issued_at": "0",
        }
