"""Faults injected under the real workflow on moto: each is retried with backoff; when retries
run out the lead is visibly ``failed`` (listed by GET /leads, counted for the alarm), and
`handoff redrive` resumes it without a second email or a second capacity claim.

Invariant checked by every test: each accepted webhook settles in a terminal or handed-off
status, or in ``failed``. Never lost, never doubled.
"""

from __future__ import annotations

import copy
import json
import time
from collections.abc import Iterator
from itertools import pairwise
from typing import Any

import boto3
import pytest

from handoff.aws import container, mailer
from handoff.aws.tables import LEADS
from handoff.aws.workflow import execution_arn
from handoff.cli import main
from handoff.deploy.functions import MARK_FAILED, SLA_CHECK
from handoff.local import emulator, lambdas
from handoff.local.fake_hubspot import FakeHubSpot
from handoff.local.provision import table_name
from tests.integration.conftest import SECRETS, Aws, rep
from tests.integration.faults import NO_ANSWER, Faults

SETTLED = {"notified", "closed", "renurtured", "nurture", "failed"}
API_KEY = {"x-api-key": SECRETS["HANDOFF_API_KEY"]}


@pytest.fixture
def faults(aws: Aws) -> Iterator[Faults]:
    injector = Faults()
    yield injector
    injector.clear()


def _lead(template: dict[str, Any], n: int) -> dict[str, Any]:
    body = copy.deepcopy(template)
    body["event_id"] = f"fault-{n}"
    body["contact"]["email"] = f"fault{n}@northwind.example"
    return body


def _briefs(aws: Aws, lead_id: str) -> int:
    lead = aws.get_lead(lead_id)
    sent = [
        m
        for m in aws.sent_emails()
        if lead["assignment"] and lead["assignment"]["rep_email"] in m.destinations
    ]
    return sum(1 for n in lead["notifications"] if n["kind"] == "brief") if sent else 0


def _settles(aws: Aws, lead_id: str, status: str, timeout: float = 60) -> dict[str, Any]:
    lead = aws.wait_status(lead_id, {status} | ({"failed"} - {status}), timeout=timeout)
    assert lead["status"] == status, lead["timeline"]
    assert lead["status"] in SETTLED
    return lead


def _failed_listed(aws: Aws) -> list[str]:
    status, body = aws.api("GET", "/leads?status=failed", headers=API_KEY)
    assert status == 200, body
    return [lead["lead_id"] for lead in body["leads"]]


def _redrive(*args: str) -> None:
    assert main(["redrive", *args, "--table", table_name(LEADS), "--state-machine", _state_machine()]) == 0


def _state_machine() -> str:
    from handoff.deploy.settings import settings

    return settings().state_machine_arn


def _task_errors(aws: Aws, lead_id: str) -> list[str]:
    """The errors the lead's workflow steps failed with, in order (each one then retried)."""
    history = boto3.client("stepfunctions").get_execution_history(
        executionArn=execution_arn(aws.state_machine_arn, lead_id), maxResults=1000
    )["events"]
    return [e["taskFailedEventDetails"]["error"] for e in history if e["type"] == "TaskFailed"]


def _one_brief_one_slot(aws: Aws, lead_id: str, rep_id: str = "r1") -> None:
    lead = aws.get_lead(lead_id)
    assert [n["kind"] for n in lead["notifications"]] == ["brief"]
    assert sum(1 for m in aws.sent_emails() if f"{rep_id}@example.com" in m.destinations) == 1
    assert container.ports().reps.get(rep_id).open_count == 1  # type: ignore[union-attr]


def test_dynamodb_throttling_is_retried_by_the_sdk(
    aws: Aws, faults: Faults, hot_lead: dict[str, Any]
) -> None:
    aws.put_reps(rep("r1"))
    faults.inject("dynamodb", "UpdateItem", "ProvisionedThroughputExceededException", times=2)
    faults.inject("dynamodb", "PutItem", "ThrottlingException", times=1)
    status, body = aws.post_lead(_lead(hot_lead, 1))
    assert status == 202
    _settles(aws, body["lead_id"], "notified")
    _one_brief_one_slot(aws, body["lead_id"])
    assert sum(faults.injected.values()) == 3


