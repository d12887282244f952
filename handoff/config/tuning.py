"""How outcomes are counted and when the tuning job may propose a change."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from handoff.config.base import OptionalEmail, Section


class TuningConfig(Section):
    # Outcomes that mean the rep really reached the contact ("attempted" never does), booked a
    # meeting, or that sales accepted the lead (MQL -> SQL; a meeting alone is not an SQL).
    contact_outcomes: list[str] = Field(
        default_factory=lambda: ["connected", "meeting_set", "sales_accepted"]
    )
    meeting_outcomes: list[str] = Field(default_factory=lambda: ["meeting_set"])
    sql_outcomes: list[str] = Field(default_factory=lambda: ["sales_accepted"])
    # What the threshold and weight proposals optimise: meetings set, handoffs whose deal reached
    # stage 2, or pipeline amount per handoff. Meetings until deal history is deep enough: a
    # pipeline outcome lags the handoff by weeks, so the newest leads look like failures.
    outcome: Literal["meetings", "stage_2", "pipeline_amount"] = "meetings"
    # No proposal on fewer leads than this on each side of a comparison.
    min_sample: int = Field(default=30, ge=5)
    # Family-wise significance level: split across every comparison made (Bonferroni).
    alpha: float = Field(default=0.05, gt=0, lt=0.5)
    # A threshold rise is proposed only if it keeps at least this share of meetings.
    min_meetings_kept: float = Field(default=0.95, gt=0, le=1)
    # SLA suggestions aim for this attainment.
    sla_target: float = Field(default=0.9, gt=0, le=1)
    # Days of history the monthly job reads.
    lookback_days: int = Field(default=90, ge=7, le=730)
    # Who receives the monthly report (empty: the escalation's marketing_ops_email).
    report_to: OptionalEmail = ""
    # Off by default: proposals are written for review. On: `handoff tune` rewrites the
    # config file in place (the deployed stack changes only with the next `cdk deploy`).
    auto_apply: bool = False
