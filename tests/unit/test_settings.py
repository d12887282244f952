"""Each function's settings: declared once in its spec, checked at cold start, and the only
ones it may read."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from handoff.deploy import functions as needs
from handoff.deploy import settings as settings_module
from handoff.deploy.functions import ALL_FUNCTIONS, SLA_CHECK, TUNING
from handoff.deploy.settings import (
    FUNCTION_VARIABLE,
    Settings,
    environment,
    function_scope,
    settings,
    variable,
)
from handoff.errors import ConfigError
from tests.conftest import ROOT


@pytest.fixture(autouse=True)
def _fresh(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in Settings.model_fields:
        monkeypatch.delenv(variable(name), raising=False)
    monkeypatch.delenv(FUNCTION_VARIABLE, raising=False)
    settings_module.reset()


def test_every_declared_setting_is_a_settings_field() -> None:
    for spec in ALL_FUNCTIONS:
        assert set(spec.environment_names) <= set(Settings.model_fields), spec.key
        assert not set(spec.settings) & set(spec.optional_settings), spec.key


def test_a_function_may_not_read_a_setting_its_spec_does_not_declare(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in TUNING.settings:
        monkeypatch.setenv(variable(name), "set")
    monkeypatch.setenv(variable(needs.STATE_MACHINE), "arn:aws:states:us-east-1:1:stateMachine:x")
    with function_scope(TUNING):
        assert settings().leads_table == "set"
        # Set in this process, but a deployed tuning function would not have it.
        with pytest.raises(ConfigError, match="tuning function reads HANDOFF_STATE_MACHINE_ARN"):
            _ = settings().state_machine_arn
    # Outside any function (the CLI), every setting is readable.
    assert settings().state_machine_arn.endswith(":x")


def test_a_scope_without_a_required_setting_fails_naming_it(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in SLA_CHECK.settings:
        if name != needs.STATE_MACHINE:
            monkeypatch.setenv(variable(name), "set")
    with pytest.raises(ConfigError, match="HANDOFF_STATE_MACHINE_ARN"), function_scope(SLA_CHECK):
        pass


def test_the_deployed_environment_names_the_function_and_only_its_settings() -> None:
    values = {name: f"value-of-{name}" for name in Settings.model_fields}
    deployed = environment(SLA_CHECK, values)
    assert deployed[FUNCTION_VARIABLE] == "sla_check"
    assert set(deployed) - {FUNCTION_VARIABLE} == {variable(n) for n in SLA_CHECK.environment_names}


def cold_start_sla_check(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """Load sla_check's module in a fresh interpreter, as Lambda's init does."""
    return subprocess.run(
        [sys.executable, "-c", "import functions.sla_check.app"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_a_lambda_cold_start_without_a_required_setting_fails_naming_the_variable() -> None:
    """As Lambda loads the module: the init fails at once instead of at the first sweep."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith("HANDOFF_") and key != "AWS_ENDPOINT_URL"
    }
    env |= {
        "AWS_LAMBDA_FUNCTION_NAME": "Handoff-slacheck",
        FUNCTION_VARIABLE: "sla_check",
        "PYTHONPATH": str(ROOT),
        **{variable(n): "set" for n in SLA_CHECK.settings if n != needs.STATE_MACHINE},
    }
    failed = cold_start_sla_check(env)
    assert failed.returncode != 0
    assert "the sla_check function needs HANDOFF_STATE_MACHINE_ARN" in failed.stderr
    env[variable(needs.STATE_MACHINE)] = "arn:aws:states:us-east-1:1:stateMachine:x"
    started = cold_start_sla_check(env)
    assert started.returncode == 0, started.stderr
