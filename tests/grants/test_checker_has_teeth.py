"""The grant checker on the real synthesized template: it passes granted calls and reports a
call as soon as its grant is taken away, by action or by resource."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from handoff.aws.tables import DISPOSITIONS, LEADS, REPS, SLA_INDEX
from handoff.deploy.functions import (
    API,
    CONSOLE,
    CONSOLE_AUTH,
    DISPOSITION,
    MARK_FAILED,
    NOTIFY,
    QUALIFY,
    ROUTE,
)
from handoff.local.aws_calls import AwsCall
from handoff.local.provision import SECRET_PREFIX, SENDER, table_name
from tests.grants.conftest import Synthesized
from tests.grants.iam import Finding, StackTemplate, Translator, check, iam_requests, matches

STATE_MACHINE = "arn:aws:states:us-east-1:123456789012:stateMachine:handoff"
# What the integration tier's functions run with (tests/integration/conftest.py).
SETTINGS = {
    "HANDOFF_LEADS_TABLE": table_name(LEADS),
    "HANDOFF_REPS_TABLE": table_name(REPS),
    "HANDOFF_DISPOSITIONS_TABLE": table_name(DISPOSITIONS),
    "HANDOFF_SECRET_PREFIX": SECRET_PREFIX,
    "HANDOFF_SENDER": SENDER,
    "HANDOFF_STATE_MACHINE_ARN": STATE_MACHINE,
}


def call(function: str, service: str, operation: str, **params: Any) -> AwsCall:
    return AwsCall(function, service, operation, "us-east-1", params=params, settings=SETTINGS)


def findings(checked: StackTemplate, recorded: AwsCall) -> list[Finding]:
    translator = Translator(checked)
    return [
        Finding(recorded.function, need.action, translator.arn(need.resource, recorded))
        for need in iam_requests(recorded)
    ]


def revoke(synthesized: Synthesized, finding: Finding) -> dict[str, Any]:
    """A copy of the template whose statements for the function no longer allow the finding's
    action on its resource (the action is dropped from every statement that granted it)."""
    checked = synthesized.checked()
    role_id = checked.resources[checked.function_logical(finding.function)]["Properties"]["Role"][
        "Fn::GetAtt"
    ][0]
    edited = copy.deepcopy(synthesized.template)
    dropped = 0
    for resource in edited["Resources"].values():
        if resource["Type"] != "AWS::IAM::Policy" or {"Ref": role_id} not in resource["Properties"]["Roles"]:
            continue
        for statement in resource["Properties"]["PolicyDocument"]["Statement"]:
            actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
            resources = checked.resolve(statement["Resource"])
            resources = resources if isinstance(resources, list) else [resources]
            if finding.action in actions and any(matches(r, finding.resource) for r in resources):
                statement["Action"] = [a for a in actions if a != finding.action]
                dropped += 1
    assert dropped, f"no statement of {finding.function} grants {finding.action} on {finding.resource}"
    return edited


def test_a_granted_call_is_reported_once_its_action_is_taken_out_of_the_policy(
    synthesized: Synthesized,
) -> None:
    recorded = call(ROUTE.key, "dynamodb", "GetItem", TableName=table_name(REPS))
    assert check(synthesized.checked(), [recorded]).problems() == []
    [finding] = findings(synthesized.checked(), recorded)
    assert finding.action == "dynamodb:GetItem"
    assert ":table/Handoff-TablesReps" in finding.resource

    report = check(synthesized.checked(revoke(synthesized, finding)), [recorded])

    assert list(report.ungranted) == [finding]
    assert report.problems() == [f"{finding} (1 call(s))"]


def test_the_same_action_on_another_tables_arn_is_reported(synthesized: Synthesized) -> None:
    granted = call(MARK_FAILED.key, "dynamodb", "UpdateItem", TableName=table_name(LEADS))
    elsewhere = call(MARK_FAILED.key, "dynamodb", "UpdateItem", TableName=table_name(DISPOSITIONS))

    report = check(synthesized.checked(), [granted, elsewhere])

    [finding] = findings(synthesized.checked(), elsewhere)
    assert "Dispositions" in finding.resource
    assert list(report.ungranted) == [finding]
    assert report.checked == 2


def test_an_index_query_is_checked_against_the_index_arn(synthesized: Synthesized) -> None:
    query = call(ROUTE.key, "dynamodb", "Query", TableName=table_name(LEADS), IndexName=SLA_INDEX.name)
    [finding] = findings(synthesized.checked(), query)
    assert finding.resource.endswith(f"/index/{SLA_INDEX.name}")
    assert check(synthesized.checked(), [query]).problems() == []


def test_secrets_are_checked_per_secret(synthesized: Synthesized) -> None:
    own = call(QUALIFY.key, "secretsmanager", "GetSecretValue", SecretId=f"{SECRET_PREFIX}generic-secret")
    others = call(NOTIFY.key, "secretsmanager", "GetSecretValue", SecretId=f"{SECRET_PREFIX}generic-secret")

    report = check(synthesized.checked(), [own, others])

    assert [f.function for f in report.ungranted] == [NOTIFY.key]


def test_the_api_function_may_read_leads_and_reps_but_not_write_them(synthesized: Synthesized) -> None:
    reads = [
        call(API.key, "dynamodb", "GetItem", TableName=table_name(LEADS)),
        call(API.key, "dynamodb", "Query", TableName=table_name(LEADS), IndexName=SLA_INDEX.name),
        call(API.key, "dynamodb", "Scan", TableName=table_name(REPS)),
        call(API.key, "secretsmanager", "GetSecretValue", SecretId=f"{SECRET_PREFIX}api-key"),
    ]
    writes = [
        call(API.key, "dynamodb", "PutItem", TableName=table_name(LEADS)),
        call(API.key, "dynamodb", "UpdateItem", TableName=table_name(REPS)),
        # The webhook secrets are qualify's, not the read side's.
        call(API.key, "secretsmanager", "GetSecretValue", SecretId=f"{SECRET_PREFIX}generic-secret"),
    ]

    report = check(synthesized.checked(), [*reads, *writes])

    assert sorted(f.action for f in report.ungranted) == [
        "dynamodb:PutItem",
        "dynamodb:UpdateItem",
        "secretsmanager:GetSecretValue",
    ]


def test_an_explicit_deny_wins_over_the_allow(synthesized: Synthesized) -> None:
    answer = call(DISPOSITION.key, "stepfunctions", "SendTaskSuccess", stateMachineArn=STATE_MACHINE)
    assert check(synthesized.checked(), [answer]).problems() == []
    [finding] = findings(synthesized.checked(), answer)
    edited = copy.deepcopy(synthesized.template)
    checked = synthesized.checked()
    role_id = checked.resources[checked.function_logical(DISPOSITION.key)]["Properties"]["Role"][
        "Fn::GetAtt"
    ][0]
    edited["Resources"]["DenyTaskAnswers"] = {
        "Type": "AWS::IAM::Policy",
        "Properties": {
            "PolicyName": "deny",
            "Roles": [{"Ref": role_id}],
            "PolicyDocument": {
                "Statement": [{"Effect": "Deny", "Action": "states:SendTask*", "Resource": finding.resource}]
            },
        },
    }

    assert list(check(synthesized.checked(edited), [answer]).ungranted) == [finding]


@pytest.mark.parametrize("function", [ROUTE.key, NOTIFY.key, DISPOSITION.key])
def test_an_unknown_table_is_reported_as_unmappable_not_guessed(
    synthesized: Synthesized, function: str
) -> None:
    report = check(synthesized.checked(), [call(function, "dynamodb", "GetItem", TableName="someone-elses")])
    assert report.ungranted == {}
    [message] = report.unmapped
    assert "someone-elses" in message and "TableSpec" in message


# The console's user pool as the local stack names it (Cognito makes up "<region>_<id>").
USER_POOL = "us-east-1_LocalPool1"
CONSOLE_SETTINGS = {
    **SETTINGS,
    "HANDOFF_USER_POOL_ID": USER_POOL,
    "HANDOFF_USER_POOL_CLIENT_ID": "local-client",
}


def cognito(function: str, operation: str, **params: Any) -> AwsCall:
    return AwsCall(function, "cognito-idp", operation, "us-east-1", params=params, settings=CONSOLE_SETTINGS)


def test_the_authorizer_may_list_a_users_groups_in_the_console_pool_and_nothing_else_may(
    synthesized: Synthesized,
) -> None:
    groups = cognito(CONSOLE_AUTH.key, "AdminListGroupsForUser", UserPoolId=USER_POOL)
    assert check(synthesized.checked(), [groups]).problems() == []
    [finding] = findings(synthesized.checked(), groups)
    assert finding.action == "cognito-idp:AdminListGroupsForUser"
    assert ":cognito-idp:us-east-1:123456789012:userpool/us-east-1_ConsoleUserPool" in finding.resource

    assert list(check(synthesized.checked(revoke(synthesized, finding)), [groups]).ungranted) == [finding]
    # The pages' function signs people in with public calls: it holds no Cognito permission.
    from_the_pages = cognito(CONSOLE.key, "AdminListGroupsForUser", UserPoolId=USER_POOL)
    assert [f.function for f in check(synthesized.checked(), [from_the_pages]).ungranted] == [CONSOLE.key]


def test_sign_in_and_sign_out_take_no_iam_permission(synthesized: Synthesized) -> None:
    """InitiateAuth and RespondToAuthChallenge are public; GetUser and GlobalSignOut are
    authorized by the user's access token. AWS evaluates no IAM policy for them."""
    calls = [
        cognito(CONSOLE.key, operation)
        for operation in ("InitiateAuth", "RespondToAuthChallenge", "GlobalSignOut", "GetUser")
    ] + [cognito(CONSOLE_AUTH.key, "GetUser")]

    report = check(synthesized.checked(), calls)

    assert report.problems() == [] and report.checked == 0


def test_an_admin_call_whose_pool_was_not_recorded_is_unmappable(synthesized: Synthesized) -> None:
    report = check(synthesized.checked(), [cognito(CONSOLE_AUTH.key, "AdminListGroupsForUser")])
    [message] = report.unmapped
    assert "UserPoolId" in message
