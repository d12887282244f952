"""Process settings from the environment, read once and validated.

The Lambdas get these from CDK; the local stack sets them for its in-process
handlers. A missing or bad variable fails fast with its name.
"""

from __future__ import annotations

import os
from functools import cache

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from handoff.errors import ConfigError

ENV_PREFIX = "HANDOFF_"


class Settings(BaseModel):
    model_config = ConfigDict(frozen=True)

    leads_table: str = Field(min_length=1)
    reps_table: str = Field(min_length=1)
    accounts_table: str = ""
    dispositions_table: str = "handoff-dispositions"
    config_path: str = Field(min_length=1)
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
    # CRM write-back: the queue the steps post to (empty: no write-back), Salesforce's login
    # host (a sandbox uses https://test.salesforce.com), and the idempotency records' table.
    crm_sync_queue_url: str = ""
    salesforce_login_url: str = "https://login.salesforce.com"
    idempotency_table: str = ""

    def secret_id(self, name: str) -> str:
        return f"{self.secret_prefix}{name}"


@cache
def settings() -> Settings:
    values = {
        name: os.environ[f"{ENV_PREFIX}{name.upper()}"]
        for name in Settings.model_fields
        if f"{ENV_PREFIX}{name.upper()}" in os.environ
    }
    try:
        return Settings.model_validate(values)
    except ValidationError as exc:
        problems = [f"{ENV_PREFIX}{str(e['loc'][0]).upper()}: {e['msg']}" for e in exc.errors()]
        raise ConfigError("environment: " + "; ".join(problems)) from exc
