"""A small client for the Salesforce REST API: write a Lead's or Contact's owner and status.

Authentication is the OAuth 2.0 client-credentials flow of a connected app. The access
token is kept for the container's life and replaced when Salesforce answers 401 (expired
or revoked), once per call.
"""

from __future__ import annotations

import time
import urllib.parse
from typing import Any

from handoff.crm.crm_http import CrmHttp, CrmUnavailable

API_VERSION = "v60.0"
TOKEN_PATH = "/services/oauth2/token"  # noqa: S105 - the OAuth endpoint's path, not a token


class SalesforceClient:
    def __init__(
        self,
        login_url: str,
        client_id: str,
        client_secret: str,
        *,
        api_version: str = API_VERSION,
        timeout: float = 3.0,
        attempts: int = 3,
        sleep: Any = time.sleep,
    ):
        self._credentials = {
            "grant_type": "client_credentials",
            "client_id": client_id,
            "client_secret": client_secret,
        }
        self._options: dict[str, Any] = {"timeout": timeout, "attempts": attempts, "sleep": sleep}
        self._login = CrmHttp("Salesforce login", login_url, lambda: "", **self._options)
        self._api_version = api_version
        self._token: str | None = None
        self._api: CrmHttp | None = None
        self.token_requests = 0

    def _authenticate(self) -> None:
        self.token_requests += 1
        answer = self._login.request("POST", TOKEN_PATH, form=self._credentials) or {}
        if not answer.get("access_token") or not answer.get("instance_url"):
            raise CrmUnavailable("Salesforce login answered without an access token or instance URL")
        self._token = str(answer["access_token"])
        self._api = CrmHttp(
            "Salesforce",
            str(answer["instance_url"]),
            lambda: f"Bearer {self._token}",
            on_unauthorized=self._authenticate,
            **self._options,
        )

    def update(self, sobject: str, record_id: str, fields: dict[str, str]) -> None:
        """PATCH the record's fields (Salesforce answers 204); the same values twice change nothing."""
        if self._api is None:
            self._authenticate()
        assert self._api is not None  # noqa: S101 - set by _authenticate
        path = (
            f"/services/data/{self._api_version}/sobjects/{sobject}/{urllib.parse.quote(record_id, safe='')}"
        )
        self._api.request("PATCH", path, body=fields)
