"""Process settings from the environment, read once and validated, per function.

Each function's spec (handoff.deploy.functions) names the settings it needs. CDK sets exactly
those variables on the deployed function; the local stack runs every handler in one
process, so it scopes each invocation to its function (``function_scope``). Either way
a function sees only its own settings: reading one it did not declare is an error here,
not an empty string in production, and a missing required one fails at cold start with
the variable's name.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from functools import cache
from typing import Any, cast

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from handoff.deploy.functions import ALL_FUNCTIONS, FunctionSpec
from handoff.errors import ConfigError

ENV_PREFIX = "HANDOFF_"
# Deployed functions carry their spec's key here, so a container knows which settings are its own.
FUNCTION_VARIABLE = "HANDOFF_FUNCTION"


class Settings(BaseModel):
    model_config = ConfigDict(frozen=True)

    leads_table: str = ""
    reps_table: str = ""
    accounts_table: str = ""
    dispositions_table: str = ""
    config_path: str = ""
    state_machine_arn: str = ""
    # Secrets Manager names are "<secret_prefix><name>", e.g. handoff/generic-secret.
    secret_prefix: str = "handoff/"  # noqa: S105 - a name prefix, not a secret
    sender: str = "handoff@example.com"
    ses_configuration_set: str = ""
    public_base_url: str = ""
    max_body_bytes: int = Field(default=1024 * 1024, ge=1024)
    hubspot_api_base: str = "https://api.hubapi.com"
    replay_window_seconds: int = Field(default=300, ge=1)
    # Where the tuning job writes its reports (empty: email only).
    reports_bucket: str = ""
    # CRM write-back: the queue the steps post to, Salesforce's login host (a sandbox uses
    # https://test.salesforce.com), and the idempotency records' table.
    crm_sync_queue_url: str = ""
    salesforce_login_url: str = "https://login.salesforce.com"
    idempotency_table: str = ""
    # The shared send schedule that paces email at the account's SES sending rate.
    send_schedule_table: str = ""
    # The ops console's Cognito user pool and app client.
    user_pool_id: str = ""
    user_pool_client_id: str = ""


# Tuning knobs every function may read; they have safe defaults and no resource behind them.
SHARED_SETTINGS = ("max_body_bytes", "replay_window_seconds")


def variable(name: str) -> str:
    """The environment variable behind a Settings field."""
    return f"{ENV_PREFIX}{name.upper()}"


class FunctionSettings:
    """A function's view of Settings: its declared fields, and an error for any other."""

    def __init__(self, spec: FunctionSpec, values: Settings):
        self._spec = spec
        self._values = values
        self._allowed = frozenset((*spec.environment_names, *SHARED_SETTINGS))

    def __getattr__(self, name: str) -> Any:
        if name in Settings.model_fields and name not in self._allowed:
            raise ConfigError(
                f"the {self._spec.key} function reads {variable(name)}, which its spec in "
                "handoff/deploy/functions.py does not declare, so it is not set where it is deployed"
            )
        return getattr(self._values, name)


_current: ContextVar[FunctionSpec | None] = ContextVar("handoff_function", default=None)
_BY_KEY = {spec.key: spec for spec in ALL_FUNCTIONS}


@contextmanager
def function_scope(spec: FunctionSpec) -> Iterator[None]:
    """Run as ``spec``'s function: the local stack's stand-in for a container of its own."""
    _load(spec.key)  # what a cold start checks: every required setting is there
    token = _current.set(spec)
    try:
        yield
    finally:
        _current.reset(token)


def scoped_function() -> FunctionSpec | None:
    """The function an in-process invocation runs as (None outside ``function_scope``)."""
    return _current.get()


def current_function() -> FunctionSpec | None:
    scoped = _current.get()
    if scoped is not None:
        return scoped
    deployed = os.environ.get(FUNCTION_VARIABLE, "")
    if deployed and deployed not in _BY_KEY:
        raise ConfigError(f"{FUNCTION_VARIABLE}: no function named {deployed!r}")
    return _BY_KEY.get(deployed)


def settings() -> Settings:
    """The settings of the function running now (all of them outside any function: the CLI)."""
    spec = current_function()
    return _load(spec.key if spec else None)


def require(spec: FunctionSpec) -> None:
    """Cold-start check in Lambda: this container is ``spec``'s and has every setting it needs,
    or the init fails naming them. (Locally, ``function_scope`` checks at each invocation.)"""
    if "AWS_LAMBDA_FUNCTION_NAME" not in os.environ:
        return
    deployed = os.environ.get(FUNCTION_VARIABLE, "")
    if deployed != spec.key:
        raise ConfigError(f"{FUNCTION_VARIABLE} is {deployed!r} in the {spec.key} function's container")
    _load(spec.key)


@cache
def _load(function_key: str | None) -> Settings:
    spec = _BY_KEY[function_key] if function_key else None
    names = (*spec.environment_names, *SHARED_SETTINGS) if spec else tuple(Settings.model_fields)
    values = {name: os.environ[variable(name)] for name in names if variable(name) in os.environ}
    if spec is not None:
        missing = [variable(n) for n in spec.settings if not values.get(n)]
        if missing:
            raise ConfigError(f"the {spec.key} function needs {', '.join(missing)} (unset or empty)")
    try:
        loaded = Settings.model_validate(values)
    except ValidationError as exc:
        problems = [f"{variable(str(e['loc'][0]))}: {e['msg']}" for e in exc.errors()]
        raise ConfigError("environment: " + "; ".join(problems)) from exc
    return cast(Settings, FunctionSettings(spec, loaded)) if spec else loaded


def environment(spec: FunctionSpec, values: Mapping[str, str]) -> dict[str, str]:
    """The variables to deploy ``spec`` with, from each setting's value; a required one missing
    is an error here (at synth, or when the local stack starts), not at the first lead."""
    missing = [name for name in spec.settings if not values.get(name)]
    if missing:
        raise ConfigError(f"the {spec.key} function needs {', '.join(missing)}, which nothing provides")
    chosen = {variable(name): values[name] for name in spec.environment_names if values.get(name)}
    return {**chosen, FUNCTION_VARIABLE: spec.key}


def reset() -> None:
    _load.cache_clear()
