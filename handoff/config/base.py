"""Shared building blocks for the config schema."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class Section(BaseModel):
    """Every section forbids unknown keys: a typo is an error, never a silently ignored setting."""

    model_config = ConfigDict(extra="forbid", frozen=True)
