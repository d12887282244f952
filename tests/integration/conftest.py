"""The handlers on moto, in-process: the real ASL executes and calls the real handlers."""

from __future__ import annotations

import contextlib
import json
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws

from handoff.aws import container
from handoff.aws.tables import LEADS
from handoff.aws.workflow import execution_arn
from handoff.crm.hubspot_signature import sign_v3
from handoff.crm.signature import sign_generic
from handoff.deploy.credentials import ALL_SECRETS
from handoff.domain.rep import Rep
from handoff.local import lambdas
from handoff.local.fake_hubspot import FakeHubSpot
from handoff.local.fake_salesforce import FakeSalesforce
from handoff.local.gateway import admit
from handoff.local.http_front import build_event, match
from handoff.local.provision import provision, table_name
from tests.conftest import ROOT, rep

MOTO_CONFIG = {"stepfunctions": {"execute_state_machine": True}, "lambda": {"use_docker": False}}
SALESFORCE_ORG = "00D5g000004ABCDEAZ"
SECRETS = {s.env_var: f"test-{s.name}" for s in ALL_SECRETS} | {"HANDOFF_SALESFORCE_ORG_IDS": SALESFORCE_ORG}
# The shipped config, with SLAs short enough to lapse inside a test, on the wall clock (in working
# time a test run at night would wait for the morning; tests of working time set their own clock).
TEST_CONFIG = (
    (ROOT / "config" / "handoff.toml")
    .read_text()
    .replace("hot = 300      # 5 minutes\nwarm = 14400   # 4 hours", "hot = 2\nwarm = 30")
    .replace("reminder_grace_seconds = 600", "reminder_grace_seconds = 1")
    .replace("sla_in_working_hours = true", "sla_in_working_hours = false")
)
assert "hot = 2" in TEST_CONFIG and "reminder_grace_seconds = 1" in TEST_CONFIG
assert "sla_in_working_hours = false" in TEST_CONFIG


