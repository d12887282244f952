"""Pure rules for pipeline outcomes: which milestones a deal's stage history reached, whether a
deal counts for a handoff, and how a newly read deal merges into the one already kept."""

from __future__ import annotations

from datetime import datetime, timedelta

from handoff.config.pipeline import StageMap
from handoff.domain.deal import Deal, Milestone, StageChange

# A milestone also counts the ones before it: a deal won straight from stage 1 passed stage 2.
# Lost implies stage 1 only: a deal lost early never reached stage 2.
IMPLIED = {
    Milestone.STAGE_1: (Milestone.STAGE_1,),
    Milestone.STAGE_2: (Milestone.STAGE_1, Milestone.STAGE_2),
    Milestone.WON: (Milestone.STAGE_1, Milestone.STAGE_2, Milestone.WON),
    Milestone.LOST: (Milestone.STAGE_1, Milestone.LOST),
}


def milestones(stages: list[StageChange], mapping: StageMap) -> dict[Milestone, datetime]:
    """When each milestone was first reached, from the stage history (any order)."""
    reached: dict[Milestone, datetime] = {}
    for change in sorted(stages, key=lambda c: c.at):
        name = mapping.milestone_of(change.stage)
        if name is None:
            continue
        for milestone in IMPLIED[Milestone(name)]:
            reached.setdefault(milestone, change.at)
    return reached


def not_attributable(deal_created: datetime, received_at: datetime, window_days: int) -> str | None:
    """None when a deal created at ``deal_created`` counts for a handoff received at
    ``received_at``; otherwise why not."""
    if deal_created < received_at:
        return "the deal was created before the handoff"
    if deal_created - received_at > timedelta(days=window_days):
        return f"the deal was created more than {window_days} days after the handoff"
    return None


def merged(kept: Deal | None, read: Deal, *, at: datetime, mapping: StageMap) -> Deal:
    """The deal as read now, keeping the stage history of the one already kept: the current
    stage joins the history when it differs from the last one seen (so a redelivered event adds
    nothing), and milestones are recomputed from the whole history."""
    history = list(kept.stages) if kept is not None else []
    if not history or history[-1].stage != read.stage:
        # A deal first seen on a stage change may have passed earlier stages unseen: each stage
        # counts from when Handoff saw it, so no milestone is dated before it was known. Nor
        # before the deal existed: a CRM's event time may be older (a replay, a clock).
        history.append(StageChange(stage=read.stage, at=max(at, read.created_at)))
    deal = read.model_copy(update={"stages": history})
    if kept is not None and kept.linked_by != read.linked_by:
        deal = deal.model_copy(update={"linked_by": kept.linked_by})
    return deal.model_copy(update={"milestones": milestones(history, mapping)})
