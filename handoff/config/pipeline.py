"""Pipeline outcomes: which deals count for a handoff, and what a CRM's stages mean."""

from __future__ import annotations

from pydantic import Field, model_validator

from handoff.config.base import Section


class StageMap(Section):
    """One pipeline's stages (as the CRM names them) for each milestone. A stage listed nowhere
    marks no milestone: the deal is kept, and its stage history, but it counts as no progress."""

    stage_1: list[str] = Field(default_factory=list)
    stage_2: list[str] = Field(default_factory=list)
    won: list[str] = Field(default_factory=list)
    lost: list[str] = Field(default_factory=list)

    @model_validator(mode="after")
    def _each_stage_once(self) -> StageMap:
        seen: dict[str, str] = {}
        clashes = []
        for milestone in ("stage_1", "stage_2", "won", "lost"):
            for stage in getattr(self, milestone):
                key = stage.lower()
                if key in seen:
                    clashes.append(f"{stage!r} is in both {seen[key]} and {milestone}")
                seen[key] = milestone
        if clashes:
            raise ValueError("; ".join(clashes))
        return self

    def milestone_of(self, stage: str) -> str | None:
        key = stage.lower()
        for milestone in ("stage_1", "stage_2", "won", "lost"):
            if key in {s.lower() for s in getattr(self, milestone)}:
                return milestone
        return None


def _hubspot_default() -> dict[str, StageMap]:
    # The stage ids of HubSpot's default deal pipeline (pipeline id "default").
    return {
        "default": StageMap(
            stage_1=["appointmentscheduled", "qualifiedtobuy"],
            stage_2=["presentationscheduled", "decisionmakerboughtin", "contractsent"],
            won=["closedwon"],
            lost=["closedlost"],
        )
    }


SALESFORCE_STAGE_2 = [
    "Needs Analysis", "Value Proposition", "Id. Decision Makers", "Perception Analysis",
    "Proposal/Price Quote", "Negotiation/Review",
]  # fmt: skip


def _salesforce_default() -> dict[str, StageMap]:
    # Salesforce's default Opportunity StageName picklist. Opportunities have no pipeline id:
    # every one is read with "default".
    return {
        "default": StageMap(
            stage_1=["Prospecting", "Qualification"],
            stage_2=list(SALESFORCE_STAGE_2),
            won=["Closed Won"],
            lost=["Closed Lost"],
        )
    }


class PipelineConfig(Section):
    # A deal counts for a handoff when it is on the handoff's contact or its account/company, and
    # was created after the handoff was received and at most this many days after.
    attribution_days: int = Field(default=90, ge=1, le=730)
    # Per CRM: pipeline id -> its stage map. A pipeline not listed is read with "default".
    hubspot: dict[str, StageMap] = Field(default_factory=_hubspot_default)
    salesforce: dict[str, StageMap] = Field(default_factory=_salesforce_default)

    def stages_for(self, system: str, pipeline: str | None) -> StageMap:
        maps: dict[str, StageMap] = getattr(self, system, None) or {}
        return maps.get(pipeline or "default") or maps.get("default") or StageMap()