@dataclass
class Aws:
    state_machine_arn: str
    # Salesforce's REST API for the qualify function, serving examples/salesforce/crm-objects.json.
    salesforce: FakeSalesforce

    def api(
        self, method: str, path: str, body: bytes = b"", headers: dict[str, str] | None = None
    ) -> tuple[int, dict[str, Any]]:
        found = match(method, path.split("?", maxsplit=1)[0])
        assert found, f"no route {method} {path}"
        route, params = found
        # What API Gateway checks before the function, as the local front checks it.
        refused = admit(route, headers or {}, body, lambda: SECRETS["HANDOFF_API_KEY"])
        if refused is not None:
            return refused.status, json.loads(refused.body)
        event = build_event(
            route, params=params, method=method, raw_path=path, headers=headers or {}, body=body
        )
        result = lambdas.invoke(route.function, event)
        return int(result["statusCode"]), json.loads(result["body"] or "{}")

    def post_lead(
        self, lead: dict[str, Any] | bytes, secret: str = SECRETS["HANDOFF_GENERIC_SECRET"]
    ) -> tuple[int, dict[str, Any]]:
        body = lead if isinstance(lead, bytes) else json.dumps(lead).encode()
        headers = {
            "Content-Type": "application/json",
            "X-Handoff-Signature": sign_generic(secret, body, int(time.time())),
        }
        return self.api("POST", "/webhooks/generic", body, headers)

    def post_hubspot(
        self,
        body: bytes,
        *,
        secret: str = SECRETS["HANDOFF_HUBSPOT_APP_SECRET"],
        path: str = "/webhooks/hubspot",
    ) -> tuple[int, dict[str, Any]]:
        timestamp = str(int(time.time() * 1000))
        uri = f"https://handoff.test{path}"
        headers = {
            "Content-Type": "application/json",
            "Host": "handoff.test",
            "X-Forwarded-Proto": "https",
            "X-HubSpot-Signature-v3": sign_v3(secret, "POST", uri, body, timestamp),
            "X-HubSpot-Request-Timestamp": timestamp,
        }
        return self.api("POST", path, body, headers)

    def post_salesforce(
        self, body: bytes, token: str | None = SECRETS["HANDOFF_SALESFORCE_TOKEN"]
    ) -> tuple[int, str]:
        path = "/webhooks/salesforce" + (f"?token={token}" if token is not None else "")
        found = match("POST", "/webhooks/salesforce")
        assert found
        event = build_event(
            found[0], params={}, method="POST", raw_path=path, headers={"Content-Type": "text/xml"}, body=body
        )
        result = lambdas.invoke(found[0].function, event)
        content_type = (result.get("headers") or {}).get("Content-Type") or result["multiValueHeaders"][
            "Content-Type"
        ][0]
        assert content_type.startswith("text/xml")
        return int(result["statusCode"]), str(result["body"])

    def get_lead(self, lead_id: str) -> dict[str, Any]:
        status, body = self.api("GET", f"/leads/{lead_id}", headers={"x-api-key": SECRETS["HANDOFF_API_KEY"]})
        assert status == 200, body
        return body

    def dispose(self, lead_id: str, **body: Any) -> tuple[int, dict[str, Any]]:
        headers = {"Content-Type": "application/json", "x-api-key": SECRETS["HANDOFF_API_KEY"]}
        return self.api("POST", f"/leads/{lead_id}/disposition", json.dumps(body).encode(), headers)

    def wait_status(self, lead_id: str, statuses: set[str], timeout: float = 15) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while True:
            lead = self.get_lead(lead_id)
            if lead["status"] in statuses:
                return lead
            if time.monotonic() > deadline:
                raise AssertionError(f"lead stayed {lead['status']}, wanted {statuses}: {lead['timeline']}")
            time.sleep(0.05)

    def wait_for_event(self, lead_id: str, event: str, timeout: float = 15, count: int = 1) -> dict[str, Any]:
        """Poll until the lead's timeline holds ``event`` at least ``count`` times."""
        deadline = time.monotonic() + timeout
        while True:
            lead = self.get_lead(lead_id)
            if sum(entry["event"] == event for entry in lead["timeline"]) >= count:
                return lead
            if time.monotonic() > deadline:
                raise AssertionError(f"no {event} on the timeline: {lead['timeline']}")
            time.sleep(0.05)

    def wait_for_event_after(
        self, lead_id: str, first: str, then: str, timeout: float = 30
    ) -> dict[str, Any]:
        """Poll until the timeline holds ``then`` after its last ``first``. (Counting ``then``
        alone is racy: a step the workflow retried may have written it twice already.)"""
        deadline = time.monotonic() + timeout
        while True:
            lead = self.get_lead(lead_id)
            events = [entry["event"] for entry in lead["timeline"]]
            if first in events and then in events[len(events) - events[::-1].index(first) :]:
                return lead
            if time.monotonic() > deadline:
                raise AssertionError(f"no {then} after {first} on the timeline: {lead['timeline']}")
            time.sleep(0.05)

    def execution(self, lead_id: str, timeout: float = 15) -> dict[str, Any]:
        """Wait for the lead's execution to finish and return its description."""
        sfn = boto3.client("stepfunctions")
        arn = execution_arn(self.state_machine_arn, lead_id)
        deadline = time.monotonic() + timeout
        while True:
            described: dict[str, Any] = sfn.describe_execution(executionArn=arn)
            if described["status"] != "RUNNING" or time.monotonic() > deadline:
                return described
            time.sleep(0.05)

    def executions(self) -> list[dict[str, Any]]:
        pages = (
            boto3.client("stepfunctions")
            .get_paginator("list_executions")
            .paginate(stateMachineArn=self.state_machine_arn)
        )
        return [execution for page in pages for execution in page["executions"]]

    def leads_count(self) -> int:
        pages = (
            boto3.client("dynamodb")
            .get_paginator("scan")
            .paginate(TableName=table_name(LEADS), Select="COUNT")
        )
        return sum(int(page["Count"]) for page in pages)

    def sent_emails(self) -> list[Any]:
        from moto.ses.models import ses_backends

        return list(ses_backends[lambdas.ACCOUNT][lambdas.REGION].sent_messages)

    def brief_links(self, to: str) -> dict[str, str]:
        """The one-click link tokens in the last brief sent to ``to``, by label."""
        import email
        import email.policy
        import re

        for sent in reversed(self.sent_emails()):
            message = email.message_from_string(sent.raw_data, policy=email.policy.default)
            if message["To"] == to and not message["Subject"].startswith("[SLA missed]"):
                text = next(p for p in message.walk() if p.get_content_type() == "text/plain").get_content()
                return dict(
                    re.findall(r"^([A-Z][a-z ]+): https://handoff\.test/d/(\S+)$", text, re.MULTILINE)
                )
        raise AssertionError(f"no brief to {to}")

    def get_reps(self) -> dict[str, dict[str, Any]]:
        """GET /reps, by rep id."""
        status, body = self.api("GET", "/reps", headers={"x-api-key": SECRETS["HANDOFF_API_KEY"]})
        assert status == 200, body
        return {r["rep_id"]: r for r in body["reps"]}

    def put_reps(self, *reps: Rep) -> None:
        for each in reps:
            container.ports().reps.put(each)


