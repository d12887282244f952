"""Who gets the lead: ownership first, then territory rules, then weighted round robin."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator, model_validator

from handoff.config.base import CountryCodes, Section
from handoff.domain.lead import EmailAddress
from handoff.domain.rep import PoolName
from handoff.domain.sla import DEFAULT_WORKING_HOURS, HOURS_PATTERN, parse_hours


class TerritoryRule(Section):
    """Matches when every criterion it sets matches; empty criteria match anything."""

    name: str = Field(min_length=1)
    pool: PoolName
    countries: CountryCodes = Field(default_factory=list)
    regions: list[str] = Field(default_factory=list)
    industries: list[str] = Field(default_factory=list)
    sources: list[str] = Field(default_factory=list)
    tiers: list[str] = Field(default_factory=list)
    min_employees: int | None = Field(default=None, ge=0)
    max_employees: int | None = Field(default=None, ge=0)
    min_revenue: float | None = Field(default=None, ge=0)
    max_revenue: float | None = Field(default=None, ge=0)

    def criteria(self) -> dict[str, object]:
        """The criteria this rule sets (for explanations and reachability checks)."""
        return {k: v for k, v in self.model_dump(exclude={"name", "pool"}).items() if v not in (None, [])}


class PoolConfig(Section):
    # Where leads go when every rep in this pool is unavailable or full.
    overflow: PoolName | None = None


class RoutingConfig(Section):
    # Pool names, here and in the reps' pools, match whatever their case: all are read in lower case.
    default_pool: PoolName = "sales"
    # First match wins.
    rules: list[TerritoryRule] = Field(default_factory=list)
    pools: dict[str, PoolConfig] = Field(default_factory=dict)
    # Existing customers without an available account owner go here.
    csm_pool: PoolName = "csm"
    # After the pool and its overflow: the managers, then the unassigned queue.
    manager_pool: PoolName = "managers"
    unassigned_email: EmailAddress = "sales-ops@example.com"
    # Hot leads skip reps outside their working time (hours, weekdays and holidays, as the SLA counts).
    hot_needs_working_hours: bool = False
    # Reps without their own working_hours work these, Monday to Friday in their own time zone.
    default_working_hours: str = Field(default=DEFAULT_WORKING_HOURS, pattern=HOURS_PATTERN)
    # On-call or follow-the-sun reps: a hot lead whose rep (or every rep of its pool) is outside
    # working hours goes to this pool's reps who are at work. "": off.
    after_hours_pool: PoolName | Literal[""] = ""
    # The contact's owner in the CRM (HubSpot hubspot_owner_id; Salesforce OwnerId when it is a
    # user, not a queue) gets the lead, after an open opportunity's owner, before the account owner.
    honour_crm_owner: bool = True
    # An owner (of the opportunity, the contact or the account) who is at capacity or at their
    # daily cap: "assign" gives them the lead anyway, marked over capacity, with a copy of the brief
    # to their manager; "route" moves on to the territory rules. Out of office or inactive owners
    # are always passed over.
    owner_at_capacity: Literal["assign", "route"] = "assign"

    @field_validator("pools", mode="before")
    @classmethod
    def _pool_names(cls, pools: object) -> object:
        if not isinstance(pools, dict):
            return pools
        named: dict[str, object] = {}
        spelt: dict[str, str] = {}
        for name, pool in pools.items():
            key = str(name).strip().lower()
            if key in named:
                raise ValueError(
                    f"[routing.pools.{spelt[key]}] and [routing.pools.{name}] are one pool: names ignore case"
                )
            named[key], spelt[key] = pool, str(name)
        return named

    @field_validator("default_working_hours")
    @classmethod
    def _a_working_day(cls, hours: str) -> str:
        if parse_hours(hours) is None:
            raise ValueError(f"{hours!r} is not a working day's hours (HH:MM-HH:MM, opening first)")
        return hours

    @model_validator(mode="after")
    def _overflow_has_no_cycles(self) -> RoutingConfig:
        for start in self.pools:
            seen = [start]
            nxt = self.pools[start].overflow
            while nxt:
                if nxt in seen:
                    raise ValueError(f"pools: overflow loops {' -> '.join([*seen, nxt])}")
                seen.append(nxt)
                nxt = self.pools.get(nxt, PoolConfig()).overflow
        return self

    def overflow_chain(self, pool: str) -> list[str]:
        """The pool, its overflow pools in order, then the manager pool."""
        chain = [pool]
        while (nxt := self.pools.get(chain[-1], PoolConfig()).overflow) and nxt not in chain:
            chain.append(nxt)
        if self.manager_pool not in chain:
            chain.append(self.manager_pool)
        return chain

    def warnings(self, known_countries: list[str]) -> list[str]:
        """Rules that can never match, and target countries no rule covers."""
        found = []
        for i, rule in enumerate(self.rules):
            for earlier in self.rules[:i]:
                if not earlier.criteria() or earlier.criteria() == rule.criteria():
                    found.append(f"routing.rules: {rule.name!r} is unreachable behind {earlier.name!r}")
                    break
        catch_all = any(not r.criteria() for r in self.rules)
        if self.rules and not catch_all:
            for country in known_countries:
                if not any(not r.countries or country in r.countries for r in self.rules):
                    found.append(
                        f"routing.rules: no rule covers country {country}; it goes to {self.default_pool}"
                    )
        return found
