from __future__ import annotations

import json

import pytest

from handoff.deploy.functions import ALL_FUNCTIONS, ASL_PATH
from handoff.deploy.workflow import function_substitutions, placeholders, render_definition


def test_every_placeholder_belongs_to_a_function() -> None:
    declared = {f.asl_placeholder for f in ALL_FUNCTIONS if f.asl_placeholder}
    assert placeholders() == declared


def test_render_substitutes_every_arn() -> None:
    arns = {f.key: f"arn:aws:lambda:us-east-1:1:function:{f.key}" for f in ALL_FUNCTIONS}
    definition = json.loads(render_definition(function_substitutions(arns)))
    assert definition["StartAt"] == "Start"
    assert definition["States"]["Start"]["Default"] == "Route"
    assert definition["States"]["Route"]["Parameters"]["FunctionName"] == arns["route"]
    assert "${" not in json.dumps(definition)


def test_missing_substitution_is_an_error() -> None:
    with pytest.raises(KeyError, match="RouteFunctionArn"):
        render_definition({})


def test_shape_route_notify_wait_then_the_ladder() -> None:
    states = json.loads(ASL_PATH.read_text())["States"]
    assert states["Route"]["Next"] == "Notify"
    # A brief handed back for its moment on the send schedule waits, then Notify sends it.
    assert states["Notify"]["Next"] == "BriefSent"
    assert states["Notify"]["Parameters"]["Payload"]["moments.$"] == "$.pacing.moments"
    # ... holding its turn on the sends' clock when one was held for it.
    assert states["Notify"]["Parameters"]["Payload"]["turn.$"] == "$.pacing.turn"
    assert states["Notify"]["ResultSelector"]["turn.$"] == "$.Payload.turn"
    assert states["Notify"]["ResultPath"] == "$.pacing"
    assert states["BriefSent"]["Default"] == "WaitForTouch"
    [paced] = states["BriefSent"]["Choices"]
    assert paced == {"Variable": "$.pacing.wait_seconds", "NumericGreaterThan": 0, "Next": "UntilSendMoment"}
    assert states["UntilSendMoment"] == {
        "Type": "Wait",
        "SecondsPath": "$.pacing.wait_seconds",
        "Next": "Notify",
    }
    # Every way into Notify starts with nothing taken from the schedule.
    for step in ("Route", "Reassign"):
        assert states[step]["ResultSelector"]["pacing"] == {"moments": [], "wait_seconds": 0, "turn": 0}
    wait = states["WaitForTouch"]
    assert wait["Resource"] == "arn:aws:states:::lambda:invoke.waitForTaskToken"
    assert wait["TimeoutSecondsPath"] == "$.sla_seconds"
    assert wait["Next"] == "Close"
    catches = {tuple(c["ErrorEquals"]): c["Next"] for c in wait["Catch"]}
    assert catches == {
        ("States.Timeout",): "Remind",
        ("BriefBounced",): "Escalate",
        # A person asked for a reassignment (handoff.service.reassign).
        ("Reassign",): "Reassign",
        ("States.ALL",): "MarkFailed",
    }
    assert states["Remind"]["Next"] == "ReminderGrace"
    assert states["WaitAfterReminder"]["TimeoutSecondsPath"] == "$.ladder.grace_seconds"
    assert states["WaitAfterReminder"]["Catch"][0]["Next"] == "Escalate"
    # Each rung after the escalation waits until its recipient is at work (0 s when they are).
    assert states["Escalate"]["Next"] == "UntilWorkingHours"
    until = states["UntilWorkingHours"]
    assert (until["Type"], until["SecondsPath"], until["Next"]) == (
        "Wait",
        "$.ladder.wait_seconds",
        "AfterEscalation",
    )
    assert states["Escalate"]["ResultSelector"]["wait_seconds.$"] == "$.Payload.wait_seconds"
    choices = {c["StringEquals"]: c["Next"] for c in states["AfterEscalation"]["Choices"]}
    # "later": the manager was off, nobody was told; escalate again once they are at work.
    assert choices == {"touched": "Close", "reassign": "Reassign", "later": "Escalate"}
    assert states["AfterEscalation"]["Default"] == "Renurture"
    assert states["Reassign"]["Next"] == "Notify"  # the loop: a new brief, a new SLA
    for name in (
        "Route",
        "Notify",
        "WaitForTouch",
        "Remind",
        "WaitAfterReminder",
        "Escalate",
        "Reassign",
        "Renurture",
    ):
        assert states[name]["Catch"][-1]["Next"] == "MarkFailed", name
        # A quota (SES's sending rate, DynamoDB or Lambda throttling) is waited out with full
        # jitter for the best part of an hour; other transient errors get a few quick tries.
        throttled, transient = states[name]["Retry"][:2]
        assert throttled["ErrorEquals"] == [
            "StorageThrottled",
            "EmailThrottled",
            "Lambda.TooManyRequestsException",
        ]
        # At most 20 s apart: once few leads wait, a longer cap leaves SES's seconds unused.
        assert (throttled["JitterStrategy"], throttled["MaxDelaySeconds"]) == ("FULL", 20), name
        window = sum(
            min(throttled["IntervalSeconds"] * throttled["BackoffRate"] ** n, throttled["MaxDelaySeconds"])
            for n in range(throttled["MaxAttempts"])
        )
        assert window >= 3000, name  # at most; full jitter averages half: still over 10 minutes
        assert "Lambda.ServiceException" in transient["ErrorEquals"], name
    assert states["HandoffFailed"]["Type"] == "Fail"


def test_the_execution_timeout_is_in_the_asl() -> None:
    # CDK ignores `timeout=` for a definition from a file, so the ASL carries its own.
    timeout = json.loads(ASL_PATH.read_text())["TimeoutSeconds"]
    assert isinstance(timeout, int)
    assert 0 < timeout <= 365 * 24 * 3600  # a Standard execution runs for at most a year
