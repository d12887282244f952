"""Helpers every adapter shares: nesting mapped fields and coercing CRM value formats."""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

# Canonical consent fields: booleans, whatever way a CRM spells them.
CONSENT_FIELDS = frozenset({"contact.do_not_call", "contact.email_opt_out"})


def assemble(fields: Mapping[str, Any]) -> dict[str, Any]:
    """{"contact.email": x, "score": 5} -> {"contact": {"email": x}, "score": 5}, skipping empty values."""
    lead: dict[str, Any] = {}
    for path, value in fields.items():
        if value is None or value == "":
            continue
        head, _, tail = path.partition(".")
        if tail:
            lead.setdefault(head, {})[tail] = value
        else:
            lead[head] = value
    return lead


def trigger_type(name: str | None, trigger_map: Mapping[str, str], default: str) -> str:
    """What a form or conversion name says about intent ("Book a demo" -> demo_request)."""
    lowered = (name or "").lower()
    return next((kind for needle, kind in trigger_map.items() if needle.lower() in lowered), default)


def number(value: Any) -> float | None:
    """CRMs send numbers as numbers, strings, or strings with separators."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int | float):
        parsed = float(value)
    else:
        try:
            parsed = float(str(value).replace(",", "").strip())
        except ValueError:
            return None
    # "NaN" and "Infinity" parse as floats but are no company's size or revenue.
    return parsed if math.isfinite(parsed) else None


def whole_number(value: Any) -> int | None:
    parsed = number(value)
    return int(parsed) if parsed is not None and parsed >= 0 else None


def moment(value: Any) -> str | None:
    """Epoch milliseconds (HubSpot legacy) or ISO 8601, as ISO 8601 UTC; anything else is dropped."""
    if value is None or value == "":
        return None
    text = str(value).strip()
    if text.isdigit() and len(text) <= 15:
        return datetime.fromtimestamp(int(text) / 1000, tz=UTC).isoformat()
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return (parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)).isoformat()


def text(value: Any, limit: int = 512) -> str | None:
    if value is None or isinstance(value, dict | list):
        return None
    cleaned = str(value).strip()
    return cleaned[:limit] or None
