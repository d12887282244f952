"""The workflow as deployed: its execution timeout, its log group, and two independent checks
of its states (asl-validator, and cfn-lint with the definition inlined into the template)."""

from __future__ import annotations

import json
import subprocess
from datetime import UTC, date, datetime, timedelta
from itertools import pairwise
from pathlib import Path
from typing import Any

import pytest
from aws_cdk.assertions import Template

from handoff.config import HandoffConfig, load_config
from handoff.deploy.functions import ALL_FUNCTIONS, REPO_ROOT
from handoff.deploy.workflow import PLACEHOLDER, function_substitutions, render_definition
from handoff.domain.sla import WorkingTime, parse_hours
from infra.stack import HandoffStack
from tests.infra.conftest import cfn_lint, resources

Synthesized = tuple[HandoffStack, Template, Path]

ASL_VALIDATOR = REPO_ROOT / "node_modules" / ".bin" / "asl-validator"
# Well-formed stand-ins for the ARNs CloudFormation fills in; `make asl` renders the same shape.
STAND_IN_ARNS = {
    f.key: f"arn:aws:lambda:us-east-1:123456789012:function:Handoff-{f.key}" for f in ALL_FUNCTIONS
}
# States Language defaults for a retrier that leaves them out.
RETRY_DEFAULTS = {"IntervalSeconds": 1, "MaxAttempts": 3, "BackoffRate": 2.0}


def _machine(template: Template) -> tuple[str, dict[str, Any]]:
    [(logical_id, machine)] = resources(template, "AWS::StepFunctions::StateMachine").items()
    return logical_id, machine


def _deployed_definition(synthesized: Synthesized) -> dict[str, Any]:
    """The definition CloudFormation hands to Step Functions: the asset at DefinitionS3Location."""
    _, template, template_path = synthesized
    key = _machine(template)[1]["Properties"]["DefinitionS3Location"]["Key"]
    definition: dict[str, Any] = json.loads((template_path.parent / f"asset.{key}").read_text())
    return definition


def _successors(state: dict[str, Any]) -> set[str]:
    return (
        {state[k] for k in ("Next", "Default") if k in state}
        | {c["Next"] for c in state.get("Choices", [])}
        | {c["Next"] for c in state.get("Catch", [])}
    )


def _longest_ladder(config: HandoffConfig) -> list[str]:
    """Every round lapses, reminds and escalates; then re-nurture fails into MarkFailed."""
    one_round = [
        "Notify",
        "BriefSent",
        "UntilSendMoment",  # the brief waited for its moment on the send schedule
        "Notify",
        "BriefSent",
        "WaitForTouch",
        "Remind",
        "ReminderGrace",
        "WaitAfterReminder",
        "Escalate",
        "UntilWorkingHours",
        "AfterEscalation",
    ]
    path = ["Start", "Route"]
    for _ in range(config.escalation.reassignments):
        path += [*one_round, "Reassign"]
    return [*path, *one_round, "Renurture", "MarkFailed", "HandoffFailed"]


def _ladder_waits_seconds(config: HandoffConfig, hours: WorkingTime, start: datetime) -> float:
    """The workflow's waits for one lead that nobody touches, as the steps work them out: each
    round's SLA and grace in working time, each rung on at the next working moment."""
    now = start
    for _ in range(config.escalation.reassignments + 1):
        now = hours.next_open(hours.add(now, max(config.sla.values())))  # WaitForTouch
        now = hours.next_open(hours.add(now, config.escalation.reminder_grace_seconds))  # WaitAfterReminder
        now = hours.next_open(now)  # UntilWorkingHours
    return (now - start).total_seconds()


