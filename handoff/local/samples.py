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
from collections.abc import Callable, Iterator
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


def _moved(text: str, by: timedelta) -> str:
    """The string ``by`` later if it is a moment, in the layout the sender wrote (separator,
    fraction, offset); moved in its own offset's wall time, which moves the moment as much."""
    match = _MOMENT.fullmatch(text)
    if match is None:
        return text
    moved = datetime.fromisoformat(f"{match[1]}T{match[3]}") + by
    return moved.strftime(f"%Y-%m-%d{match[2]}%H:%M:%S") + (match[4] or "") + (match[5] or "")


def _strings(data: Any) -> Iterator[str]:
    """Every string value in ``data`` (JSON)."""
    if isinstance(data, dict):
        data = list(data.values())
    if isinstance(data, list):
        for value in data:
            yield from _strings(value)
    elif isinstance(data, str):
        yield data


def _map_strings(data: J, change: Callable[[str], str]) -> J:
    """``data`` (JSON) with ``change`` applied to every string value in it."""
    if isinstance(data, dict):
        return {key: _map_strings(value, change) for key, value in data.items()}  # type: ignore[return-value]
    if isinstance(data, list):
        return [_map_strings(value, change) for value in data]  # type: ignore[return-value]
    return change(data) if isinstance(data, str) else data  # type: ignore[return-value]


def latest_moment(data: Any) -> datetime | None:
    """The latest ISO 8601 moment anywhere in ``data`` (JSON), or None."""
    return max(filter(None, map(_parse, _strings(data))), default=None)


def as_if_sent(data: J, now: datetime, minutes: float = 5) -> J:
    """``data`` (a delivery's or a CRM's JSON) with every moment in it moved by one amount, so
    that the latest is ``minutes`` before ``now``. Data without moments comes back as it was."""
    latest = latest_moment(data)
    if latest is None:
        return data
    now = now if now.tzinfo else now.replace(tzinfo=UTC)
    by = now - timedelta(minutes=minutes) - latest
    return _map_strings(data, lambda text: _moved(text, by))


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