def test_dynamodb_errors_past_every_retry_fail_the_lead_then_redrive_finishes_it(
    aws: Aws, faults: Faults, hot_lead: dict[str, Any], capfd: pytest.CaptureFixture[str]
) -> None:
    aws.put_reps(rep("r1"))
    # Route reads the contact's open handoffs first; that read keeps failing.
    faults.inject("dynamodb", "Query", "InternalServerError", status=500, times=None)
    status, body = aws.post_lead(_lead(hot_lead, 2))
    assert status == 202
    lead = _settles(aws, body["lead_id"], "failed")
    faults.clear()
    assert lead["failure"]["error"] == "StorageError"
    assert body["lead_id"] in _failed_listed(aws)
    assert '"LeadsFailed"' in capfd.readouterr().out  # the metric behind the alarm
    assert faults.injected["dynamodb.Query InternalServerError"] >= 12  # 3 SDK attempts x 4 workflow tries
    _redrive(body["lead_id"])
    _settles(aws, body["lead_id"], "notified")
    _one_brief_one_slot(aws, body["lead_id"])
    assert body["lead_id"] not in _failed_listed(aws)


def test_ses_throttling_is_tried_again_within_its_gap_and_the_brief_goes_out_once(
    aws: Aws, faults: Faults, hot_lead: dict[str, Any]
) -> None:
    aws.put_reps(rep("r1"))
    faults.inject("sesv2", "SendEmail", "TooManyRequestsException", status=429, times=2)
    _, body = aws.post_lead(_lead(hot_lead, 3))
    _settles(aws, body["lead_id"], "notified")
    _one_brief_one_slot(aws, body["lead_id"])
    assert faults.injected["sesv2.SendEmail TooManyRequestsException"] == 2


def test_ses_throttling_past_the_sdk_waits_in_the_workflow_and_never_fails_the_lead(
    aws: Aws, faults: Faults, hot_lead: dict[str, Any]
) -> None:
    """Past its turns on the send schedule (three, three SES attempts each: one and two tries
    within its gap), the send is refused as EmailThrottled and the workflow waits it out
    (jittered back-off, the best part of an hour); the lead is never failed for it."""
    aws.put_reps(rep("r1"))
    faults.inject("sesv2", "SendEmail", "TooManyRequestsException", status=429, times=18)  # 2 invocations
    _, body = aws.post_lead(_lead(hot_lead, 30))
    _settles(aws, body["lead_id"], "notified", timeout=60)
    _one_brief_one_slot(aws, body["lead_id"])
    errors = _task_errors(aws, body["lead_id"])
    assert errors == ["EmailThrottled", "EmailThrottled"], (errors, faults.injected)


def test_dynamodb_throttling_past_the_sdk_is_waited_out_by_the_workflow(
    aws: Aws, faults: Faults, hot_lead: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Past the SDK's tries (and the step's own), DynamoDB's throttling is StorageThrottled, which
    the workflow waits out with jittered back-off for the best part of an hour."""
    from handoff.aws import throttling

    # The step's own tries (test_routing_rides_out_a_throttled_contact_lookup_in_the_step) spent.
    monkeypatch.setattr(throttling, "THROTTLED_PAUSES", ())
    aws.put_reps(rep("r1"))
    status, body = aws.post_lead(_lead(hot_lead, 32))
    assert status == 202
    # Route reads the contact's open handoffs first: throttled for two invocations.
    faults.inject("dynamodb", "Query", "ProvisionedThroughputExceededException", times=6)
    _settles(aws, body["lead_id"], "notified", timeout=60)
    _one_brief_one_slot(aws, body["lead_id"])
    errors = _task_errors(aws, body["lead_id"])
    assert errors and set(errors) == {"StorageThrottled"}


def test_routing_rides_out_a_throttled_contact_lookup_in_the_step(
    aws: Aws, faults: Faults, hot_lead: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Past the SDK's tries, Route tries its contact lookup again in the step: started again by
    the workflow, the step would read and plan all over again."""
    from handoff.aws import throttling

    monkeypatch.setattr(throttling, "THROTTLED_PAUSES", (0.01, 0.01))
    aws.put_reps(rep("r1"))
    # Route's first Query: refused past the SDK's three tries, within the step's own.
    faults.inject("dynamodb", "Query", "ProvisionedThroughputExceededException", times=6)
    status, body = aws.post_lead(_lead(hot_lead, 35))
    assert status == 202
    _settles(aws, body["lead_id"], "notified", timeout=60)
    _one_brief_one_slot(aws, body["lead_id"])
    assert sum(faults.injected.values()) == 6
    assert _task_errors(aws, body["lead_id"]) == []