def _longest_waits_in_working_time(config: HandoffConfig) -> float:
    """The longest the waits run on the wall clock for reps on the default hours in the countries
    the config sells to, over two years of their holidays: the longest stretch starts a second
    before closing on the last working day ahead of days off (Christmas, Easter, weekends). The
    rep, the manager and the next rep share a calendar here; reps with shorter hours, or a
    manager on another continent, can take longer: sla_check resumes an execution that times out."""
    _, closes = parse_hours(config.routing.default_working_hours) or pytest.fail("default hours")
    longest = 0.0
    for country in config.qualify.fit.countries.values:
        hours = WorkingTime(hours=config.routing.default_working_hours, country=country)
        day = date(2026, 1, 1)
        while day < date(2028, 1, 1):
            if hours.day_off(day) is None and hours.day_off(day + timedelta(days=1)):
                start = datetime.combine(day, closes, UTC) - timedelta(seconds=1)
                longest = max(longest, _ladder_waits_seconds(config, hours, start))
            day += timedelta(days=1)
    return longest


def _worst_case_invocations_seconds(state: dict[str, Any], lambda_timeout: int) -> float:
    """Every attempt its retriers allow, each running to the Lambda timeout, plus every backoff."""
    if state["Type"] != "Task":
        return 0.0
    retriers = [RETRY_DEFAULTS | r for r in state.get("Retry", [])]
    attempts = 1 + sum(r["MaxAttempts"] for r in retriers)
    backoff = sum(
        min(r["IntervalSeconds"] * r["BackoffRate"] ** i, r.get("MaxDelaySeconds", float("inf")))
        for r in retriers
        for i in range(r["MaxAttempts"])
    )
    return float(attempts * lambda_timeout + backoff)


def test_execution_timeout_is_in_the_deployed_definition_and_outlasts_the_longest_ladder(
    synthesized: Synthesized,
) -> None:
    _, template, _ = synthesized
    definition = _deployed_definition(synthesized)
    # CDK drops `timeout=` for a definition from a file: only the ASL's own value is deployed.
    timeout = definition["TimeoutSeconds"]
    assert timeout == 7 * 24 * 3600
    assert "TimeoutSeconds" not in _machine(template)[1]["Properties"]

    config = load_config(REPO_ROOT / "config" / "handoff.toml")
    assert config.escalation.sla_in_working_hours  # the waits below count working time
    states = definition["States"]
    path = _longest_ladder(config)
    for here, there in pairwise(path):
        assert there in _successors(states[here]), f"{here} -> {there} is no longer a transition"
    assert {name: states[name]["TimeoutSecondsPath"] for name in ("WaitForTouch", "WaitAfterReminder")} == {
        "WaitForTouch": "$.sla_seconds",
        "WaitAfterReminder": "$.ladder.grace_seconds",
    }
    assert states["UntilWorkingHours"]["SecondsPath"] == "$.ladder.wait_seconds"
    # An unknown tier gets the slowest SLA; a Christmas in GB is the longest stretch (about 5 days).
    waits = _longest_waits_in_working_time(config)
    assert 4 * 86400 < waits < 6 * 86400
    functions = resources(template, "AWS::Lambda::Function")
    substitutions = _machine(template)[1]["Properties"]["DefinitionSubstitutions"]
    lambda_timeout = max(
        int(functions[arn["Fn::GetAtt"][0]]["Properties"]["Timeout"]) for arn in substitutions.values()
    )
    assert states["UntilSendMoment"]["SecondsPath"] == "$.pacing.wait_seconds"
    # A brief's wait for its moment to send: a burst the size of a production account's daily
    # quota (50,000 at 14 a second) waits about an hour; allow it once more than that.
    send_wait = 2 * 3600
    longest = (
        waits
        + send_wait
        + sum(_worst_case_invocations_seconds(states[name], lambda_timeout) for name in path)
    )
    assert timeout > longest, f"the ladder can run {longest:.0f} s, past the {timeout} s timeout"


