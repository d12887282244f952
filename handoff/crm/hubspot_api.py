"""A small client for the HubSpot CRM v3 objects API: read a contact, its company and its open
deal, write a contact's owner and lead status back, and create the owner's task on it.

Reads retry within a budget that fits HubSpot's short webhook timeout; the caller answers
503 if it runs out, so HubSpot redelivers and the event is never dropped.
"""

from __future__ import annotations

import time
import urllib.parse
from typing import Any, NamedTuple

from handoff.crm.crm_http import CrmHttp, CrmRecordMissing, CrmUnavailable

__all__ = ["ContactRecords", "CrmRecordMissing", "CrmUnavailable", "DealRecords", "HubSpotClient"]

COMPANY_PROPERTIES = "name,domain,industry,numberofemployees,annualrevenue,country,hubspot_owner_id"
DEAL_PROPERTIES = ["hs_is_closed", "hubspot_owner_id", "dealstage", "amount", "createdate"]
# What a deal event reads: its stage, pipeline and amount, and when it was created and closed.
DEAL_READ_PROPERTIES = "dealstage,amount,pipeline,createdate,hs_is_closed,closedate"
# The default pipeline's closed stages, for a deal that carries no hs_is_closed.
CLOSED_STAGES = frozenset({"closedwon", "closedlost"})
# HubSpot's limit on inputs to one batch read.
BATCH_LIMIT = 100
# The private app's scopes, as HubSpot names them: reading contacts, their companies and deals,
# and PATCHing contacts (write-back).
READ_SCOPES = ("crm.objects.contacts.read", "crm.objects.companies.read", "crm.objects.deals.read")
WRITE_SCOPES = ("crm.objects.contacts.write",)
# Tasks (create_task, find_task): the scope requirements HubSpot's tasks guide lists, as written
# there: https://developers.hubspot.com/docs/api-reference/latest/crm/activities/tasks/guide
# docs/crm-setup.md names them and the page (tests/unit/test_crm_clients.py checks it).
TASK_DOC_URL = "https://developers.hubspot.com/docs/api-reference/latest/crm/activities/tasks/guide"
TASK_SCOPES = ("crm.objects.contacts.read", "crm.objects.contacts.write")
# What find_task reads of each task: the body carrying Handoff's marker line.
TASK_LOOKUP_PROPERTIES = ["hs_task_body"]


class ContactRecords(NamedTuple):
    """A contact as the CRM v3 API returns it, its primary company, and its most recent open deal."""

    contact: dict[str, Any]
    company: dict[str, Any] | None
    open_deal: dict[str, Any] | None


