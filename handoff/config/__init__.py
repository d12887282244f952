"""The ops config (config/handoff.toml): one schema, validated at synth time and at start-up.

Every section forbids unknown keys, so a typo is an error that names the key and
the file instead of a silently ignored setting.
"""

from __future__ import annotations

import tomllib
from functools import cache
from pathlib import Path
from typing import Annotated

from pydantic import Field, ValidationError, model_validator
from pydantic_core import ErrorDetails

from handoff.config.adapters import AdaptersConfig, HubSpotAdapterConfig, SalesforceAdapterConfig
from handoff.config.base import Section
from handoff.config.brief import BriefConfig, EmailConfig, LinksConfig, SlackConfig
from handoff.config.cadence import CadenceConfig
from handoff.config.crm_sync import CrmSyncConfig
from handoff.config.pipeline import PipelineConfig
from handoff.config.qualify import QualifyConfig
from handoff.config.routing import RoutingConfig
from handoff.config.tuning import TuningConfig
from handoff.domain.lead import ACTIVITY_TYPES, TRIGGER_TYPES, EmailAddress
from handoff.errors import ConfigError

SlaSeconds = Annotated[int, Field(ge=1, le=30 * 24 * 3600)]


class EscalationConfig(Section):
    """The ladder after an SLA lapses: remind, escalate to the manager, reassign, re-nurture."""

    # After the SLA lapses the rep is reminded and gets this much longer (0: straight to the manager).
    reminder_grace_seconds: int = Field(default=600, ge=0, le=7 * 24 * 3600)
    # How many times a lead moves to the next eligible rep before it goes back to marketing.
    reassignments: int = Field(default=1, ge=0, le=10)
    # Count the SLA, and time every rung, in working time: each rep's working_hours (else
    # [routing] default_working_hours), Monday to Friday in their time zone, less the public
    # holidays of their country and region; no rung emails anyone outside their hours.
    # false: the wall clock, day and night.
    sla_in_working_hours: bool = True
    # sla_check resumes a lead whose workflow is not running after this long without a change.
    stuck_after_seconds: int = Field(default=900, ge=1)
    # Who hears when a lead is handed back for re-nurture.
    marketing_ops_email: EmailAddress = "marketing-ops@example.com"


class DispositionConfig(Section):
    """Outcomes a rep can record, and the reason codes each one accepts."""

    reasons: dict[str, list[str]] = Field(
        default_factory=lambda: {
            "attempted": [],
            "connected": [],
            "sales_accepted": [],
            "meeting_set": [],
            "recycle": ["timing", "no_response", "not_decision_maker", "wrong_owner"],
            "disqualify": ["no_budget", "not_icp", "competitor", "student", "spam"],
        }
    )
    # Outcomes that close the lead and release the rep's capacity. sales_accepted is not one:
    # accepting the lead (MQL -> SQL) does not end the follow-up.
    final: list[str] = Field(default_factory=lambda: ["meeting_set", "recycle", "disqualify"])

    @model_validator(mode="after")
    def _final_outcomes_exist(self) -> DispositionConfig:
        unknown = sorted(set(self.final) - set(self.reasons))
        if unknown:
            raise ValueError(f"final lists outcomes not in reasons: {', '.join(unknown)}")
        return self


