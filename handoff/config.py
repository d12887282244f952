"""The ops config (config/handoff.toml): one schema, validated at synth time and at start-up.

Every section forbids unknown keys, so a typo is an error that names the key and
the file instead of a silently ignored setting.
"""

from __future__ import annotations

import tomllib
from functools import cache
from pathlib import Path
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from handoff.errors import ConfigError

Weight = Annotated[float, Field(ge=0, le=100)]


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class FitConfig(_Section):
    """ICP fit: each matching criterion adds its weight to a 0-100 fit score."""

    industries: list[str] = Field(default_factory=list)
    industry_weight: Weight = 40
    min_employees: int = Field(default=0, ge=0)
    max_employees: int | None = Field(default=None, ge=1)
    employees_weight: Weight = 30
    title_keywords: list[str] = Field(default_factory=list)
    title_weight: Weight = 30

    @model_validator(mode="after")
    def _range_is_ordered(self) -> FitConfig:
        if self.max_employees is not None and self.max_employees < self.min_employees:
            raise ValueError("max_employees must be at least min_employees")
        return self


class QualifyConfig(_Section):
    min_fit: float = Field(default=50, ge=0, le=100)
    # Triggers that are themselves a clear next step (a BoFu request).
    next_step_triggers: list[str] = Field(
        default_factory=lambda: [
            "demo_request",
            "pricing_request",
            "contact_sales",
            "meeting_booked",
        ]
    )
    # Triggers that earn the fastest SLA.
    hot_triggers: list[str] = Field(default_factory=lambda: ["demo_request", "contact_sales"])
    fit: FitConfig = Field(default_factory=FitConfig)


class SlaConfig(_Section):
    """Seconds a rep has for the first touch, per tier."""

    hot: int = Field(default=300, ge=1, le=7 * 24 * 3600)
    warm: int = Field(default=4 * 3600, ge=1, le=7 * 24 * 3600)

    def seconds_for(self, tier: str) -> int:
        return int(getattr(self, tier, self.warm))


class RoutingConfig(_Section):
    default_pool: str = Field(default="sales", min_length=1)


class DispositionConfig(_Section):
    """Outcomes a rep can record, and the reason codes each one accepts."""

    reasons: dict[str, list[str]] = Field(
        default_factory=lambda: {
            "attempted": [],
            "connected": [],
            "meeting_set": [],
            "recycle": ["timing", "no_response", "not_decision_maker"],
            "disqualify": ["no_budget", "not_icp", "competitor", "student", "spam"],
        }
    )
    # Outcomes after which the rep's capacity is released.
    final: list[str] = Field(default_factory=lambda: ["meeting_set", "recycle", "disqualify"])

    @model_validator(mode="after")
    def _final_outcomes_exist(self) -> DispositionConfig:
        unknown = sorted(set(self.final) - set(self.reasons))
        if unknown:
            raise ValueError(f"final lists outcomes not in reasons: {', '.join(unknown)}")
        return self


class EmailConfig(_Section):
    crm_name: str = "CRM"


class HandoffConfig(_Section):
    qualify: QualifyConfig = Field(default_factory=QualifyConfig)
    sla: SlaConfig = Field(default_factory=SlaConfig)
    routing: RoutingConfig = Field(default_factory=RoutingConfig)
    dispositions: DispositionConfig = Field(default_factory=DispositionConfig)
    email: EmailConfig = Field(default_factory=EmailConfig)


def _describe(error_location: tuple[int | str, ...]) -> str:
    return ".".join(str(part) for part in error_location) or "(top level)"


def parse_config(text: str, source: str) -> HandoffConfig:
    """Parse TOML text; errors name the file and the dotted key."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{source}: not valid TOML: {exc}") from exc
    try:
        return HandoffConfig.model_validate(data)
    except ValidationError as exc:
        problems = [f"{_describe(e['loc'])}: {e['msg']}" for e in exc.errors()]
        raise ConfigError(f"{source}: " + "; ".join(problems)) from exc


def load_config(path: str | Path) -> HandoffConfig:
    file = Path(path)
    try:
        text = file.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"{file}: cannot read config: {exc.strerror}") from exc
    return parse_config(text, str(file))


@cache
def cached_config(path: str) -> HandoffConfig:
    """Config read once per Lambda container."""
    return load_config(path)