@pytest.mark.parametrize(
    "code",
    ["ThrottlingException", NO_ANSWER],  # an unanswered start may have started: its name guards
    ids=["throttled", "unanswered"],
)
def test_a_start_throttled_or_unanswered_past_the_sdk_leaves_the_lead_routing_and_sla_check_starts_it(
    aws: Aws, faults: Faults, hot_lead: dict[str, Any], code: str
) -> None:
    aws.put_reps(rep("r1"))
    faults.inject("stepfunctions", "StartExecution", code, times=None)
    status, body = aws.post_lead(_lead(hot_lead, 31))
    assert status == 202
    lead = aws.get_lead(body["lead_id"])
    assert lead["status"] == "routing" and lead["timeline"][-1]["event"] == "start_deferred"
    assert _failed_listed(aws) == []  # nothing for a person to do
    faults.clear()
    assert lambdas.invoke(SLA_CHECK, {})["resumed"] == 1
    _settles(aws, body["lead_id"], "notified")
    _one_brief_one_slot(aws, body["lead_id"])


def test_a_sweep_throttled_past_every_retry_is_deferred_and_the_next_sweep_takes_it_up(
    aws: Aws, faults: Faults, hot_lead: dict[str, Any]
) -> None:
    """sla_check's queries refused on throttling past the SDK's tries: the invocation still
    succeeds (a failure would be retried by Lambda into the same throttle, and page through the
    function's error alarm), says which sweeps it deferred, and the next sweep starts the lead."""
    aws.put_reps(rep("r1"))
    faults.inject("stepfunctions", "StartExecution", "ThrottlingException", times=None)
    _, body = aws.post_lead(_lead(hot_lead, 34))
    faults.clear()
    faults.inject("dynamodb", "Query", "ThrottlingException", times=None)
    throttled = lambdas.invoke(SLA_CHECK, {})
    assert (throttled["deferred"], throttled["resumed"]) == (["recovery", "sla", "cadence"], 0)
    assert aws.get_lead(body["lead_id"])["status"] == "routing"  # untouched, still late
    faults.clear()
    after = lambdas.invoke(SLA_CHECK, {})
    assert (after["deferred"], after["resumed"]) == ([], 1)
    _settles(aws, body["lead_id"], "notified")
    _one_brief_one_slot(aws, body["lead_id"])


