"""Who may see and change what in the ops console: pure rules over the viewer and the data.

RevOps sees and changes everything. A manager sees and changes only their own team: the reps
whose ``manager_email`` is the manager's email, and the leads whose current owner is one of them.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Protocol

from handoff.domain.record import LeadRecord
from handoff.domain.rep import Rep
from handoff.errors import Forbidden

REVOPS = "revops"
MANAGER = "manager"


class Who(Protocol):
    """What scope needs of the signed-in viewer (handoff.console.session.Viewer)."""

    @property
    def email(self) -> str: ...

    @property
    def role(self) -> str: ...


def sees_everything(viewer: Who) -> bool:
    return viewer.role == REVOPS


def on_team(viewer: Who, rep: Rep) -> bool:
    """A manager's own rep (emails compare without case)."""
    return bool(rep.manager_email) and str(rep.manager_email).strip().lower() == viewer.email.strip().lower()


def team(viewer: Who, reps: Iterable[Rep]) -> frozenset[str] | None:
    """The rep ids the viewer may see; None: every rep (RevOps)."""
    if sees_everything(viewer):
        return None
    return frozenset(rep.rep_id for rep in reps if on_team(viewer, rep))


def may_see_rep(viewer: Who, rep: Rep) -> bool:
    return sees_everything(viewer) or on_team(viewer, rep)


def may_see_lead(record: LeadRecord, members: frozenset[str] | None) -> bool:
    """``members`` from team(): a lead is a manager's when its current owner is on the team."""
    if members is None:
        return True
    return record.assignment is not None and record.assignment.rep_id in members


def require_rep(viewer: Who, rep: Rep) -> None:
    if not may_see_rep(viewer, rep):
        raise Forbidden(
            f"rep {rep.rep_id} is not on your team: a manager sees and changes only their own reps"
        )


def require_lead(record: LeadRecord, members: frozenset[str] | None) -> None:
    if not may_see_lead(record, members):
        raise Forbidden(
            f"lead {record.lead_id} is not owned by your team: a manager sees only their own reps' leads"
        )
