"""`handoff config check` across the config and the reps: pools that can never route a lead.

Pools are named in config (rules, default_pool, csm_pool, manager_pool, [routing.pools.*] and
their overflow) and filled by the reps' `pools`; neither side alone can tell whether a rule's pool
has anyone in it, so this check runs where both are known (config check with --reps or --live).
Errors are what can never route anything; warnings are what still runs, by a fallback.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from handoff.config import HandoffConfig
from handoff.config.roster import rep_problems
from handoff.domain.rep import Rep
from handoff.domain.sla import holiday_problem


@dataclass
class Findings:
    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def _named_in_config(config: HandoffConfig) -> set[str]:
    routing = config.routing
    return {*routing.pools, routing.default_pool, routing.csm_pool, routing.manager_pool}


def _check_rep(config: HandoffConfig, rep: Rep, where: str, found: Findings) -> None:
    """One rep's own findings: what a handoff cannot use (errors), and a region whose public
    holidays Handoff cannot know, when the SLA counts working time (a warning)."""
    found.errors += [f"{where}: rep {rep.rep_id}: {problem}" for problem in rep_problems(rep)]
    holidays = holiday_problem(rep.country, rep.region) if config.escalation.sla_in_working_hours else None
    if holidays:
        found.warnings.append(
            f"{where}: rep {rep.rep_id}: country/region: no public holiday calendar ({holidays}); "
            "their SLA clock runs through their holidays"
        )


def check_pools(config: HandoffConfig, reps: list[Rep] | None, config_file: str, where: str) -> Findings:
    """What config's pools (from ``config_file``) and the reps (from ``where``: a CSV or the reps
    table) say together, each finding naming its file and key. Without reps, only pools that
    config itself never defines are reported, as warnings."""
    routing = config.routing
    found = Findings()
    defined = _named_in_config(config)
    rule_pools = [
        (f"{config_file}: routing.rules[{i}] ({rule.name!r}).pool", rule.pool)
        for i, rule in enumerate(routing.rules)
    ]
    overflows = [
        (f"{config_file}: routing.pools.{name}.overflow", p.overflow)
        for name, p in routing.pools.items()
        if p.overflow
    ]
    if reps is None:
        for key, pool in [*rule_pools, *overflows]:
            if pool not in defined:
                found.warnings.append(
                    f"{key}: pool {pool!r} is not defined in config ([routing.pools.{pool}], default_pool, "
                    "csm_pool or manager_pool), so only reps can be in it: check with --reps FILE or --live"
                )
        return found

    members: dict[str, list[Rep]] = defaultdict(list)
    for rep in reps:
        for pool in rep.pools:
            members[pool].append(rep)
        _check_rep(config, rep, where, found)

    def nobody(pool: str) -> str:
        undefined = "" if pool in defined else " (and config never defines it)"
        return f"no rep in {where} is in pool {pool!r}{undefined}"

    catch_all = any(not rule.criteria() for rule in routing.rules)
    default = [] if catch_all else [(f"{config_file}: routing.default_pool", routing.default_pool)]
    primary = [*rule_pools, *default]
    for key, pool in primary:
        if not members[pool]:
            found.errors.append(f"{key}: {nobody(pool)}, so it can never route a lead")
        elif not any(rep.active for rep in members[pool]):
            found.warnings.append(f"{key}: every rep in pool {pool!r} is inactive; its leads go to overflow")
    fallbacks = [
        *overflows,
        (f"{config_file}: routing.csm_pool", routing.csm_pool),
        (f"{config_file}: routing.manager_pool", routing.manager_pool),
        *(
            [(f"{config_file}: routing.after_hours_pool", routing.after_hours_pool)]
            if routing.after_hours_pool
            else []
        ),
    ]
    for key, pool in fallbacks:
        if not members[pool]:
            found.warnings.append(
                f"{key}: {nobody(pool)}; leads that reach it move on (in the end, unassigned)"
            )

    routed_to = {pool for _, pool in [*rule_pools, *overflows, *fallbacks]} | {routing.default_pool}
    for pool, reps_in_pool in sorted(members.items()):
        if reps_in_pool and pool not in routed_to:
            found.warnings.append(
                f"{where}: pool {pool!r} ({', '.join(r.rep_id for r in reps_in_pool)}) is named by no rule, "
                "default_pool, overflow, csm_pool or manager_pool, so no lead is routed to it"
            )
    return found
