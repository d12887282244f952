"""A small client for the Salesforce REST API: read a Contact's Account and its open
Opportunity, write a Lead's or Contact's owner and status, and create the owner's Task.

Authentication is the OAuth 2.0 client-credentials flow of a connected app. The access
token is kept for the container's life and replaced when Salesforce answers 401 (expired
or revoked), once per call.
"""

from __future__ import annotations

import re
import threading
import time
import urllib.parse
from typing import Any

from handoff.crm.crm_http import CrmHttp, CrmRecordMissing, CrmUnavailable

API_VERSION = "v60.0"
TOKEN_PATH = "/services/oauth2/token"  # noqa: S105 - the OAuth endpoint's path, not a token
# What an Opportunity notification reads: the notification may carry only its Id and AccountId.
OPPORTUNITY_FIELDS = (
    "Id",
    "AccountId",
    "StageName",
    "Amount",
    "CreatedDate",
    "IsClosed",
    "IsWon",
    "CloseDate",
)
# The newest Tasks on a record find_task reads: a retry comes minutes after its create.
TASK_LOOKUP_LIMIT = 50
# A record id: 15 case-sensitive characters, or 18 with the case-safe suffix.
RECORD_ID = re.compile(r"[A-Za-z0-9]{15}(?:[A-Za-z0-9]{3})?")


def is_record_id(value: str) -> bool:
    """Whether ``value`` is shaped like a Salesforce id: the only thing that may reach SOQL."""
    return RECORD_ID.fullmatch(value) is not None


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
        # Account reads run side by side: one of them gets the first token, the others wait for it.
        self._login_lock = threading.Lock()
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

    def _request(
        self,
        method: str,
        path: str,
        *,
        query: dict[str, str] | None = None,
        body: dict[str, Any] | None = None,
        idempotent: bool = True,
    ) -> dict[str, Any] | None:
        with self._login_lock:
            if self._api is None:
                self._authenticate()
        assert self._api is not None  # noqa: S101 - set by _authenticate
        return self._api.request(
            method, f"/services/data/{self._api_version}{path}", query=query, body=body, idempotent=idempotent
        )

    def _get(self, path: str, query: dict[str, str]) -> dict[str, Any]:
        return self._request("GET", path, query=query) or {}

    def update(self, sobject: str, record_id: str, fields: dict[str, str]) -> None:
        """PATCH the record's fields (Salesforce answers 204); the same values twice change nothing."""
        self._request("PATCH", f"/sobjects/{sobject}/{urllib.parse.quote(record_id, safe='')}", body=fields)

    def create(self, sobject: str, fields: dict[str, str]) -> str:
        """POST a new record (Salesforce answers 201 with its id); not idempotent, so the caller
        creates it once. A ReminderDateTime is set only with IsReminderSet, so a reminder turns it on."""
        body: dict[str, Any] = dict(fields)
        if "ReminderDateTime" in fields:
            body["IsReminderSet"] = True
        answer = (
            self._request(
                "POST", f"/sobjects/{urllib.parse.quote(sobject, safe='')}", body=body, idempotent=False
            )
            or {}
        )
        if not answer.get("id") or answer.get("success") is False:
            raise CrmUnavailable(
                f"Salesforce did not create the {sobject}: {str(answer.get('errors'))[:200]}"
            )
        return str(answer["id"])

    def find_task(self, who_id: str, marker: str) -> str | None:
        """The id of a Task on the Lead or Contact whose Description carries ``marker``, or None.
        Description is a long text area, which SOQL cannot filter on: the record's newest Tasks
        are read and matched here."""
        if not is_record_id(who_id):
            raise ValueError(f"{who_id[:40]!r} is not a Salesforce record id")
        soql = (
            "SELECT Id, Description FROM Task "  # noqa: S608 - its one value is a checked record id
            f"WHERE WhoId = '{who_id}' ORDER BY CreatedDate DESC LIMIT {TASK_LOOKUP_LIMIT}"
        )
        for task in self._get("/query", {"q": soql}).get("records") or []:
            if isinstance(task, dict) and marker in str(task.get("Description") or "") and task.get("Id"):
                return str(task["Id"])
        return None

    def opportunity_records(self, opportunity_id: str) -> tuple[dict[str, Any] | None, list[str]]:
        """The Opportunity (stage, amount, account, created date) and its contact roles' Contact
        ids; (None, []) when it is gone."""
        if not is_record_id(opportunity_id):
            raise ValueError(f"{opportunity_id[:40]!r} is not a Salesforce record id")
        try:
            opportunity = self._get(
                f"/sobjects/Opportunity/{opportunity_id}", {"fields": ",".join(OPPORTUNITY_FIELDS)}
            )
        except CrmRecordMissing:
            return None, []
        soql = (
            "SELECT ContactId FROM OpportunityContactRole "  # noqa: S608 - its one value is a checked record id
            f"WHERE OpportunityId = '{opportunity_id}'"
        )
        records = self._get("/query", {"q": soql}).get("records") or []
        contacts = [str(r["ContactId"]) for r in records if isinstance(r, dict) and r.get("ContactId")]
        return opportunity, list(dict.fromkeys(contacts))

    def account_with_open_opportunity(
        self, account_id: str, fields: list[str]
    ) -> tuple[dict[str, Any] | None, dict[str, Any] | None]:
        """The Account's ``fields``, and its most recently created open Opportunity (Id, OwnerId);
        (None, None) when the Account is gone, and no opportunity when none is open."""
        if not is_record_id(account_id):
            raise ValueError(f"{account_id[:40]!r} is not a Salesforce record id")
        try:
            account = self._get(f"/sobjects/Account/{account_id}", {"fields": ",".join(fields)})
        except CrmRecordMissing:
            return None, None
        # The id was checked above: 15 or 18 letters and digits, nothing that can end the string.
        soql = (
            "SELECT Id, OwnerId FROM Opportunity "  # noqa: S608 - its one value is a checked record id
            f"WHERE AccountId = '{account_id}' AND IsClosed = false ORDER BY CreatedDate DESC LIMIT 1"
        )
        records = self._get("/query", {"q": soql}).get("records") or []
        return account, records[0] if records and isinstance(records[0], dict) else None
