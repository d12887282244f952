"""Config proposals, and applying them: to the config in memory (to simulate them) and to the
TOML file (the proposed config and its diff, for review).

tomlkit edits the document in place, so every comment and the layout survive and the diff
shows only the values that change. Either way the result is validated like any config.
"""

from __future__ import annotations

import difflib
from collections.abc import Sequence
from typing import Any, Literal

import tomlkit
from pydantic import BaseModel, Field

from handoff.config import HandoffConfig, parse_config


class Proposal(BaseModel):
    kind: Literal["threshold", "weight", "routing", "sla"]
    # What the change optimises: the [tuning] outcome (meetings, stage_2, pipeline_amount) for a
    # threshold or weight, contact rate or SLA attainment for routing and SLA insights.
    outcome: str = "meetings"
    summary: str
    evidence: str
    sample: int
    # The config change, when there is one: a path into config/handoff.toml and the values.
    path: list[str] = Field(default_factory=list)
    current: float | None = None
    proposed: float | None = None
    # What replaying the history under this change (and the ones kept before it) showed.
    simulated: str = ""
    # True when the replay showed the change would cost meetings: reported, left out of the diff.
    held_back: bool = False

    @property
    def changes_config(self) -> bool:
        return bool(self.path) and self.proposed is not None and not self.held_back


def _child(node: Any, segment: str) -> Any:
    """Step into a table, or into the entry of an array of tables whose name is ``segment``."""
    if isinstance(node, list):
        for item in node:
            if item.get("name") == segment:
                return item
        raise KeyError(segment)
    if segment not in node:
        node[segment] = {}
    return node[segment]


def _set(root: Any, path: Sequence[str], value: float) -> None:
    """Works on a plain dict (a dumped config) and on a tomlkit document alike."""
    *parents, leaf = path
    node = root
    for segment in parents:
        node = _child(node, segment)
    node[leaf] = int(value) if float(value).is_integer() else value


def apply_to_config(config: HandoffConfig, proposals: Sequence[Proposal]) -> HandoffConfig:
    data = config.model_dump()
    for proposal in proposals:
        if proposal.path and proposal.proposed is not None:
            _set(data, proposal.path, proposal.proposed)
    return HandoffConfig.model_validate(data)


def apply(text: str, proposals: Sequence[Proposal], source: str = "proposal") -> str:
    """The config text with every proposal that changes the config applied; raises ConfigError
    if the result would not load."""
    document = tomlkit.parse(text)
    for proposal in proposals:
        if proposal.changes_config:
            _set(document, proposal.path, proposal.proposed or 0)
    result = tomlkit.dumps(document)
    parse_config(result, source)
    return result


def diff(before: str, after: str, name: str = "config/handoff.toml") -> str:
    return "".join(
        difflib.unified_diff(
            before.splitlines(keepends=True), after.splitlines(keepends=True), f"a/{name}", f"b/{name}"
        )
    )
