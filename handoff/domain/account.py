"""A known account (company domain -> owner), which ops load for ownership routing."""

from __future__ import annotations

from pydantic import BaseModel, Field


class Account(BaseModel):
    domain: str = Field(min_length=3, max_length=253)
    owner: str = Field(min_length=1, max_length=64)  # a rep_id or one of a rep's CRM owner ids
    name: str | None = None


def normalise_domain(domain: str | None) -> str | None:
    cleaned = (domain or "").strip().lower().removeprefix("www.")
    return cleaned or None
