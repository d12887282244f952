"""A local stand-in for the documented Salesforce endpoints Handoff calls.

``POST /services/oauth2/token`` (client-credentials grant; answers an access token and
this server as the instance URL), ``PATCH /services/data/vXX.X/sobjects/{Lead|Contact}/{id}``
(204 on success), ``POST /services/data/vXX.X/sobjects/Task`` (201 with the new Task's id),
``GET /services/data/vXX.X/sobjects/Account/{id}?fields=...`` (the
requested fields of a seeded Account), ``GET /services/data/vXX.X/sobjects/Opportunity/{id}?fields=...``
and ``GET /services/data/vXX.X/query?q=...`` for the three SOQL queries Handoff sends: a seeded
Account's most recent open Opportunity, an Opportunity's contact roles, and a Lead's or
Contact's newest Tasks. Bearer
tokens are checked; ``expire_tokens`` makes every issued token answer 401
INVALID_SESSION_ID, as an expired session does. Errors use Salesforce's documented shape:
a list of {"message", "errorCode"}.
"""

from __future__ import annotations

import json
import re
import secrets
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

from handoff.local.fake_crm import Answer, FakeCrm

SOBJECT_PATH = re.compile(r"^/services/data/(v\d+\.\d)/sobjects/(Lead|Contact)/([A-Za-z0-9]{15,18})$")
ACCOUNT_PATH = re.compile(r"^/services/data/(v\d+\.\d)/sobjects/Account/([A-Za-z0-9]{15,18})$")
TASK_PATH = re.compile(r"^/services/data/v\d+\.\d/sobjects/Task/?$")
# A Task's fields Handoff sends, and the Status and Priority picklists' default values.
TASK_FIELDS = frozenset(
    {"WhoId", "OwnerId", "Subject", "Description", "ActivityDate", "ReminderDateTime", "IsReminderSet",
     "Status", "Priority"}
)  # fmt: skip
OPPORTUNITY_PATH = re.compile(r"^/services/data/(v\d+\.\d)/sobjects/Opportunity/([A-Za-z0-9]{15,18})$")
CONTACT_ROLES = re.compile(
    r"SELECT ContactId FROM OpportunityContactRole WHERE OpportunityId = '([A-Za-z0-9]{15}|[A-Za-z0-9]{18})'"
)
QUERY_PATH = re.compile(r"^/services/data/v\d+\.\d/query/?$")
TASKS_ON = re.compile(
    r"SELECT Id, Description FROM Task WHERE WhoId = '([A-Za-z0-9]{15}|[A-Za-z0-9]{18})' "
    r"ORDER BY CreatedDate DESC LIMIT (\d+)"
)
OPEN_OPPORTUNITY = re.compile(
    r"SELECT Id, OwnerId FROM Opportunity WHERE AccountId = '([A-Za-z0-9]{15}|[A-Za-z0-9]{18})' "
    r"AND IsClosed = false ORDER BY CreatedDate DESC LIMIT 1"
)
# Account's fields in an org without state and country picklists (no BillingCountryCode):
# asking for any other field is a 400, as it is in Salesforce.
ACCOUNT_COLUMNS = frozenset(
    {
        "Id", "Name", "Website", "Industry", "NumberOfEmployees", "AnnualRevenue", "BillingCountry",
        "BillingState", "BillingCity", "OwnerId", "Type", "Phone",
    }
)  # fmt: skip
PICKLIST_COLUMNS = frozenset({"BillingCountryCode", "BillingStateCode"})


def _not_found() -> Answer:
    return 404, [{"message": "The requested resource does not exist", "errorCode": "NOT_FOUND"}]


