"""The local stack as a user runs it: `handoff serve` in its own process, over real HTTP."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import urllib.request
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import pytest

from handoff.aws.workflow import execution_arn
from handoff.local.client import HandoffClient
from handoff.local.stack import free_port
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
    outbox = tmp_path_factory.mktemp("outbox")
    log_path = tmp_path_factory.mktemp("logs") / "serve.log"
    log = log_path.open("w")
    port, aws_port = free_port(), free_port()
    env = {**os.environ, **SECRETS, "PYTHONUNBUFFERED": "1"}
    env.pop("AWS_ENDPOINT_URL", None)
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "handoff.cli",
            "serve",
            "--port",
            str(port),
            "--aws-port",
            str(aws_port),
            "--config",
            str(ROOT / "examples" / "demo.toml"),
            "--reps",
            str(ROOT / "examples" / "reps.csv"),
            "--outbox",
            str(outbox),
            "--sla-check-every",
            "1",
        ],
        cwd=tmp_path_factory.mktemp("cwd"),
        env=env,
        # A file, not a pipe: a pipe nobody drains would stall the server once it filled.
        stdout=log,
        stderr=subprocess.STDOUT,
        text=True,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            with urllib.request.urlopen(f"{base}/health", timeout=1):  # noqa: S310
                break
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                output = log_path.read_text()
                process.kill()
                raise RuntimeError(f"handoff serve did not start:\n{output}") from None
            time.sleep(0.2)
    yield Served(
        client=HandoffClient.for_secrets(base, SECRETS),
        aws_url=f"http://127.0.0.1:{aws_port}",
        outbox=outbox,
    )
    process.send_signal(signal.SIGTERM)
    try:
        code = process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()
        raise AssertionError("handoff serve ignored SIGTERM") from None
    log.close()
    assert code == 0, log_path.read_text()
    # Every log line the whole e2e session produced: no contact's email, phone or name.
    lines = log_path.read_text().splitlines()
    assert lines  # the scan below read the session's logs
    leaks = personal_data_in(lines)
    assert leaks == [], f"personal data in {len(leaks)} log line(s), e.g. {leaks[:3]}"
    secrets = [line for line in lines if any(value in line for value in SECRETS.values())]
    assert secrets == [], f"a secret in {len(secrets)} log line(s)"
