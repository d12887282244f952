"""A small HTTP client for the Handoff API: signs webhooks the way a sender must."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Any

from handoff.crm.hubspot_signature import sign_v3
from handoff.crm.signature import sign_generic


@dataclass(frozen=True)
class ApiResponse:
    status: int
    body: dict[str, Any]


class HandoffClient:
    def __init__(
        self,
        base_url: str,
        *,
        generic_secret: str,
        api_key: str,
        generic_token: str = "",
        hubspot_secret: str = "",
        salesforce_token: str = "",
    ):
        self.base_url = base_url.rstrip("/")
        self.generic_secret = generic_secret
        self.api_key = api_key
        self.generic_token = generic_token
        self.hubspot_secret = hubspot_secret
        self.salesforce_token = salesforce_token

    @classmethod
    def for_secrets(cls, base_url: str, values: dict[str, str]) -> HandoffClient:
        """A client holding every sender's credentials, keyed by their environment variables."""
        return cls(
            base_url,
            generic_secret=values["HANDOFF_GENERIC_SECRET"],
            api_key=values["HANDOFF_API_KEY"],
            generic_token=values.get("HANDOFF_GENERIC_TOKEN", ""),
            hubspot_secret=values.get("HANDOFF_HUBSPOT_APP_SECRET", ""),
            salesforce_token=values.get("HANDOFF_SALESFORCE_TOKEN", ""),
        )

    def request(
        self,
        method: str,
        path: str,
        body: bytes | None = None,
        headers: dict[str, str] | None = None,
    ) -> ApiResponse:
        request = urllib.request.Request(  # noqa: S310 - the caller's own Handoff URL
            self.base_url + path, data=body, method=method, headers=headers or {}
        )
        try:
            with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
                return ApiResponse(response.status, json.loads(response.read() or b"{}"))
        except urllib.error.HTTPError as error:
            return ApiResponse(error.code, json.loads(error.read() or b"{}"))

    def post_generic(self, lead: dict[str, Any] | bytes, *, secret: str | None = None) -> ApiResponse:
        body = lead if isinstance(lead, bytes) else json.dumps(lead).encode()
        signature = sign_generic(secret or self.generic_secret, body, int(time.time()))
        headers = {"Content-Type": "application/json", "X-Handoff-Signature": signature}
        return self.request("POST", "/webhooks/generic", body, headers)

    def post_bearer(self, lead: dict[str, Any]) -> ApiResponse:
        """The way Marketo sends: a static bearer token instead of a signature."""
        headers = {"Content-Type": "application/json", "Authorization": f"Bearer {self.generic_token}"}
        return self.request("POST", "/webhooks/generic", json.dumps(lead).encode(), headers)

    def post_hubspot(self, body: bytes, path: str = "/webhooks/hubspot") -> ApiResponse:
        """Signed as HubSpot signs: v3 over method, URI, body and a millisecond timestamp."""
        timestamp = str(int(time.time() * 1000))
        signature = sign_v3(self.hubspot_secret, "POST", f"{self.base_url}{path}", body, timestamp)
        headers = {
            "Content-Type": "application/json",
            "X-HubSpot-Signature-v3": signature,
            "X-HubSpot-Request-Timestamp": timestamp,
        }
        return self.request("POST", path, body, headers)

    def post_salesforce(self, body: bytes) -> tuple[int, str]:
        """An Outbound Message; the answer is SOAP, returned as text."""
        request = urllib.request.Request(  # noqa: S310 - the caller's own Handoff URL
            f"{self.base_url}/webhooks/salesforce?token={self.salesforce_token}",
            data=body,
            method="POST",
            headers={"Content-Type": "text/xml; charset=utf-8", "SOAPAction": '""'},
        )
        try:
            with urllib.request.urlopen(request, timeout=60) as response:  # noqa: S310
                return response.status, response.read().decode()
        except urllib.error.HTTPError as error:
            return error.code, error.read().decode()

    def get_lead(self, lead_id: str) -> ApiResponse:
        return self.request("GET", f"/leads/{lead_id}", headers={"x-api-key": self.api_key})

    def dispose(
        self, lead_id: str, outcome: str, reason: str | None = None, note: str | None = None, **more: str
    ) -> ApiResponse:
        """POST /leads/{id}/disposition; ``more``: the other fields it takes (rep_id, owner, by...)."""
        body = json.dumps({"outcome": outcome, "reason": reason, "note": note, **more}).encode()
        headers = {"Content-Type": "application/json", "x-api-key": self.api_key}
        return self.request("POST", f"/leads/{lead_id}/disposition", body, headers)

    def wait_for(self, lead_id: str, statuses: set[str], timeout: float = 30.0) -> dict[str, Any]:
        """Poll the lead until its status is one of ``statuses``."""
        deadline = time.monotonic() + timeout
        while True:
            lead = self.get_lead(lead_id).body
            if lead.get("status") in statuses or time.monotonic() > deadline:
                return lead
            time.sleep(0.2)
