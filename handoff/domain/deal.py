"""A deal or opportunity that came from a handoff: pipeline, the outcome the seeds measure.

The CRM's own stage names differ per CRM and pipeline; ``[pipeline]`` config maps them onto
milestones (stage 1, stage 2, won, lost) when a deal is read, so everything downstream (the
KPI engine, the report, tuning) reads milestones and never a CRM's stage ids.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, Field


class Milestone(StrEnum):
    STAGE_1 = "stage_1"
    STAGE_2 = "stage_2"
    WON = "won"
    LOST = "lost"


class StageChange(BaseModel):
    stage: str = Field(max_length=128)  # the CRM's stage id or name, as sent
    at: datetime


class Deal(BaseModel):
    system: str = Field(max_length=32)  # hubspot | salesforce
    deal_id: str = Field(max_length=64)
    pipeline: str | None = Field(default=None, max_length=128)
    stage: str = Field(max_length=128)  # the current stage, as the CRM names it
    amount: float | None = Field(default=None, ge=0, le=1e14, allow_inf_nan=False)
    created_at: datetime
    # How it was tied to the handoff: the same contact, or the same account/company.
    linked_by: str = Field(default="contact", max_length=16)
    stages: list[StageChange] = Field(default_factory=list)  # oldest first
    # When each milestone was first reached, from the [pipeline] stage mapping.
    milestones: dict[Milestone, datetime] = Field(default_factory=dict)

    def reached(self, milestone: Milestone) -> bool:
        return milestone in self.milestones
