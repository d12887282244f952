"""A small client for the HubSpot CRM v3 objects API: read a contact and its company, and
write a contact's owner and lead status back.

Reads retry within a budget that fits HubSpot's short webhook timeout; the caller answers
503 if it runs out, so HubSpot redelivers and the event is never dropped.
"""

from __future__ import annotations

import time
import urllib.parse
from typing import Any

from handoff.crm.crm_http import CrmHttp, CrmRecordMissing, CrmUnavailable

__all__ = ["CrmRecordMissing", "CrmUnavailable", "HubSpotClient"]


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
        self.http = CrmHttp(
            "HubSpot", base_url, lambda: f"Bearer {token}", timeout=timeout, attempts=attempts, backoff=backoff,
            max_delay=2.0, sleep=sleep,
        )  # fmt: skip

    @property
    def timeout(self) -> float:
        return self.http.timeout

    @timeout.setter
    def timeout(self, value: float) -> None:
        self.http.timeout = value

    def _get(self, path: str, query: dict[str, str]) -> dict[str, Any]:
        return self.http.request("GET", path, query=query) or {}

    def update_contact(self, contact_id: str, properties: dict[str, str]) -> None:
        """PATCH the contact's properties: setting the same values twice changes nothing."""
        path = f"/crm/v3/objects/contacts/{urllib.parse.quote(contact_id, safe='')}"
        self.http.request("PATCH", path, body={"properties": properties})

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
