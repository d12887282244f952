"""`handoff config check` across config and reps: pools that can never route a lead."""

from __future__ import annotations

from handoff.config import parse_config
from handoff.config.check import check_pools
from handoff.domain.rep import Rep

CONFIG = """
[routing]
default_pool = "sales"
[[routing.rules]]
name = "EMEA"
pool = "emea"
countries = ["GB"]
[[routing.rules]]
name = "APAC"
pool = "apac"
countries = ["AU"]
[routing.pools.emea]
overflow = "sales"
"""


def rep(rep_id: str, *pools: str, **kw: object) -> Rep:
    return Rep.model_validate(
        {"rep_id": rep_id, "email": f"{rep_id}@example.com", "pools": list(pools), **kw}
    )


def test_a_rule_whose_pool_no_rep_is_in_is_an_error() -> None:
    team = [rep("ana", "sales"), rep("chloe", "EMEA"), rep("maria", "managers"), rep("sam", "csm")]
    found = check_pools(parse_config(CONFIG, "ops.toml"), team, "ops.toml", "reps.csv")
    assert found.errors == [
        "ops.toml: routing.rules[1] ('APAC').pool: no rep in reps.csv is in pool 'apac' "
        "(and config never defines it), so it can never route a lead"
    ]
    assert found.warnings == []


def test_without_reps_an_undefined_pool_is_a_warning() -> None:
    found = check_pools(parse_config(CONFIG, "ops.toml"), None, "ops.toml", "")
    assert found.errors == []
    [warning] = found.warnings
    assert warning.startswith(
        "ops.toml: routing.rules[1] ('APAC').pool: pool 'apac' is not defined in config"
    )
    assert "--reps FILE or --live" in warning


def test_fallbacks_and_idle_pools_are_warnings() -> None:
    team = [rep("ana", "sales"), rep("chloe", "emea", active=False), rep("ivy", "apac"), rep("olga", "emae")]
    found = check_pools(parse_config(CONFIG, "ops.toml"), team, "ops.toml", "reps.csv")
    assert found.errors == []
    assert found.warnings == [
        "ops.toml: routing.rules[0] ('EMEA').pool: every rep in pool 'emea' is inactive; its leads go to overflow",
        "ops.toml: routing.csm_pool: no rep in reps.csv is in pool 'csm'; leads that reach it move on (in the end, unassigned)",
        "ops.toml: routing.manager_pool: no rep in reps.csv is in pool 'managers'; leads that reach it move on "
        "(in the end, unassigned)",
        "reps.csv: pool 'emae' (olga) is named by no rule, default_pool, overflow, csm_pool or manager_pool, "
        "so no lead is routed to it",
    ]


def test_the_default_pool_needs_reps_unless_a_rule_catches_everything() -> None:
    config = parse_config('[routing]\ndefault_pool = "inbound"\n', "ops.toml")
    found = check_pools(config, [rep("ana", "sales")], "ops.toml", "reps.csv")
    assert "ops.toml: routing.default_pool: no rep in reps.csv is in pool 'inbound'" in found.errors[0]
    catch_all = parse_config(
        '[routing]\ndefault_pool = "inbound"\n[[routing.rules]]\nname = "all"\npool = "sales"\n', "x"
    )
    assert check_pools(catch_all, [rep("ana", "sales")], "x", "reps.csv").errors == []


def test_reps_from_the_table_are_checked_like_the_csv() -> None:
    team = [rep("ana", "sales", timezone="Eastern"), rep("ben", "sales", email="ben@example.com")]
    found = check_pools(parse_config("", "ops.toml"), team, "ops.toml", "reps table T")
    assert found.errors == [
        "reps table T: rep ana: timezone: 'Eastern' is not an IANA time zone (e.g. America/Chicago)"
    ]


def test_an_after_hours_pool_nobody_is_in_is_a_warning() -> None:
    config = parse_config(
        CONFIG.replace('default_pool = "sales"', 'default_pool = "sales"\nafter_hours_pool = "on-call"'),
        "ops.toml",
    )
    team = [
        rep("ana", "sales"),
        rep("chloe", "emea"),
        rep("abe", "apac"),
        rep("maria", "managers"),
        rep("sam", "csm"),
    ]
    found = check_pools(config, team, "ops.toml", "reps.csv")
    assert found.errors == []
    assert any("routing.after_hours_pool" in w and "'on-call'" in w for w in found.warnings)


def test_a_rep_whose_region_has_no_holiday_calendar_is_a_warning() -> None:
    team = [rep("ana", "sales", country="US", region="ZZ"), rep("ben", "sales", country="US", region="CA")]
    found = check_pools(parse_config(CONFIG, "ops.toml"), team, "ops.toml", "reps.csv")
    [warning] = [w for w in found.warnings if "holiday" in w]
    assert warning.startswith("reps.csv: rep ana: country/region: no public holiday calendar (")
    assert "ZZ" in warning and not any("holiday" in e or "rep ana" in e for e in found.errors)