def test_a_step_past_lambda_s_concurrency_is_refused_and_retried_until_there_is_room(
    aws: Aws, hot_lead: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every invocation slot taken: the Route step waits its turn for one, then is refused as
    Lambda refuses past the account's concurrency (TooManyRequestsException), waits in the
    workflow's throttle retrier, and runs once a slot frees. Nothing fails and nothing is done
    twice."""
    aws.put_reps(rep("r1"))
    monkeypatch.setattr(lambdas, "SLOT_WAIT_SECONDS", 0.5)  # the refusal, not the wait before it
    full = lambdas.Slots(1)
    assert full.acquire()
    monkeypatch.setattr(lambdas, "_running", full)
    _, body = aws.post_lead(_lead(hot_lead, 33))
    deadline = time.monotonic() + 20
    while "Lambda.TooManyRequestsException" not in _task_errors(aws, body["lead_id"]):
        assert time.monotonic() < deadline, "the step was never refused"
        time.sleep(0.2)
    assert aws.get_lead(body["lead_id"])["status"] == "routing"
    full.release()
    _settles(aws, body["lead_id"], "notified", timeout=60)
    _one_brief_one_slot(aws, body["lead_id"])


def test_ses_rejection_fails_the_lead_and_redrive_sends_one_brief_without_a_second_claim(
    aws: Aws, faults: Faults, hot_lead: dict[str, Any]
) -> None:
    aws.put_reps(rep("r1", capacity=5))
    faults.inject("sesv2", "SendEmail", "MessageRejected", times=None)
    _, body = aws.post_lead(_lead(hot_lead, 4))
    lead = _settles(aws, body["lead_id"], "failed", timeout=90)
    assert lead["failure"]["error"] == "EmailRejected"
    assert lead["assignment"]["rep_id"] == "r1" and lead["notifications"] == []
    assert container.ports().reps.get("r1").open_count == 1  # type: ignore[union-attr]
    faults.clear()
    _redrive("--all-failed")
    _settles(aws, body["lead_id"], "notified")
    _one_brief_one_slot(aws, body["lead_id"])


def test_an_exception_in_route_is_retried_then_succeeds(
    aws: Aws, hot_lead: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    from handoff.service import routing

    aws.put_reps(rep("r1"))
    real, calls = routing._choose, []

    def flaky(*args: Any, **kwargs: Any) -> Any:
        calls.append(1)
        if len(calls) <= 2:
            raise RuntimeError("unexpected reply")
        return real(*args, **kwargs)

    monkeypatch.setattr(routing, "_choose", flaky)
    _, body = aws.post_lead(_lead(hot_lead, 5))
    _settles(aws, body["lead_id"], "notified", timeout=60)
    assert len(calls) == 3
    _one_brief_one_slot(aws, body["lead_id"])


def test_an_exception_in_notify_that_persists_fails_the_lead_and_redrive_resumes_it(
    aws: Aws, hot_lead: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    from handoff.service import notify

    aws.put_reps(rep("r1"))
    real, calls = notify.build_brief, []

    def broken(*args: Any, **kwargs: Any) -> Any:
        calls.append(1)
        raise RuntimeError("template bug")

    monkeypatch.setattr(notify, "build_brief", broken)
    _, body = aws.post_lead(_lead(hot_lead, 6))
    lead = _settles(aws, body["lead_id"], "failed", timeout=60)
    assert lead["failure"]["error"] == "RuntimeError" and len(calls) == 3  # 1 + 2 retries
    monkeypatch.setattr(notify, "build_brief", real)
    _redrive(body["lead_id"])
    _settles(aws, body["lead_id"], "notified")
    _one_brief_one_slot(aws, body["lead_id"])


def test_start_execution_throttling_is_retried_and_an_outage_leaves_the_lead_failed_for_redrive(
    aws: Aws, faults: Faults, hot_lead: dict[str, Any]
) -> None:
    aws.put_reps(rep("r1", capacity=5))
    faults.inject("stepfunctions", "StartExecution", "ThrottlingException", times=2)
    _, first = aws.post_lead(_lead(hot_lead, 7))
    _settles(aws, first["lead_id"], "notified")
    faults.inject("stepfunctions", "StartExecution", "ServiceUnavailable", status=503, times=None)
    status, second = aws.post_lead(_lead(hot_lead, 8))
    assert status == 202  # stored: the sender must not retry; the lead waits, visibly failed
    assert aws.get_lead(second["lead_id"])["status"] == "failed"
    assert _failed_listed(aws) == [second["lead_id"]]
    faults.clear()
    _redrive("--all-failed")
    _settles(aws, second["lead_id"], "notified")
    assert container.ports().reps.get("r1").open_count == 2  # type: ignore[union-attr]


def test_a_crm_api_that_times_out_asks_hubspot_to_redeliver_and_the_redelivery_lands(
    aws: Aws, hubspot_api: FakeHubSpot
) -> None:
    from tests.integration.test_crm_webhooks import EVENTS

    container.ports().hubspot.timeout = 0.3
    hubspot_api.stall_next(10, seconds=1.0)
    status, body = aws.post_hubspot(EVENTS)
    assert status == 503 and body["error"] == "unavailable"
    assert aws.leads_count() == 0  # nothing half-stored: HubSpot redelivers the whole batch
    hubspot_api.clear_faults()
    status, body = aws.post_hubspot(EVENTS)
    assert status == 200
    for event in body["events"]:
        if "lead_id" in event:
            assert aws.get_lead(event["lead_id"])["status"] in SETTLED | {"routing", "assigned"}


def test_leads_listing_refuses_bad_parameters(aws: Aws) -> None:
    for query, field in (("status=won", "status"), ("limit=0", "limit"), ("next=%%%", "next")):
        status, body = aws.api("GET", f"/leads?{query}", headers=API_KEY)
        assert status == 400 and body["details"][0]["field"] == field, body
    forged = "eyJsZWFkX2lkIjogMX0="  # {"lead_id": 1}: well-formed base64, not our cursor
    status, body = aws.api("GET", f"/leads?next={forged}", headers=API_KEY)
    assert status == 400
    assert aws.api("GET", "/leads")[0] == 401
    assert json.loads(json.dumps(_failed_listed(aws))) == []


def test_an_id_no_lead_can_have_is_404_without_asking_dynamodb(aws: Aws, faults: Faults) -> None:
    """Real DynamoDB answers a key over 2,048 bytes with ValidationException (moto: no item)."""
    faults.inject("dynamodb", "GetItem", "ValidationException", times=None)
    headers = {"x-api-key": SECRETS["HANDOFF_API_KEY"]}
    for lead_id in ("x" * 5000, "ld_" + "f" * 3000, "ld_missing"):
        status, body = aws.api("GET", f"/leads/{lead_id}", headers=headers)
        assert (status, body["error"]) == (404, "not_found")
        status, body = aws.dispose(lead_id, outcome="connected")
        assert (status, body["error"]) == (404, "not_found")
    assert sum(faults.injected.values()) == 0
    status, body = aws.api("GET", f"/leads/ld_{'0' * 24}", headers=headers)
    assert status == 503  # a well-formed id does reach DynamoDB, which here refuses it


def test_a_dynamodb_request_the_service_refuses_is_reported_with_the_service_s_own_code(aws: Aws) -> None:
    """The SDK does not check DynamoDB calls against the model first (container.DYNAMODB): the
    service checks each, and its refusal is a storage error naming its code (a table name too
    empty: the SDK would have refused it itself, with no code)."""
    from handoff.aws.dynamo import storage_errors
    from handoff.errors import StorageError

    with pytest.raises(StorageError, match=r"DynamoDB GetItem \w+Exception"), storage_errors():
        container._dynamodb().Table("").get_item(Key={"lead_id": "ld_1"})


def test_marking_a_lead_that_does_not_exist_fails_at_once_and_writes_nothing(aws: Aws) -> None:
    """A retry cannot create the lead, so the catch step does not retry (the execution fails)."""
    lead_id = f"ld_{'0' * 24}"
    answer = lambdas.invoke(MARK_FAILED, {"lead_id": lead_id, "error": {"Error": "NotFound", "Cause": "x"}})
    assert answer == {"lead_id": lead_id, "status": "missing"}
    assert aws.leads_count() == 0


def test_a_burst_past_the_ses_rate_waits_its_turn_in_the_workflow_and_sends_each_brief_once(
    aws: Aws, hot_lead: dict[str, Any], monkeypatch: pytest.MonkeyPatch, patient_sla: None
) -> None:
    """SES reports an email every 4 s: three leads at once take moments 4 s apart on the shared
    send schedule, and none is sent before its moment. A brief whose moment is more than 5 s
    off is handed back and waits in UntilSendMoment (running nothing), then goes out once."""
    monkeypatch.setattr(emulator, "LOCAL_SES_RATE", 0.255)  # with pacing's margin, one every 4 s
    container.reset()
    aws.put_reps(rep("r1"), rep("r2"), rep("r3"))
    sends: list[tuple[float, float]] = []  # (moment, sent)
    send = mailer.SesMailer.send

    def timed(self: Any, email: Any, envelope: Any, at: float | None = None) -> str:
        message_id = send(self, email, envelope, at)
        sends.append((at or 0.0, time.time()))
        return message_id

    monkeypatch.setattr(mailer.SesMailer, "send", timed)
    leads = [aws.post_lead(_lead(hot_lead, 60 + n))[1]["lead_id"] for n in range(3)]
    for lead_id in leads:
        _settles(aws, lead_id, "notified")
    moments = sorted(moment for moment, _ in sends)
    assert [b - a for a, b in pairwise(moments)] == pytest.approx([4.0, 4.0], abs=0.01)  # kept to the ms
    assert all(sent >= moment - 0.01 for moment, sent in sends), sends
    waited = [lead_id for lead_id in leads if "UntilSendMoment" in _states_entered(aws, lead_id)]
    assert waited, "no brief waited for its moment in the workflow"
    for lead_id in leads:
        assert [n["kind"] for n in aws.get_lead(lead_id)["notifications"]] == ["brief"]
        assert not _task_errors(aws, lead_id)


def _states_entered(aws: Aws, lead_id: str) -> list[str]:
    history = boto3.client("stepfunctions").get_execution_history(
        executionArn=execution_arn(aws.state_machine_arn, lead_id), maxResults=1000
    )["events"]
    return [e["stateEnteredEventDetails"]["name"] for e in history if e["type"].endswith("StateEntered")]
