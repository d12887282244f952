from __future__ import annotations

from pathlib import Path

import pytest

from handoff.config import load_config, parse_config
from handoff.errors import ConfigError

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("path", ["config/handoff.toml", "examples/demo.toml"])
def test_shipped_configs_are_valid(path: str) -> None:
    config = load_config(ROOT / path)
    assert config.sla["hot"] > 0
    assert "demo_request" in config.qualify.next_step_triggers


def test_demo_config_counts_sla_in_seconds() -> None:
    assert load_config(ROOT / "examples/demo.toml").sla["hot"] < 60


def test_unknown_key_names_the_key_and_the_file() -> None:
    with pytest.raises(ConfigError) as error:
        parse_config("[qualify]\nmin_fitt = 10\n", "ops.toml")
    assert "ops.toml" in str(error.value)
    assert "qualify.min_fitt" in str(error.value)


def test_bad_value_names_the_key() -> None:
    with pytest.raises(ConfigError) as error:
        parse_config("[sla]\nhot = -5\nwarm = 10\n", "ops.toml")
    assert "sla.hot" in str(error.value)


def test_inverted_employee_range_is_rejected() -> None:
    with pytest.raises(ConfigError) as error:
        parse_config("[qualify.fit.employees]\nmin = 500\nmax = 10\n", "ops.toml")
    assert "qualify.fit.employees" in str(error.value)
    assert "max must be at least min" in str(error.value)


def test_final_outcomes_must_exist() -> None:
    with pytest.raises(ConfigError, match="final lists outcomes not in reasons: won"):
        parse_config('[dispositions]\nfinal = ["won"]\n', "ops.toml")


def test_invalid_toml_names_the_file() -> None:
    with pytest.raises(ConfigError, match=r"^ops.toml: not valid TOML"):
        parse_config("[qualify\n", "ops.toml")


def test_missing_file_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read config"):
        load_config(tmp_path / "absent.toml")


def test_empty_config_takes_safe_defaults() -> None:
    config = parse_config("", "empty.toml")
    assert config.routing.default_pool == "sales"
    assert config.sla_seconds("hot") == 300
    assert config.sla_seconds("unknown-tier") == config.sla["warm"]


def test_every_tier_needs_an_sla() -> None:
    text = '[[qualify.tiers]]\nname = "vip"\nmin_score = 90\n[[qualify.tiers]]\nname = "hot"\nmin_score = 0\n'
    with pytest.raises(ConfigError, match=r"no SLA for tier\(s\) vip"):
        parse_config(text, "ops.toml")


def test_tiers_must_be_ordered_and_unique() -> None:
    with pytest.raises(ConfigError, match="highest min_score down"):
        parse_config(
            '[[qualify.tiers]]\nname = "warm"\nmin_score = 0\n[[qualify.tiers]]\nname = "hot"\nmin_score = 80\n',
            "x",
        )
    with pytest.raises(ConfigError, match="duplicate tier"):
        parse_config(
            '[[qualify.tiers]]\nname = "hot"\nmin_score = 80\n[[qualify.tiers]]\nname = "hot"\nmin_score = 0\n',
            "x",
        )


def test_required_fields_must_be_paths() -> None:
    with pytest.raises(ConfigError, match=r"qualify: .*required_fields: 'employees'"):
        parse_config('[qualify]\nrequired_fields = ["employees"]\n', "x")


def test_free_mail_policy_is_one_of_three() -> None:
    with pytest.raises(ConfigError, match=r"qualify\.exclusions\.free_mail"):
        parse_config('[qualify.exclusions]\nfree_mail = "sometimes"\n', "x")


def test_a_ladder_longer_than_the_workflow_timeout_is_a_warning() -> None:
    from handoff.deploy.workflow import execution_timeout_seconds

    shipped = load_config(ROOT / "config" / "handoff.toml")
    limit = execution_timeout_seconds()
    assert limit is not None and shipped.ladder_seconds() < limit
    assert not [w for w in shipped.warnings() if w.startswith("escalation:")]
    text = (ROOT / "config" / "handoff.toml").read_text()
    long_sla = text.replace("warm = 14400   # 4 hours", "warm = 2592000  # 30 days")
    assert long_sla != text
    [warning] = [w for w in parse_config(long_sla, "t").warnings() if w.startswith("escalation:")]
    assert "timeout" in warning and "sla_check resumes" in warning


def test_the_sender_time_zone_must_be_a_zone() -> None:
    assert parse_config(
        '[adapters]\nsender_timezone = "Europe/Berlin"\n', "ops.toml"
    ).adapters.sender_timezone
    with pytest.raises(ConfigError) as error:
        parse_config('[adapters]\nsender_timezone = "Central"\n', "ops.toml")
    assert "adapters.sender_timezone" in str(error.value) and "IANA" in str(error.value)
