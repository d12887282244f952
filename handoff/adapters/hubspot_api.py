"""A small client for the HubSpot CRM v3 objects API: read a contact and its company.

Retries 429 and 5xx with backoff and jitter, honouring Retry-After, within a budget
that fits HubSpot's short webhook timeout; the caller answers 503 if it runs out,
so HubSpot redelivers and the event is never dropped.
"""

from __future__ import annotations

import json
import random
import time
import urllib.error
import urllib.parse
import urllib.request
from typing import Any

from handoff.errors import HandoffError

RETRYABLE = {429, 500, 502, 503, 504}


class CrmUnavailable(HandoffError):
    """The CRM could not be read after retries; the sender should redeliver."""


class CrmRecordMissing(HandoffError):
    """The CRM says the record does not exist (deleted or merged since the event)."""


class HubSpotClient:
    def __init__(
        self,
        base_url: str,
        token: str,
        *,
        timeout: float = 3.0,
        attempts: int = 3,
        backoff: float = 0.2,
        sleep: Any = time.sleep,
    ):
        self.base_url = base_url.rstrip("/")
        self._token = token
        self.timeout = timeout
        self.attempts = attempts
        self.backoff = backoff
        self._sleep = sleep

    def _get(self, path: str, query: dict[str, str]) -> dict[str, Any]:
        url = f"{self.base_url}{path}?{urllib.parse.urlencode(query)}"
        last = "no attempt"
        for attempt in range(self.attempts):
            request = urllib.request.Request(  # noqa: S310 - configured https base URL
                url, headers={"Authorization": f"Bearer {self._token}", "Accept": "application/json"}
            )
            try:
                with urllib.request.urlopen(request, timeout=self.timeout) as response:  # noqa: S310
                    data: dict[str, Any] = json.loads(response.read())
                    return data
            except urllib.error.HTTPError as error:
                if error.code == 404:
                    raise CrmRecordMissing(path) from error
                if error.code not in RETRYABLE:
                    raise CrmUnavailable(f"HubSpot answered {error.code} for {path}") from error
                last = f"HTTP {error.code}"
                retry_after = error.headers.get("Retry-After") if error.headers else None
                delay = float(retry_after) if retry_after and retry_after.isdigit() else None
            except (urllib.error.URLError, TimeoutError, json.JSONDecodeError) as error:
                last = type(error).__name__
                delay = None
            if attempt + 1 < self.attempts:
                # Full jitter keeps many containers from retrying in lockstep.
                self._sleep(min(delay or self.backoff * 2**attempt * (0.5 + random.random()), 2.0))  # noqa: S311
        raise CrmUnavailable(f"HubSpot unavailable for {path} after {self.attempts} attempts ({last})")

    def contact_with_company(
        self, contact_id: str, properties: list[str]
    ) -> tuple[dict[str, Any], dict[str, Any] | None]:
        contact = self._get(
            f"/crm/v3/objects/contacts/{urllib.parse.quote(contact_id, safe='')}",
            {"properties": ",".join(properties), "associations": "companies"},
        )
        results = contact.get("associations", {}).get("companies", {}).get("results", [])
        if not results:
            return contact, None
        company_id = str(results[0].get("id", ""))
        try:
            company = self._get(
                f"/crm/v3/objects/companies/{urllib.parse.quote(company_id, safe='')}",
                {
                    "properties": "name,domain,industry,numberofemployees,annualrevenue,country,hubspot_owner_id"
                },
            )
        except CrmRecordMissing:
            company = None
        return contact, company