class FakeSalesforce(FakeCrm):
    def __init__(
        self,
        client_id: str,
        client_secret: str,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        data_file: Path | None = None,
        country_picklists: bool = False,
    ):
        self.client_id, self.client_secret = client_id, client_secret
        self.records: dict[str, dict[str, Any]] = {}
        # Tasks created: id -> fields.
        self.tasks: dict[str, dict[str, Any]] = {}
        # {"Account": {id: fields}, "Opportunity": {id: fields with AccountId, IsClosed, CreatedDate}}
        self.data: dict[str, dict[str, dict[str, Any]]] = (
            json.loads(data_file.read_text()) if data_file else {"Account": {}, "Opportunity": {}}
        )
        self.account_columns = ACCOUNT_COLUMNS | (PICKLIST_COLUMNS if country_picklists else frozenset())
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
        return self._read(path, query) if method == "GET" else self._write(method, path, body)

    def _read(self, path: str, query: dict[str, list[str]]) -> Answer:
        if account := ACCOUNT_PATH.match(path):
            return self._account(account.group(1), account.group(2), query)
        if opportunity := OPPORTUNITY_PATH.match(path):
            return self._opportunity(opportunity.group(1), opportunity.group(2), query)
        if QUERY_PATH.match(path):
            return self._query(query)
        return self._write("GET", path, b"")

    def _write(self, method: str, path: str, body: bytes) -> Answer:
        if method == "POST" and TASK_PATH.match(path):
            return self._create_task(path, body)
        return self._update(path, body) if method == "PATCH" else _not_found()

    def _update(self, path: str, body: bytes) -> Answer:
        found = SOBJECT_PATH.match(path)
        if not found:
            return _not_found()
        try:
            fields = json.loads(body)
        except ValueError:
            return 400, [{"message": "JSON parser error", "errorCode": "JSON_PARSER_ERROR"}]
        with self._lock:
            self.writes.append((path, fields))
            self.records.setdefault(found.group(3), {}).update(fields)
        return 204, None

    def _create_task(self, path: str, body: bytes) -> Answer:
        try:
            fields = json.loads(body)
        except ValueError:
            return 400, [{"message": "JSON parser error", "errorCode": "JSON_PARSER_ERROR"}]
        unknown = sorted(set(fields) - TASK_FIELDS)
        if unknown:
            return 400, [
                {
                    "message": f"No such column '{unknown[0]}' on sobject of type Task",
                    "errorCode": "INVALID_FIELD",
                }
            ]
        who = str(fields.get("WhoId") or "")
        if who and not who.startswith(("00Q", "003")):
            return 400, [
                {"message": "Name ID: id value of incorrect type", "errorCode": "FIELD_INTEGRITY_EXCEPTION"}
            ]
        with self._lock:
            task_id = f"00T5g00000TASK{len(self.tasks) + 1:04d}"
            self.tasks[task_id] = dict(fields)
            self.writes.append((path, fields))
        return 201, {"id": task_id, "success": True, "errors": []}

    def _account(self, version: str, account_id: str, query: dict[str, list[str]]) -> Answer:
        wanted = [f for f in ",".join(query.get("fields", [])).split(",") if f]
        unknown = [f for f in wanted if f not in self.account_columns]
        if unknown:
            return 400, [
                {
                    "message": f"No such column '{unknown[0]}' on sobject of type Account",
                    "errorCode": "INVALID_FIELD",
                }
            ]
        record = self.data.get("Account", {}).get(account_id)
        if record is None:
            return _not_found()
        shown = wanted or sorted(self.account_columns)
        return 200, {
            "attributes": {
                "type": "Account",
                "url": f"/services/data/{version}/sobjects/Account/{account_id}",
            },
            **{name: record.get(name) for name in shown},
        }

    def _opportunity(self, version: str, opportunity_id: str, query: dict[str, list[str]]) -> Answer:
        """A seeded Opportunity's requested fields (its ContactRoles are not a field: they are
        read with the OpportunityContactRole query)."""
        record = self.data.get("Opportunity", {}).get(opportunity_id)
        if record is None:
            return _not_found()
        wanted = [f for f in ",".join(query.get("fields", [])).split(",") if f]
        shown = wanted or sorted(k for k in record if k != "ContactRoles")
        url = f"/services/data/{version}/sobjects/Opportunity/{opportunity_id}"
        return 200, {"attributes": {"type": "Opportunity", "url": url}, "Id": opportunity_id,
                     **{name: record.get(name) for name in shown if name != "Id"}}  # fmt: skip

    def _contact_roles(self, opportunity_id: str) -> Answer:
        record = self.data.get("Opportunity", {}).get(opportunity_id) or {}
        records = [
            {"attributes": {"type": "OpportunityContactRole"}, "ContactId": contact_id}
            for contact_id in record.get("ContactRoles", [])
        ]
        return 200, {"totalSize": len(records), "done": True, "records": records}

    def _tasks_on(self, who_id: str, limit: int) -> Answer:
        """The record's Tasks, newest first (ids grow with creation here)."""
        with self._lock:
            newest = [(i, f) for i, f in reversed(self.tasks.items()) if f.get("WhoId") == who_id][:limit]
        records = [
            {"attributes": {"type": "Task", "url": f"/services/data/v60.0/sobjects/Task/{task_id}"},
             "Id": task_id, "Description": fields.get("Description")}
            for task_id, fields in newest
        ]  # fmt: skip
        return 200, {"totalSize": len(records), "done": True, "records": records}

    def _query(self, query: dict[str, list[str]]) -> Answer:
        soql = " ".join(query.get("q", [""])[0].split())
        if roles := CONTACT_ROLES.fullmatch(soql):
            return self._contact_roles(roles.group(1))
        if tasks := TASKS_ON.fullmatch(soql):
            return self._tasks_on(tasks.group(1), int(tasks.group(2)))
        found = OPEN_OPPORTUNITY.fullmatch(soql)
        if not found:
            return 400, [{"message": f"unexpected query: {soql[:200]}", "errorCode": "MALFORMED_QUERY"}]
        account_id = found.group(1)
        open_ones = sorted(
            (
                (str(fields.get("CreatedDate", "")), opportunity_id, fields)
                for opportunity_id, fields in self.data.get("Opportunity", {}).items()
                if fields.get("AccountId") == account_id and not fields.get("IsClosed")
            ),
            reverse=True,
        )[:1]
        records = [
            {
                "attributes": {
                    "type": "Opportunity",
                    "url": f"/services/data/v60.0/sobjects/Opportunity/{oid}",
                },
                "Id": oid,
                "OwnerId": fields.get("OwnerId"),
            }
            for _, oid, fields in open_ones
        ]
        return 200, {"totalSize": len(records), "done": True, "records": records}

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