class DealRecords(NamedTuple):
    """A deal as the CRM v3 API returns it, its associated contacts' ids, and its primary company."""

    deal: dict[str, Any]
    contact_ids: list[str]
    company: dict[str, Any] | None


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

    def create_task(self, contact_id: str, properties: dict[str, str], association_type: int) -> str:
        """POST a task associated with the contact; its id. Not idempotent in HubSpot: the caller
        creates it once per lead and round (crm_sync's idempotency record and the lead's crm_tasks),
        and after a try whose answer was lost looks for it first (``find_task``). The body is
        HubSpot's documented one: ``associations`` of ``{"to": {"id"}, "types":
        [{"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": 204}]}`` (task to contact),
        https://developers.hubspot.com/docs/api/crm/tasks."""
        association = {
            "to": {"id": contact_id},
            "types": [{"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": association_type}],
        }
        answer = self.http.request(
            "POST",
            "/crm/v3/objects/tasks",
            body={"properties": properties, "associations": [association]},
            idempotent=False,
        )
        task_id = str((answer or {}).get("id") or "")
        if not task_id:
            raise CrmUnavailable("HubSpot created a task without answering its id")
        return task_id

    def find_task(self, contact_id: str, marker: str) -> str | None:
        """The id of a task on the contact whose body carries ``marker``, or None: the contact's
        task associations (GET the contact with ``associations=tasks``), then the newest of those
        tasks read in one batch. Association reads, not the search API, whose index lags writes."""
        contact = self._get(
            f"/crm/v3/objects/contacts/{urllib.parse.quote(contact_id, safe='')}",
            {"properties": "hs_object_id", "associations": "tasks"},
        )
        task_ids = _associated(contact, "tasks")
        if not task_ids:
            return None
        newest = sorted(task_ids, key=lambda i: (len(i), i), reverse=True)[:BATCH_LIMIT]
        try:
            answer = self.http.request(
                "POST",
                "/crm/v3/objects/tasks/batch/read",
                body={"properties": TASK_LOOKUP_PROPERTIES, "inputs": [{"id": i} for i in newest]},
            )
        except CrmRecordMissing:
            return None
        for task in (answer or {}).get("results", []):
            body = str(((task or {}).get("properties") or {}).get("hs_task_body") or "")
            if marker in body and task.get("id"):
                return str(task["id"])
        return None

    def contact_records(self, contact_id: str, properties: list[str]) -> ContactRecords:
        contact = self._get(
            f"/crm/v3/objects/contacts/{urllib.parse.quote(contact_id, safe='')}",
            {"properties": ",".join(properties), "associations": "companies,deals"},
        )
        deals = _associated(contact, "deals")
        return ContactRecords(
            contact, self._first_company(contact), self._open_deal(deals) if deals else None
        )

    def deal_records(self, deal_id: str) -> DealRecords:
        """The deal (CrmRecordMissing when it is gone), its contacts and its company."""
        deal = self._get(
            f"/crm/v3/objects/deals/{urllib.parse.quote(deal_id, safe='')}",
            {"properties": DEAL_READ_PROPERTIES, "associations": "contacts,companies"},
        )
        return DealRecords(deal, _associated(deal, "contacts"), self._first_company(deal))

    def _first_company(self, record: dict[str, Any]) -> dict[str, Any] | None:
        """The record's first associated company, or None (none, or gone since)."""
        companies = _associated(record, "companies")
        if not companies:
            return None
        try:
            return self._get(
                f"/crm/v3/objects/companies/{urllib.parse.quote(companies[0], safe='')}",
                {"properties": COMPANY_PROPERTIES},
            )
        except CrmRecordMissing:
            return None

    def _open_deal(self, deal_ids: list[str]) -> dict[str, Any] | None:
        """The most recently created open deal among ``deal_ids``; deals gone since are skipped."""
        # Ids grow with creation, so past HubSpot's batch limit the newest are the ones read.
        newest = sorted(deal_ids, key=lambda i: (len(i), i), reverse=True)[:BATCH_LIMIT]
        try:
            answer = self.http.request(
                "POST",
                "/crm/v3/objects/deals/batch/read",
                body={"properties": DEAL_PROPERTIES, "inputs": [{"id": i} for i in newest]},
            )
        except CrmRecordMissing:
            return None
        deals = [d for d in (answer or {}).get("results", []) if isinstance(d, dict) and _is_open(d)]
        return max(deals, key=_created, default=None)


def _associated(record: dict[str, Any], kind: str) -> list[str]:
    """The ids of a record's associated ``kind`` (one per record, whatever its association labels)."""
    results = (record.get("associations") or {}).get(kind, {}).get("results", [])
    return list(dict.fromkeys(str(r["id"]) for r in results if isinstance(r, dict) and r.get("id")))


def _is_open(deal: dict[str, Any]) -> bool:
    properties = deal.get("properties") or {}
    closed = str(properties.get("hs_is_closed") or "").lower()
    if closed in {"true", "false"}:
        return closed == "false"
    return str(properties.get("dealstage") or "").lower() not in CLOSED_STAGES


def _created(deal: dict[str, Any]) -> str:
    # ISO 8601 in UTC throughout, so the text sorts as the time does.
    return str((deal.get("properties") or {}).get("createdate") or deal.get("createdAt") or "")