class HandoffConfig(Section):
    qualify: QualifyConfig = Field(default_factory=QualifyConfig)
    # Seconds a rep has for the first touch, per tier.
    sla: dict[str, SlaSeconds] = Field(default_factory=lambda: {"hot": 300, "warm": 4 * 3600})
    routing: RoutingConfig = Field(default_factory=RoutingConfig)
    escalation: EscalationConfig = Field(default_factory=EscalationConfig)
    dispositions: DispositionConfig = Field(default_factory=DispositionConfig)
    cadence: CadenceConfig = Field(default_factory=CadenceConfig)
    email: EmailConfig = Field(default_factory=EmailConfig)
    brief: BriefConfig = Field(default_factory=BriefConfig)
    links: LinksConfig = Field(default_factory=LinksConfig)
    slack: SlackConfig = Field(default_factory=SlackConfig)
    adapters: AdaptersConfig = Field(default_factory=AdaptersConfig)
    tuning: TuningConfig = Field(default_factory=TuningConfig)
    crm_sync: CrmSyncConfig = Field(default_factory=CrmSyncConfig)
    pipeline: PipelineConfig = Field(default_factory=PipelineConfig)

    @model_validator(mode="after")
    def _every_tier_has_an_sla(self) -> HandoffConfig:
        missing = [t.name for t in self.qualify.tiers if t.name not in self.sla]
        if missing:
            raise ValueError(f"sla: no SLA for tier(s) {', '.join(missing)}")
        return self

    @model_validator(mode="after")
    def _outcomes_can_be_recorded(self) -> HandoffConfig:
        # What the CRM and the cadence record carries no reason: each outcome they name must exist
        # and need none, or it would be refused at the first call logged.
        reasons = self.dispositions.reasons
        sync = self.crm_sync
        named = {
            "crm_sync.activities": list(sync.activities.values()),
            "crm_sync.hubspot.call_outcomes": list(sync.hubspot.call_outcomes.values()),
            "crm_sync.salesforce.call_outcomes": list(sync.salesforce.call_outcomes.values()),
        }
        if sync.hubspot.sales_accepted_stages or sync.salesforce.sales_accepted_statuses:
            named["crm_sync.*.sales_accepted_stages/statuses (empty them to read no SQL from the CRM)"] = [
                "sales_accepted"
            ]
        if self.cadence.attempts:
            named["cadence"] = ["attempted"]
        problems = [
            f"{key}: {outcome!r} is not an outcome in [dispositions.reasons]"
            if outcome not in reasons
            else f"{key}: {outcome!r} needs a reason, which nothing recorded from there carries"
            for key, outcomes in named.items()
            for outcome in outcomes
            if outcome not in reasons or reasons[outcome]
        ]
        recycle = reasons.get("recycle")
        if self.cadence.attempts and (
            recycle is None
            or "recycle" not in self.dispositions.final
            or (recycle and "no_response" not in recycle)
        ):
            problems.append(
                "cadence: a cadence that runs out recycles the lead with reason no_response, so "
                "dispositions needs a final recycle outcome that accepts it"
            )
        if problems:
            raise ValueError("; ".join(problems))
        return self

    @model_validator(mode="after")
    def _types_exist(self) -> HandoffConfig:
        # A weight on a type no lead carries never counts, and nothing else would say so.
        intent = self.qualify.intent
        custom = set(intent.custom_types)
        adapters: dict[str, HubSpotAdapterConfig | SalesforceAdapterConfig] = {
            "hubspot": self.adapters.hubspot,
            "salesforce": self.adapters.salesforce,
        }
        named = {
            "qualify.intent.activity_weights": (list(intent.activity_weights), ACTIVITY_TYPES, "an activity"),
            "qualify.intent.trigger_weights": (list(intent.trigger_weights), TRIGGER_TYPES, "a trigger"),
            "qualify.next_step_triggers": (self.qualify.next_step_triggers, TRIGGER_TYPES, "a trigger"),
            "qualify.bofu_triggers": (self.qualify.bofu_triggers, TRIGGER_TYPES, "a trigger"),
            **{
                f"adapters.{crm}.trigger_map": (list(a.trigger_map.values()), TRIGGER_TYPES, "a trigger")
                for crm, a in adapters.items()
            },
            **{
                f"adapters.{crm}.default_trigger": ([a.default_trigger], TRIGGER_TYPES, "a trigger")
                for crm, a in adapters.items()
            },
        }
        problems = [
            f"{key}: {name!r} is not {kind} type Handoff knows ({', '.join(sorted(known))}); "
            "a type only your own sender sends goes in qualify.intent.custom_types"
            for key, (names, known, kind) in named.items()
            for name in names
            if name not in known and name not in custom
        ]
        if problems:
            raise ValueError("; ".join(problems))
        return self

    def warnings(self) -> list[str]:
        """Valid but probably unintended: shown by `handoff config check` and at synth."""
        tracks = {key.split(":")[0] for key in self.brief.talk_tracks} - {"default"}
        unknown_tracks = sorted(tracks - set(self.brief.themes))
        return (
            self.routing.warnings(self.qualify.fit.countries.values)
            + [f"brief.talk_tracks: {name!r} is not a theme in [brief.themes]" for name in unknown_tracks]
            + self._ladder_warnings()
        )

    def ladder_seconds(self) -> int:
        """The longest the SLA ladder can wait, in wall-clock seconds: every round's SLA and
        reminder grace, for the first owner and each reassignment (working hours aside)."""
        one_round = max(self.sla.values()) + self.escalation.reminder_grace_seconds
        return one_round * (self.escalation.reassignments + 1)

    def _ladder_warnings(self) -> list[str]:
        from handoff.deploy.workflow import execution_timeout_seconds

        limit = execution_timeout_seconds()
        if limit is None or self.ladder_seconds() <= limit:
            return []
        return [
            f"escalation: the longest ladder waits {self.ladder_seconds() / 3600:.0f} h, longer than the "
            f"workflow's {limit / 3600:.0f} h timeout; such a lead's execution times out and sla_check "
            "resumes it at the escalation step. Shorten [sla] or escalation.reassignments."
        ]

    def sla_seconds(self, tier: str) -> int:
        """The tier's SLA; an unknown tier gets the slowest one rather than none."""
        return self.sla.get(tier, max(self.sla.values()))


def _describe(error: ErrorDetails) -> str:
    """One problem as `key: what is wrong`; a check across sections names its keys itself."""
    message = error["msg"].removeprefix("Value error, ")
    location = ".".join(str(part) for part in error["loc"])
    return f"{location}: {message}" if location else message


def parse_config(text: str, source: str) -> HandoffConfig:
    """Parse TOML text; errors name the file and the dotted key."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{source}: not valid TOML: {exc}") from exc
    try:
        return HandoffConfig.model_validate(data)
    except ValidationError as exc:
        problems = [_describe(e) for e in exc.errors()]
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


__all__ = ["HandoffConfig", "QualifyConfig", "cached_config", "load_config", "parse_config"]