def use_config(monkeypatch: pytest.MonkeyPatch, path: Path, **replacements: str) -> None:
    """Run with TEST_CONFIG where each ``old=new`` text replacement applies (and must)."""
    text = TEST_CONFIG
    for old, new in replacements.items():
        assert old in text, old
        text = text.replace(old, new)
    path.write_text(text)
    monkeypatch.setenv("HANDOFF_CONFIG_PATH", str(path))
    container.reset()


@pytest.fixture
def patient_sla(aws: Aws, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """A one-minute hot SLA, for tests whose rep touches in time: on a loaded machine the test
    config's 2 s can lapse between the brief and the touch (the touch still ends the wait at once).
    It needs the stack first: provisioning points every function at the default test config."""
    use_config(monkeypatch, tmp_path / "patient.toml", **{"hot = 2\n": "hot = 60\n"})


# The emulator's retry clock runs this many times faster than the ASL's IntervalSeconds: a
# Retry still waits, in order and with its back-off, but 2 s and 4 s become 0.1 s and 0.2 s.
RETRY_CLOCK_SPEED = 20


class _FastRetryClock:
    """Stands in for the `time` module inside moto's ASL retrier, which only sleeps with it."""

    @staticmethod
    def sleep(seconds: float) -> None:
        time.sleep(seconds / RETRY_CLOCK_SPEED)


@pytest.fixture(autouse=True, scope="session")
def _fast_retry_clock() -> Iterator[None]:
    from moto.stepfunctions.parser.asl.component.common.retry import retrier_decl

    with pytest.MonkeyPatch.context() as monkeypatch:
        monkeypatch.setattr(retrier_decl, "time", _FastRetryClock)
        yield


@contextlib.contextmanager
def provisioned(monkeypatch: pytest.MonkeyPatch, config: Path) -> Iterator[Aws]:
    """The stack on moto, with each function's variables built from its spec as CDK builds them."""
    config.write_text(TEST_CONFIG)
    env = {
        "AWS_DEFAULT_REGION": lambdas.REGION,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "POWERTOOLS_SERVICE_NAME": "handoff-test",
        "POWERTOOLS_METRICS_NAMESPACE": "HandoffTest",
        "POWERTOOLS_TRACE_DISABLED": "true",
        "POWERTOOLS_DEV": "false",
    }
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    lambdas.install()
    container.reset()
    salesforce = FakeSalesforce(
        SECRETS["HANDOFF_SALESFORCE_CLIENT_ID"],
        SECRETS["HANDOFF_SALESFORCE_CLIENT_SECRET"],
        data_file=ROOT / "examples" / "salesforce" / "crm-objects.json",
    ).start()
    try:
        with mock_aws(config=MOTO_CONFIG):  # type: ignore[arg-type]
            stack = provision(SECRETS)
            for key, value in stack.environment(
                config_path=str(config),
                public_base_url="https://handoff.test",
                salesforce_login_url=salesforce.url,
            ).items():
                monkeypatch.setenv(key, value)
            container.reset()
            yield Aws(state_machine_arn=stack.state_machine_arn, salesforce=salesforce)
            _stop_running_executions(stack.state_machine_arn)
    finally:
        salesforce.stop()
    container.reset()


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[Aws]:
    """A fresh stack for each test."""
    with provisioned(monkeypatch, tmp_path / "handoff.toml") as stack:
        yield stack


@pytest.fixture(scope="module")
def shared_aws(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Aws]:
    """One stack for a whole module, for cases that each leave it as they found it (or check
    only what they wrote themselves): provisioning costs about a second a test."""
    with (
        pytest.MonkeyPatch.context() as monkeypatch,
        provisioned(monkeypatch, tmp_path_factory.mktemp("stack") / "handoff.toml") as stack,
    ):
        yield stack


# The last history event of a stopped execution that will call nothing more: the end, parked on
# a task token, or between a failed attempt and a retry that a stopped execution never makes.
QUIET_EVENTS = {
    "ExecutionAborted",
    "ExecutionFailed",
    "ExecutionSucceeded",
    "ExecutionTimedOut",
    "TaskSubmitted",
    "TaskFailed",
    "TaskTimedOut",
}


def _stop_running_executions(state_machine_arn: str) -> None:
    """Executions run on threads; one left running would call into the next test's mock.

    moto drops a stop that arrives before the execution enters its first state (the
    interpreter then marks itself running and carries on), so wait for that first. A stopped
    execution still finishes the state it is in, so wait until it has ended or gone quiet."""
    sfn = boto3.client("stepfunctions")
    running = sfn.list_executions(stateMachineArn=state_machine_arn, statusFilter="RUNNING")["executions"]
    for execution in running:
        _stop_quietly(sfn, execution["executionArn"])


def _stop_quietly(sfn: Any, arn: str) -> None:
    _wait_for(lambda: any(e["type"].endswith("StateEntered") for e in _history(sfn, arn)))
    with contextlib.suppress(Exception):
        sfn.stop_execution(executionArn=arn)
    # The history, not the status: a stopped execution can read as ended while the state it was
    # in still runs.
    _wait_for(lambda: bool(events := _history(sfn, arn)) and events[-1]["type"] in QUIET_EVENTS)


def _history(sfn: Any, execution_arn: str) -> list[dict[str, Any]]:
    """The execution's events; none while moto cannot serialize them (a task whose timeout is
    still a path mid-step fails its serializer with a TypeError), so the caller polls again."""
    try:
        events: list[dict[str, Any]] = sfn.get_execution_history(executionArn=execution_arn)["events"]
    except TypeError:
        return []
    return events


def _wait_for(condition: Callable[[], bool], timeout: float = 5) -> None:
    deadline = time.monotonic() + timeout
    while not condition() and time.monotonic() < deadline:
        time.sleep(0.01)


@pytest.fixture
def hubspot_api(aws: Aws, monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeHubSpot]:
    """A local fake of HubSpot's CRM v3 API over real HTTP, serving examples/hubspot/crm-objects.json."""
    fake = FakeHubSpot(
        ROOT / "examples" / "hubspot" / "crm-objects.json",
        token=SECRETS["HANDOFF_HUBSPOT_TOKEN"],
        dated_as_of=datetime.now(UTC),
    ).start()
    monkeypatch.setenv("HANDOFF_HUBSPOT_API_BASE", fake.url)
    container.reset()
    aws.put_reps(rep("r1"))
    yield fake
    fake.stop()
