"""A local stand-in for the documented HubSpot CRM v3 objects API.

Serves ``GET /crm/v3/objects/contacts/{id}`` (with ``associations=companies,deals``),
``GET /crm/v3/objects/deals/{id}`` (with ``associations=contacts,companies``),
``GET /crm/v3/objects/companies/{id}`` and ``POST /crm/v3/objects/deals/batch/read`` from a
JSON file, takes ``PATCH /crm/v3/objects/contacts/{id}`` (owner and lead status written back)
and ``POST /crm/v3/objects/tasks`` (a task associated with a contact: 201 with its id; the
contact then lists it under ``associations=tasks``, and ``POST /crm/v3/objects/tasks/batch/read``
reads it), checks the bearer token, and answers with HubSpot's documented error shape. ``fail_next``
injects 429/5xx answers so retries are tested against HTTP, not against a mock of our own client.
"""

from __future__ import annotations

import json
import re
from datetime import datetime
from pathlib import Path
from typing import Any

from handoff.local.fake_crm import Answer, FakeCrm
from handoff.local.samples import as_if_sent

OBJECT_PATH = re.compile(r"^/crm/v3/objects/(contacts|companies|deals|tasks)/([^/]+)$")
BATCH_READ_PATH = re.compile(r"^/crm/v3/objects/(contacts|companies|deals|tasks)/batch/read$")
TASKS_PATH = "/crm/v3/objects/tasks"
# HubSpot's default association type for a task to a contact.
TASK_TO_CONTACT = 204
BATCH_LIMIT = 100


