"""`GET /leads?status=failed`: one page of leads in a status the sparse index keeps."""

from __future__ import annotations

import base64
import binascii
import json
from datetime import datetime, timedelta
from typing import Any

from handoff.domain.record import INDEXED
from handoff.errors import BadRequest
from handoff.service.ports import Leads

MAX_PAGE = 100
CURSOR_KEYS = {"lead_id", "open_status", "updated_at"}
SUMMARY_FIELDS = ("lead_id", "status", "source", "received_at", "updated_at", "failure", "recoveries")


def _cursor(token: str | None) -> Any:
    if not token:
        return None
    try:
        return json.loads(base64.urlsafe_b64decode(token.encode()))
    except (binascii.Error, ValueError, UnicodeDecodeError) as exc:
        raise BadRequest("next: not a cursor from a previous page", [{"field": "next"}]) from exc


def list_by_status(
    leads: Leads, status: str, limit: str | None, token: str | None, now: datetime
) -> dict[str, Any]:
    if status not in INDEXED:
        raise BadRequest(f"status: must be one of {', '.join(sorted(INDEXED))}", [{"field": "status"}])
    try:
        size = int(limit) if limit else 50
    except ValueError:
        size = 0
    if not 1 <= size <= MAX_PAGE:
        raise BadRequest(f"limit: a whole number from 1 to {MAX_PAGE}", [{"field": "limit"}])
    start = _cursor(token)
    # Only a key this listing handed out goes back to DynamoDB, so a forged cursor is a 400.
    if start is not None and not (
        isinstance(start, dict)
        and set(start) == CURSOR_KEYS
        and all(isinstance(v, str) and len(v) <= 256 for v in start.values())
        and start["open_status"] == status
    ):
        raise BadRequest("next: not a cursor from a previous page", [{"field": "next"}])
    # Everything written up to now; a second's slack for clocks on other hosts.
    items, last = leads.in_flight(status, now + timedelta(seconds=1), size, start)
    return {
        "leads": [{k: item[k] for k in SUMMARY_FIELDS if k in item} for item in items],
        "next": base64.urlsafe_b64encode(json.dumps(last, default=str).encode()).decode() if last else None,
    }
