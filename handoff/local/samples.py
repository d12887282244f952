"""The examples' HubSpot samples, dated as if they had just happened.

Their dates are fixed (November 2026). A generic delivery is scored as of its own occurred_at,
so it is the same lead on any date; but a HubSpot contact is scored at delivery against its
latest conversion (recent_conversion_date), and a form older than [qualify]
next_step_max_age_days is rightly no clear next step. The demo and the real-clock tests
therefore serve HubSpot's sample contact and CRM records shifted as a whole (their spacing
kept) to end minutes before now, and get today the lead their author meant.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

# A whole string that is an ISO 8601 moment: 2026-11-02T15:04:05Z, with a space for the T, a
# fraction or an offset. Ids that merely contain a date (Marketo's event ids) are left alone.
_MOMENT = re.compile(r"(\d{4}-\d{2}-\d{2})([T ])(\d{2}:\d{2}:\d{2})(\.\d+)?(Z|[+-]\d{2}:?\d{2})?")
# HubSpot's workflow webhook gives its dates as epoch milliseconds, in these properties.
_HUBSPOT_DATES = ("recent_conversion_date", "first_conversion_date", "hs_analytics_last_visit_timestamp")

J = TypeVar("J")


def _parse(text: str) -> datetime | None:
    """The moment a string names (UTC when it gives no offset), or None."""
    match = _MOMENT.fullmatch(text)
    if match is None:
        return None
    moment = datetime.fromisoformat(f"{match[1]}T{match[3]}{match[5] or ''}")
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _moments(data: Any) -> list[datetime]:
    if isinstance(data, dict):
        return [m for value in data.values() for m in _moments(value)]
    if isinstance(data, list):
        return [m for value in data for m in _moments(value)]
    moment = _parse(data) if isinstance(data, str) else None
    return [moment] if moment else []


def _shifted(data: J, by: timedelta) -> J:
    if isinstance(data, dict):
        return {key: _shifted(value, by) for key, value in data.items()}  # type: ignore[return-value]
    if isinstance(data, list):
        return [_shifted(value, by) for value in data]  # type: ignore[return-value]
    match = _MOMENT.fullmatch(data) if isinstance(data, str) else None
    if match is None:
        return data
    # Moved in its own offset's wall time, which moves the moment by the same amount; written in
    # the same layout as before (its separator, fraction and offset), as the sender wrote it.
    moved = datetime.fromisoformat(f"{match[1]}T{match[3]}") + by
    text = moved.strftime(f"%Y-%m-%d{match[2]}%H:%M:%S") + (match[4] or "") + (match[5] or "")
    return text  # type: ignore[return-value]


def latest_moment(data: Any) -> datetime | None:
    """The latest ISO 8601 moment anywhere in ``data`` (JSON), or None."""
    return max(_moments(data), default=None)


def as_if_sent(data: J, now: datetime, minutes: float = 5) -> J:
    """``data`` (a delivery's or a CRM's JSON) with every moment in it moved by one amount, so
    that the latest is ``minutes`` before ``now``. Data without moments comes back as it was."""
    latest = latest_moment(data)
    if latest is None:
        return data
    now = now if now.tzinfo else now.replace(tzinfo=UTC)
    return _shifted(data, now - timedelta(minutes=minutes) - latest)


def converted_minutes_ago(workflow_contact: bytes, now: datetime, minutes: float = 5) -> bytes:
    """HubSpot's sample workflow contact as if its latest form were sent ``minutes`` ago: a
    workflow webhook is scored at delivery, and a weeks-old form is rightly not today's hot lead."""
    contact = json.loads(workflow_contact)
    props = contact["properties"]
    latest = int(props["recent_conversion_date"]["value"])
    shift = int(now.timestamp() * 1000 - minutes * 60_000) - latest
    for name in _HUBSPOT_DATES:
        if name in props:
            props[name]["value"] = str(int(props[name]["value"]) + shift)
    return json.dumps(contact).encode()
