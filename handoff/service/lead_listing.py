"""`GET /leads?status=failed`: one page of leads in a status the sparse index keeps."""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any

from handoff.domain.record import INDEXED
from handoff.errors import BadRequest
from handoff.service.ports import Leads

MAX_PAGE = 100
# What the by_open_status index projects, and so what a page shows: check_at is when sla_check
# looks at the lead next if nothing happens first.
SUMMARY_FIELDS = ("lead_id", "status", "source", "received_at", "check_at", "failure", "recoveries")
MAX_SHARD = 1024


def _cursor(token: str | None) -> Any:
    if not token:
        return None
    try:
        return json.loads(base64.urlsafe_b64decode(token.encode()))
    except (binascii.Error, ValueError, UnicodeDecodeError) as exc:
        raise BadRequest("next: not a cursor from a previous page", [{"field": "next"}]) from exc


def _our_cursor(start: Any) -> bool:
    """The shape in_status hands out: {"shard": n, "key": None or the last key read, a map of
    short strings}; the store checks the key belongs to the status."""
    if not (isinstance(start, dict) and set(start) == {"shard", "key"}):
        return False
    shard, key = start["shard"], start["key"]
    return (
        isinstance(shard, int)
        and 0 <= shard < MAX_SHARD
        and (
            key is None
            or (
                isinstance(key, dict)
                and all(isinstance(k, str) and isinstance(v, str) and len(v) <= 256 for k, v in key.items())
            )
        )
    )


def list_by_status(leads: Leads, status: str, limit: str | None, token: str | None) -> dict[str, Any]:
    if status not in INDEXED:
        raise BadRequest(f"status: must be one of {', '.join(sorted(INDEXED))}", [{"field": "status"}])
    try:
        size = int(limit) if limit else 50
    except ValueError:
        size = 0
    if not 1 <= size <= MAX_PAGE:
        raise BadRequest(f"limit: a whole number from 1 to {MAX_PAGE}", [{"field": "limit"}])
    start = _cursor(token)
    # Only a position this listing handed out goes back to DynamoDB, so a forged cursor is a 400.
    if start is not None and not _our_cursor(start):
        raise BadRequest("next: not a cursor from a previous page", [{"field": "next"}])
    items, last = leads.in_status(status, size, start)
    return {
        "leads": [{k: item[k] for k in SUMMARY_FIELDS if k in item} for item in items],
        "next": base64.urlsafe_b64encode(json.dumps(last, default=str).encode()).decode() if last else None,
    }
