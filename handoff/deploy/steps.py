"""Inputs of the workflow's Lambda steps, parsed with Powertools Parser models."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field


class StepInput(BaseModel):
    lead_id: str = Field(min_length=1, max_length=64)


class RouteInput(StepInput):
    action: Literal["route", "reassign"] = "route"


class NotifyInput(StepInput):
    kind: Literal["brief", "reminder", "escalation", "renurture"] = "brief"
    # Why the wait ended without a touch: States.Timeout (the SLA lapsed) or BriefBounced.
    cause: str | None = None
    # The brief's moments on the send schedule (epoch seconds), handed back by an earlier call
    # that found them too far off and waited (the workflow's UntilSendMoment); empty: take them.
    moments: tuple[float, ...] = Field(default=(), max_length=2)
    # The brief's turn on the sends' own clock, already taken by an earlier call that then waited
    # for it (epoch seconds); 0: none yet.
    turn: float = Field(default=0.0, ge=0)


class AwaitTouchInput(StepInput):
    task_token: str = Field(min_length=1)


class MarkFailedInput(StepInput):
    error: dict[str, Any] | None = None
