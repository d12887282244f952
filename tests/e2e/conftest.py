"""The local stack as a user runs it: `handoff serve` in its own process, over real HTTP."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import pytest

from handoff.aws.workflow import execution_arn
from handoff.local.client import HandoffClient
from handoff.local.serve_process import SIGN_IN_LINE, serving
from tests.e2e.pii import personal_data_in

ROOT = Path(__file__).resolve().parents[2]
SECRETS = {
    "HANDOFF_GENERIC_SECRET": "e2e-generic-secret",
    "HANDOFF_GENERIC_TOKEN": "e2e-generic-token",
    "HANDOFF_API_KEY": "e2e-api-key",
    "HANDOFF_HUBSPOT_APP_SECRET": "e2e-hubspot-secret",
    "HANDOFF_HUBSPOT_TOKEN": "e2e-hubspot-token",
    "HANDOFF_SALESFORCE_TOKEN": "e2e-salesforce-token",
    "HANDOFF_SALESFORCE_ORG_IDS": "00D5g000004ABCDEAZ",
}


@dataclass
class Served:
    client: HandoffClient
    aws_url: str
    outbox: Path

    def aws(self, service: str) -> Any:
        return boto3.client(
            service,
            endpoint_url=self.aws_url,
            region_name="us-east-1",
            aws_access_key_id="local",
            aws_secret_access_key="local",
        )

    def execution_status(self, lead_id: str, timeout: float = 20) -> str:
        sfn = self.aws("stepfunctions")
        [machine] = sfn.list_state_machines()["stateMachines"]
        arn = execution_arn(machine["stateMachineArn"], lead_id)
        deadline = time.monotonic() + timeout
        while True:
            status: str = sfn.describe_execution(executionArn=arn)["status"]
            if status != "RUNNING" or time.monotonic() > deadline:
                return status
            time.sleep(0.1)


def unique_event(lead: dict[str, Any]) -> dict[str, Any]:
    lead["event_id"] = f"e2e-{uuid.uuid4()}"
    return lead


@pytest.fixture(scope="session")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    with serving(tmp_path_factory.mktemp("served"), SECRETS) as running:
        yield Served(
            client=HandoffClient.for_secrets(running.url, SECRETS),
            aws_url=running.aws_url,
            outbox=running.outbox,
        )
    # Every log line the whole e2e session produced: no contact's email, phone or name. (The
    # banner's local sign-ins are printed for the person running it, not logged.)
    lines = [line for line in running.log.read_text().splitlines() if not SIGN_IN_LINE.match(line)]
    assert lines  # the scan below read the session's logs
    leaks = personal_data_in(lines)
    assert leaks == [], f"personal data in {len(leaks)} log line(s), e.g. {leaks[:3]}"
    secrets = [line for line in lines if any(value in line for value in SECRETS.values())]
    assert secrets == [], f"a secret in {len(secrets)} log line(s)"
