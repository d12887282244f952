from __future__ import annotations

from pathlib import Path

import pytest

from handoff.config import load_config, parse_config
from handoff.errors import ConfigError

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("path", ["config/handoff.toml", "examples/demo.toml"])
def test_shipped_configs_are_valid(path: str) -> None:
    config = load_config(ROOT / path)
    assert config.sla.hot > 0
    assert "demo_request" in config.qualify.next_step_triggers


def test_demo_config_counts_sla_in_seconds() -> None:
    assert load_config(ROOT / "examples/demo.toml").sla.hot < 60


def test_unknown_key_names_the_key_and_the_file() -> None:
    with pytest.raises(ConfigError) as error:
        parse_config("[qualify]\nmin_fitt = 10\n", "ops.toml")
    assert "ops.toml" in str(error.value)
    assert "qualify.min_fitt" in str(error.value)


def test_bad_value_names_the_key() -> None:
    with pytest.raises(ConfigError) as error:
        parse_config("[sla]\nhot = -5\n", "ops.toml")
    assert "sla.hot" in str(error.value)


def test_inverted_employee_range_is_rejected() -> None:
    with pytest.raises(ConfigError) as error:
        parse_config("[qualify.fit]\nmin_employees = 500\nmax_employees = 10\n", "ops.toml")
    assert "max_employees" in str(error.value)


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
    assert config.sla.seconds_for("hot") == 300
    assert config.sla.seconds_for("unknown-tier") == config.sla.warm