class FakeHubSpot(FakeCrm):
    def __init__(
        self,
        data_file: Path,
        token: str,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        dated_as_of: datetime | None = None,
    ):
        """``dated_as_of``: the records' dates moved to end minutes before it (handoff.local.samples),
        for a stack that scores them by the real clock; None keeps them as written."""
        data: dict[str, dict[str, Any]] = json.loads(data_file.read_text())
        self.data = as_if_sent(data, dated_as_of) if dated_as_of else data
        self.token = token
        super().__init__("fake-hubspot", host=host, port=port)

    def answer(
        self, method: str, path: str, query: dict[str, list[str]], headers: Any, body: bytes
    ) -> Answer:
        if headers.get("Authorization") != f"Bearer {self.token}":
            return 401, _error("Authentication credentials not found.", "INVALID_AUTHENTICATION")
        failure = self.next_failure()
        if failure:
            return failure, _error("Internal error", "INTERNAL_ERROR" if failure >= 500 else "RATE_LIMITS")
        if method == "POST":
            return self._post(path, body)
        found = OBJECT_PATH.match(path)
        if not found:
            return 404, _error("Unknown path", "OBJECT_NOT_FOUND")
        kind, object_id = found.groups()
        record = self.data.get(kind, {}).get(object_id)
        if record is None:
            return 404, _error("resource not found", "OBJECT_NOT_FOUND")
        return self._update(path, record, body) if method == "PATCH" else (200, self._read(record, query))

    def put_deal(
        self,
        deal_id: str,
        *,
        stage: str,
        amount: str,
        created: str,
        contacts: list[str],
        companies: list[str],
    ) -> None:
        """Create or move a deal, as a rep does in HubSpot (the demo, before it sends the event)."""
        self.data.setdefault("deals", {})[deal_id] = {
            "id": deal_id,
            "properties": {"dealstage": stage, "amount": amount, "pipeline": "default", "createdate": created,
                           "hs_is_closed": str(stage in {"closedwon", "closedlost"}).lower()},
            "createdAt": created,
            "archived": False,
            "associations": {
                "contacts": {"results": [{"id": c, "type": "deal_to_contact"} for c in contacts]},
                "companies": {"results": [{"id": c, "type": "deal_to_company"} for c in companies]},
            },
        }  # fmt: skip

    def _read(self, record: dict[str, Any], query: dict[str, list[str]]) -> dict[str, Any]:
        """The record with the properties and the associations asked for."""
        wanted = set(",".join(query.get("properties", [])).split(",")) - {""}
        result = dict(record)
        if wanted:
            result["properties"] = {k: v for k, v in record.get("properties", {}).items() if k in wanted}
        kinds = set(",".join(query.get("associations", [])).split(","))
        associations = {k: v for k, v in record.get("associations", {}).items() if k in kinds}
        result.pop("associations", None)
        if associations:
            result["associations"] = associations
        return result

    def _batch_read(self, kind: str, body: bytes) -> Answer:
        """Every input found, with the properties asked for; 207 with an error naming the ids
        that are not, as HubSpot answers."""
        try:
            request = json.loads(body)
            ids = [str(i["id"]) for i in request["inputs"]]
            wanted = set(request.get("properties") or [])
        except (ValueError, KeyError, TypeError):
            return 400, _error("Invalid input JSON", "VALIDATION_ERROR")
        if len(ids) > BATCH_LIMIT:
            return 400, _error(f"Too many inputs: {len(ids)} > {BATCH_LIMIT}", "VALIDATION_ERROR")
        records = self.data.get(kind, {})
        results = [
            {
                **records[i],
                "properties": {k: v for k, v in records[i].get("properties", {}).items() if k in wanted},
            }
            for i in ids
            if i in records
        ]
        missing = [i for i in ids if i not in records]
        answer: dict[str, Any] = {
            "status": "COMPLETE",
            "results": results,
            "startedAt": "2026-01-01T00:00:00Z",
            "completedAt": "2026-01-01T00:00:00Z",
        }
        if not missing:
            return 200, answer
        answer["errors"] = [
            {"status": "error", "category": "OBJECT_NOT_FOUND", "message": "Could not get some objects",
             "context": {"ids": missing}}
        ]  # fmt: skip
        answer["numErrors"] = 1
        return 207, answer

    def _post(self, path: str, body: bytes) -> Answer:
        if path == TASKS_PATH:
            return self._create_task(body)
        batch = BATCH_READ_PATH.match(path)
        return (
            self._batch_read(batch.group(1), body)
            if batch
            else (404, _error("Unknown path", "OBJECT_NOT_FOUND"))
        )

    def _create_task(self, body: bytes) -> Answer:
        """A new task, kept under "tasks" with its associations, as HubSpot answers (201)."""
        try:
            request = json.loads(body)
            properties = dict(request["properties"])
            contacts = [
                str(a["to"]["id"])
                for a in request.get("associations") or []
                if any(t.get("associationTypeId") == TASK_TO_CONTACT for t in a["types"])
            ]
        except (ValueError, KeyError, TypeError):
            return 400, _error("Invalid input JSON", "VALIDATION_ERROR")
        if "hs_timestamp" not in properties:
            return 400, _error("Property values were not valid: hs_timestamp is required", "VALIDATION_ERROR")
        missing = [c for c in contacts if c not in self.data.get("contacts", {})]
        if missing:
            return 400, _error(f"No contacts with ids {missing}", "VALIDATION_ERROR")
        with self._lock:
            tasks = self.data.setdefault("tasks", {})
            task_id = str(90000 + len(tasks) + 1)
            task = {
                "id": task_id,
                "properties": properties,
                "associations": {
                    "contacts": {"results": [{"id": c, "type": "task_to_contact"} for c in contacts]}
                },
                "createdAt": "2026-01-01T00:00:00Z",
            }
            tasks[task_id] = task
            # Associations read from either side: the contact lists its tasks too.
            for contact in contacts:
                associated = self.data["contacts"][contact].setdefault("associations", {})
                associated.setdefault("tasks", {"results": []})["results"].append(
                    {"id": task_id, "type": "contact_to_task"}
                )
            self.writes.append((TASKS_PATH, request))
        return 201, {k: v for k, v in task.items() if k != "associations"}

    def _update(self, path: str, record: dict[str, Any], body: bytes) -> Answer:
        try:
            properties = json.loads(body)["properties"]
        except (ValueError, KeyError, TypeError):
            return 400, _error("Invalid input JSON", "VALIDATION_ERROR")
        with self._lock:
            self.writes.append((path, {"properties": properties}))
            record.setdefault("properties", {}).update(properties)
        return 200, record


def _error(message: str, category: str) -> dict[str, Any]:
    return {
        "status": "error",
        "message": message,
        "correlationId": "00000000-0000-0000-0000-000000000000",
        "category": category,
    }