def test_workflow_logs_go_to_a_vendedlogs_group_named_for_the_stack(synthesized: Synthesized) -> None:
    stack, template, _ = synthesized
    [destination] = _machine(template)[1]["Properties"]["LoggingConfiguration"]["Destinations"]
    log_group_id = destination["CloudWatchLogsLogGroup"]["LogGroupArn"]["Fn::GetAtt"][0]
    name = resources(template, "AWS::Logs::LogGroup")[log_group_id]["Properties"]["LogGroupName"]
    # The prefix keeps Step Functions off the account's size-limited log resource policy; the
    # stack's name keeps two stages in one account apart.
    assert name == f"/aws/vendedlogs/states/{stack.stack_name}-handoff"


def _rendered() -> dict[str, Any]:
    definition: dict[str, Any] = json.loads(render_definition(function_substitutions(STAND_IN_ARNS)))
    return definition


def _asl_validator(definition: dict[str, Any], tmp_path: Path) -> subprocess.CompletedProcess[str]:
    if not ASL_VALIDATOR.exists():
        pytest.fail(f"{ASL_VALIDATOR} is missing: run `make install` (npm install)")
    path = tmp_path / "handoff.asl.json"
    path.write_text(json.dumps(definition))
    return subprocess.run(
        [str(ASL_VALIDATOR), "--json-path", str(path)],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )


def test_asl_validator_accepts_the_definition(tmp_path: Path) -> None:
    result = _asl_validator(_rendered(), tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr


def test_asl_validator_rejects_a_transition_to_a_missing_state(tmp_path: Path) -> None:
    definition = _rendered()
    definition["States"]["Notify"]["Next"] = "Nowhere"
    result = _asl_validator(definition, tmp_path)
    assert result.returncode != 0
    assert "MISSING_TRANSITION_TARGET" in result.stdout + result.stderr


def _with_intrinsics(node: Any, substitutions: dict[str, Any]) -> Any:
    """The ASL with each ${Name} replaced by the intrinsic CloudFormation would substitute."""
    if isinstance(node, dict):
        return {key: _with_intrinsics(value, substitutions) for key, value in node.items()}
    if isinstance(node, list):
        return [_with_intrinsics(item, substitutions) for item in node]
    if isinstance(node, str) and PLACEHOLDER.search(node):
        whole = PLACEHOLDER.fullmatch(node)
        if whole:
            return substitutions[whole.group(1)]
        return {"Fn::Sub": [node, {name: substitutions[name] for name in PLACEHOLDER.findall(node)}]}
    return node


def _inlined(synthesized: Synthesized, definition: dict[str, Any]) -> dict[str, Any]:
    """A copy of the template with ``definition`` inline: cfn-lint does not fetch an S3 asset,
    and it checks an inline Definition object (not an Fn::Sub string) against the states schema."""
    _, template, template_path = synthesized
    copied: dict[str, Any] = json.loads(template_path.read_text())
    props = copied["Resources"][_machine(template)[0]]["Properties"]
    del props["DefinitionS3Location"]
    props["Definition"] = _with_intrinsics(definition, props.pop("DefinitionSubstitutions"))
    return copied


def _cfn_lint(template: dict[str, Any], tmp_path: Path) -> subprocess.CompletedProcess[str]:
    path = tmp_path / "inlined.template.json"
    path.write_text(json.dumps(template, indent=1))
    return cfn_lint(path)


def test_cfn_lint_is_clean_with_the_definition_inlined(synthesized: Synthesized, tmp_path: Path) -> None:
    result = _cfn_lint(_inlined(synthesized, _deployed_definition(synthesized)), tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr


def test_cfn_lint_checks_the_inlined_states(synthesized: Synthesized, tmp_path: Path) -> None:
    # cfn-lint checks each state against the schema; it does not follow transitions, so a Next
    # to a missing state is asl-validator's to catch (above).
    definition = _deployed_definition(synthesized)
    definition["States"]["Notify"]["Type"] = "Taks"
    definition["States"]["Renurture"]["Bogus"] = 1
    result = _cfn_lint(_inlined(synthesized, definition), tmp_path)
    assert result.returncode != 0
    assert "E3601 'Taks' is not one of" in result.stdout
    assert "'Bogus' was unexpected" in result.stdout
