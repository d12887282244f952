"""The IAM grant checker's parts (tests/grants/iam.py) on a small hand-written template:
the intrinsic evaluator, the API-call-to-IAM mapping, local-to-deployed names, IAM matching."""

from __future__ import annotations

from typing import Any

import pytest

from handoff.local.aws_calls import AwsCall
from tests.grants.iam import (
    SECRET_SUFFIX,
    Frame,
    LocalRef,
    Need,
    StackTemplate,
    Statement,
    Translator,
    UnmappedError,
    check,
    decide,
    iam_requests,
    matches,
)

REGION, ACCOUNT = "us-east-1", "123456789012"
LOCAL_MACHINE = f"arn:aws:states:{REGION}:{ACCOUNT}:stateMachine:handoff"
SETTINGS = {
    "HANDOFF_LEADS_TABLE": "handoff-leads",
    "HANDOFF_SECRET_PREFIX": "handoff/",
    "HANDOFF_SENDER": "handoff@example.com",
    "HANDOFF_STATE_MACHINE_ARN": LOCAL_MACHINE,
    "HANDOFF_CRM_SYNC_QUEUE_URL": f"https://sqs.{REGION}.amazonaws.com/{ACCOUNT}/handoff-crm-sync",
    "HANDOFF_SES_CONFIGURATION_SET": "handoff",
}


def resource(kind: str, path: str, **properties: Any) -> dict[str, Any]:
    return {"Type": kind, "Properties": properties, "Metadata": {"aws:cdk:path": f"Shop/{path}/Resource"}}


def template() -> dict[str, Any]:
    env = {
        "HANDOFF_LEADS_TABLE": {"Ref": "Leads"},
        "HANDOFF_SECRET_PREFIX": "Shop/",
        "HANDOFF_SENDER": "handoff@example.com",
        "HANDOFF_STATE_MACHINE_ARN": {"Ref": "Machine"},
        "HANDOFF_CRM_SYNC_QUEUE_URL": {"Ref": "Queue"},
        "HANDOFF_SES_CONFIGURATION_SET": {"Ref": "ConfigSet"},
    }
    statements = [
        {"Effect": "Allow", "Action": ["dynamodb:GetItem", "dynamodb:Query"], "Resource": [
            {"Fn::GetAtt": ["Leads", "Arn"]},
            {"Fn::Join": ["", [{"Fn::GetAtt": ["Leads", "Arn"]}, "/index/*"]]},
        ]},
        {"Effect": "Allow", "Action": "secretsmanager:GetSecretValue", "Resource": {"Ref": "ApiKey"}},
        {"Effect": "Allow", "Action": "secretsmanager:GetSecretValue",
         "Resource": {"Fn::Sub": "arn:${AWS::Partition}:secretsmanager:${AWS::Region}:${AWS::AccountId}:secret:${AWS::StackName}/slack-*"}},
        {"Effect": "Allow", "Action": "states:DescribeExecution", "Resource": {"Fn::Join": ["", [
            "arn:aws:states:us-east-1:123456789012:execution:",
            {"Fn::Select": [6, {"Fn::Split": [":", {"Ref": "Machine"}]}]},
            ":*",
        ]]}},
        {"Effect": "Allow", "Action": "sqs:SendMessage", "Resource": {"Fn::GetAtt": ["Queue", "Arn"]}},
    ]  # fmt: skip
    return {
        "Resources": {
            "Leads": resource("AWS::DynamoDB::Table", "Tables/Leads"),
            "ApiKey": resource("AWS::SecretsManager::Secret", "Secrets/api-key", Name="Shop/api-key"),
            "Machine": resource(
                "AWS::StepFunctions::StateMachine", "Workflow/StateMachine", StateMachineName="Shop-handoff"
            ),
            "Queue": resource("AWS::SQS::Queue", "CrmSync/Queue"),
            "ConfigSet": resource("AWS::SES::ConfigurationSet", "Email/ConfigurationSet"),
            "Role": resource("AWS::IAM::Role", "Functions/route/ServiceRole"),
            "Fn": resource(
                "AWS::Lambda::Function",
                "Functions/route",
                Role={"Fn::GetAtt": ["Role", "Arn"]},
                Environment={"Variables": env},
            ),
            "Policy": resource(
                "AWS::IAM::Policy",
                "Functions/route/ServiceRole/DefaultPolicy",
                Roles=[{"Ref": "Role"}],
                PolicyDocument={"Statement": statements},
            ),
        }
    }


@pytest.fixture
def stack() -> StackTemplate:
    return StackTemplate(template(), Frame(stack_name="Shop"))


def aws_call(service: str, operation: str, *, arn: str | None = None, **params: Any) -> AwsCall:
    return AwsCall("route", service, operation, REGION, params=params, arn=arn, settings=SETTINGS)


# -- the intrinsic evaluator -----------------------------------------------------------------
def test_pseudo_parameters_and_refs_resolve_in_the_deployed_frame(stack: StackTemplate) -> None:
    assert stack.resolve({"Ref": "AWS::StackName"}) == "Shop"
    assert stack.resolve({"Ref": "AWS::Partition"}) == "aws"
    assert stack.resolve({"Ref": "Leads"}) == "Shop-Leads"  # no TableName: CloudFormation generates one
    assert (
        stack.resolve({"Fn::GetAtt": ["Leads", "Arn"]})
        == f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/Shop-Leads"
    )
    assert stack.resolve({"Fn::GetAtt": "Queue.Arn"}) == f"arn:aws:sqs:{REGION}:{ACCOUNT}:Shop-Queue"
    assert stack.resolve({"Ref": "Queue"}) == f"https://sqs.{REGION}.amazonaws.com/{ACCOUNT}/Shop-Queue"
    assert stack.resolve({"Ref": "Machine"}) == f"arn:aws:states:{REGION}:{ACCOUNT}:stateMachine:Shop-handoff"
    # A secret's Ref is its ARN, which ends in six random characters.
    assert (
        stack.resolve({"Ref": "ApiKey"})
        == f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:Shop/api-key{SECRET_SUFFIX}"
    )


def test_join_sub_select_and_split(stack: StackTemplate) -> None:
    assert stack.resolve({"Fn::Join": ["/", ["a", {"Ref": "AWS::Region"}, "b"]]}) == f"a/{REGION}/b"
    assert stack.resolve({"Fn::Sub": "${AWS::StackName}-${Leads}-${Leads.Arn}-${!Literal}"}) == (
        f"Shop-Shop-Leads-arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/Shop-Leads-${{Literal}}"
    )
    assert stack.resolve({"Fn::Sub": ["${Name}/x", {"Name": {"Ref": "AWS::AccountId"}}]}) == f"{ACCOUNT}/x"
    assert stack.resolve({"Fn::Select": [6, {"Fn::Split": [":", {"Ref": "Machine"}]}]}) == "Shop-handoff"
    assert stack.resolve([{"Ref": "AWS::Region"}, "literal", 3]) == [REGION, "literal", 3]


def test_what_it_cannot_evaluate_fails_naming_it(stack: StackTemplate) -> None:
    with pytest.raises(UnmappedError, match="Fn::If"):
        stack.resolve({"Fn::If": ["IsProd", "a", "b"]})
    with pytest.raises(UnmappedError, match="NoSuchThing"):
        stack.resolve({"Ref": "NoSuchThing"})
    with pytest.raises(UnmappedError, match=r"Leads\.StreamArn"):
        stack.resolve({"Fn::GetAtt": ["Leads", "StreamArn"]})


def test_resources_are_found_by_construct_path(stack: StackTemplate) -> None:
    assert stack.function_logical("route") == "Fn"
    assert stack.logical_at("Tables/Leads", "AWS::DynamoDB::Table") == "Leads"
    with pytest.raises(UnmappedError, match="Tables/Reps"):
        stack.logical_at("Tables/Reps", "AWS::DynamoDB::Table")


# -- API calls to IAM requests ---------------------------------------------------------------
def test_a_transaction_is_authorized_item_by_item() -> None:
    items = [
        {"kind": "Put", "TableName": "handoff-leads"},
        {"kind": "Update", "TableName": "handoff-reps"},
        {"kind": "ConditionCheck", "TableName": "handoff-reps"},
        {"kind": "Delete", "TableName": "handoff-leads"},
    ]
    assert iam_requests(aws_call("dynamodb", "TransactWriteItems", TransactItems=items)) == [
        Need("dynamodb:PutItem", LocalRef("table", "handoff-leads")),
        Need("dynamodb:UpdateItem", LocalRef("table", "handoff-reps")),
        Need("dynamodb:ConditionCheckItem", LocalRef("table", "handoff-reps")),
        Need("dynamodb:DeleteItem", LocalRef("table", "handoff-leads")),
    ]


def test_dynamodb_index_and_batch_requests() -> None:
    assert iam_requests(aws_call("dynamodb", "Query", TableName="handoff-leads", IndexName="by_sla")) == [
        Need("dynamodb:Query", LocalRef("index", "handoff-leads", "by_sla"))
    ]
    assert iam_requests(aws_call("dynamodb", "BatchWriteItem", RequestItems=["a", "b"])) == [
        Need("dynamodb:BatchWriteItem", LocalRef("table", "a")),
        Need("dynamodb:BatchWriteItem", LocalRef("table", "b")),
    ]


@pytest.mark.parametrize(
    ("service", "operation", "params", "expected"),
    [
        ("stepfunctions", "StartExecution", {"stateMachineArn": "m"}, Need("states:StartExecution", LocalRef("state_machine", "m"))),
        ("stepfunctions", "SendTaskSuccess", {"stateMachineArn": "m"}, Need("states:SendTaskSuccess", LocalRef("token_state_machine", "m"))),
        ("stepfunctions", "DescribeExecution", {"executionArn": "e"}, Need("states:DescribeExecution", LocalRef("execution", "e"))),
        ("sqs", "SendMessageBatch", {"QueueUrl": "https://q/1/crm"}, Need("sqs:SendMessage", LocalRef("queue", "https://q/1/crm"))),
        ("s3", "PutObject", {"Bucket": "b", "Key": "k/1"}, Need("s3:PutObject", LocalRef("object", "b", "k/1"))),
        ("cloudwatch", "PutMetricData", {"Namespace": "n"}, Need("cloudwatch:PutMetricData", LocalRef("any"))),
    ],
)  # fmt: skip
def test_one_request_per_call(service: str, operation: str, params: dict[str, Any], expected: Need) -> None:
    assert iam_requests(aws_call(service, operation, **params)) == [expected]


def test_a_secret_is_named_by_the_arn_in_the_response_when_there_is_one() -> None:
    arn = f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:handoff/api-key-Gygsja"
    assert iam_requests(
        aws_call("secretsmanager", "GetSecretValue", arn=arn, SecretId="handoff/api-key")
    ) == [Need("secretsmanager:GetSecretValue", LocalRef("secret", arn))]


def test_an_email_is_authorized_against_the_sender_identity_and_the_configuration_set() -> None:
    v2 = aws_call(
        "sesv2", "SendEmail", FromEmailAddress="handoff@example.com", ConfigurationSetName="handoff"
    )
    assert iam_requests(v2) == [
        Need("ses:SendEmail", LocalRef("identity", "handoff@example.com")),
        Need("ses:SendEmail", LocalRef("configuration_set", "handoff")),
    ]
    v1 = aws_call("ses", "SendRawEmail", Source="Handoff <handoff@example.com>")
    assert iam_requests(v1) == [Need("ses:SendRawEmail", LocalRef("identity", "handoff@example.com"))]


def test_logs_and_traces_are_not_checked_and_unknown_calls_are_named() -> None:
    assert iam_requests(aws_call("logs", "PutLogEvents")) == []
    with pytest.raises(UnmappedError, match="dynamodb ExecuteStatement"):
        iam_requests(aws_call("dynamodb", "ExecuteStatement"))
    with pytest.raises(UnmappedError, match="kinesis PutRecord"):
        iam_requests(aws_call("kinesis", "PutRecord"))


# -- local names to deployed ARNs -------------------------------------------------------------
def test_local_resources_become_the_deployed_arns_of_the_same_resources(stack: StackTemplate) -> None:
    translate = Translator(stack).arn
    context = aws_call("dynamodb", "GetItem")
    assert (
        translate(LocalRef("table", "handoff-leads"), context)
        == f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/Shop-Leads"
    )
    assert translate(LocalRef("index", "handoff-leads", "by_sla"), context).endswith(
        "table/Shop-Leads/index/by_sla"
    )
    assert translate(LocalRef("secret", "handoff/api-key"), context).endswith(
        f"secret:Shop/api-key{SECRET_SUFFIX}"
    )
    # Not a secret the stack creates: the same name under the deployed prefix.
    assert translate(LocalRef("secret", "handoff/slack-rep-r2"), context).endswith(
        f"secret:Shop/slack-rep-r2{SECRET_SUFFIX}"
    )
    assert (
        translate(LocalRef("queue", "handoff-crm-sync"), context)
        == f"arn:aws:sqs:{REGION}:{ACCOUNT}:Shop-Queue"
    )
    assert translate(LocalRef("state_machine", LOCAL_MACHINE), context).endswith(":stateMachine:Shop-handoff")
    # A task token the recorder could not place: the workflow the local settings name.
    assert translate(LocalRef("token_state_machine", ""), context).endswith(":stateMachine:Shop-handoff")
    execution = f"arn:aws:states:{REGION}:{ACCOUNT}:execution:handoff:ld_1-r1"
    assert translate(LocalRef("execution", execution), context).endswith(":execution:Shop-handoff:ld_1-r1")
    assert translate(LocalRef("identity", "handoff@example.com"), context).endswith(
        ":identity/handoff@example.com"
    )
    assert translate(LocalRef("configuration_set", "handoff"), context).endswith(
        ":configuration-set/Shop-ConfigSet"
    )


def test_what_has_no_counterpart_in_the_stack_is_named_not_guessed(stack: StackTemplate) -> None:
    translate = Translator(stack).arn
    context = aws_call("sqs", "SendMessage")
    with pytest.raises(UnmappedError, match="handoff-crm-sync-dlq"):
        translate(LocalRef("queue", "handoff-crm-sync-dlq"), context)
    with pytest.raises(UnmappedError, match=r"other@example\.com"):
        translate(LocalRef("identity", "other@example.com"), context)
    with pytest.raises(UnmappedError, match="not under the local prefix"):
        translate(LocalRef("secret", "elsewhere/api-key"), context)


def another_function(raw: dict[str, Any], key: str, **env: Any) -> StackTemplate:
    raw["Resources"][f"{key}Fn"] = resource(
        "AWS::Lambda::Function",
        f"Functions/{key}",
        Role={"Fn::GetAtt": ["Role", "Arn"]},
        Environment={"Variables": env},
    )
    return StackTemplate(raw, Frame(stack_name="Shop"))


def test_a_setting_the_template_does_not_give_the_function_is_reported() -> None:
    # sla_check, deployed without HANDOFF_STATE_MACHINE_ARN, could not name the workflow.
    stack = another_function(template(), "sla_check")
    start = AwsCall("sla_check", "stepfunctions", "StartExecution", REGION, settings=SETTINGS)
    translator = Translator(stack)
    # Still identified (through the functions that have the setting) and checked...
    assert translator.arn(LocalRef("state_machine", LOCAL_MACHINE), start).endswith(
        ":stateMachine:Shop-handoff"
    )
    # ...and the gap reported.
    assert translator.unset_settings == [
        "sla_check: HANDOFF_STATE_MACHINE_ARN not set on it in the template, so deployed it cannot name "
        "AWS::StepFunctions::StateMachine Machine"
    ]
    # A task token names its state machine itself: no setting is involved.
    answer = AwsCall("sla_check", "stepfunctions", "SendTaskSuccess", REGION, settings=SETTINGS)
    translator.arn(LocalRef("token_state_machine", LOCAL_MACHINE), answer)
    assert len(translator.unset_settings) == 1


def test_a_setting_two_functions_point_at_different_resources_is_ambiguous() -> None:
    stack = another_function(
        template(), "notify", HANDOFF_STATE_MACHINE_ARN="arn:aws:states:r:1:stateMachine:x"
    )
    with pytest.raises(UnmappedError, match="HANDOFF_STATE_MACHINE_ARN differs"):
        Translator(stack).arn(
            LocalRef("token_state_machine", LOCAL_MACHINE), aws_call("stepfunctions", "SendTaskSuccess")
        )


# -- IAM semantics -----------------------------------------------------------------------------
def test_wildcards() -> None:
    assert matches("arn:aws:dynamodb:*:*:table/T/index/*", "arn:aws:dynamodb:r:1:table/T/index/by_sla")
    assert not matches("arn:aws:dynamodb:*:*:table/T", "arn:aws:dynamodb:r:1:table/T/index/by_sla")
    assert matches(
        "arn:aws:secretsmanager:r:1:secret:p/api-key-??????",
        "arn:aws:secretsmanager:r:1:secret:p/api-key-AbCdEf",
    )
    assert not matches(
        "arn:aws:secretsmanager:r:1:secret:p/api-key-??????", "arn:aws:secretsmanager:r:1:secret:p/api-key-x"
    )
    assert matches("DynamoDB:get*", "dynamodb:GetItem", ignore_case=True)
    assert not matches("table/t", "table/T")  # resources are case-sensitive


def statement(
    effect: str, actions: tuple[str, ...] | None, resources: tuple[str, ...], **kw: Any
) -> Statement:
    fields: dict[str, Any] = {"not_actions": None, "not_resources": None, "conditional": False, "source": "t"}
    return Statement(effect=effect, actions=actions, resources=resources, **(fields | kw))


def test_an_explicit_deny_wins_and_conditions_fall_on_the_safe_side() -> None:
    allow = statement("Allow", ("dynamodb:*",), ("*",))
    assert decide([allow], "dynamodb:GetItem", "arn:t")
    assert not decide(
        [allow, statement("Deny", ("dynamodb:GetItem",), ("arn:t",))], "dynamodb:GetItem", "arn:t"
    )
    assert not decide(
        [statement("Allow", ("dynamodb:*",), ("*",), conditional=True)], "dynamodb:GetItem", "arn:t"
    )
    assert not decide(
        [allow, statement("Deny", ("*",), ("*",), conditional=True)], "dynamodb:GetItem", "arn:t"
    )
    assert decide([statement("Allow", None, ("*",), not_actions=("iam:*",))], "dynamodb:GetItem", "arn:t")
    assert not decide(
        [statement("Allow", None, ("*",), not_actions=("dynamodb:*",))], "dynamodb:GetItem", "arn:t"
    )
    assert not decide([], "dynamodb:GetItem", "arn:t")  # nothing allows it: the implicit deny


def test_the_check_over_a_role(stack: StackTemplate) -> None:
    machine_arn = f"arn:aws:states:{REGION}:{ACCOUNT}:execution:handoff:ld_1"
    calls = [
        aws_call("dynamodb", "Query", TableName="handoff-leads", IndexName="by_sla"),
        aws_call("secretsmanager", "GetSecretValue", SecretId="handoff/slack-rep-r2"),
        aws_call("stepfunctions", "DescribeExecution", executionArn=machine_arn),
        aws_call("dynamodb", "PutItem", TableName="handoff-leads"),
        aws_call("stepfunctions", "StartExecution", stateMachineArn=LOCAL_MACHINE),
        aws_call("dynamodb", "GetItem", TableName="someone-elses"),
    ]
    report = check(stack, calls)
    assert [str(f) for f in report.ungranted] == [
        f"route: dynamodb:PutItem on arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/Shop-Leads",
        f"route: states:StartExecution on arn:aws:states:{REGION}:{ACCOUNT}:stateMachine:Shop-handoff",
    ]
    [unmapped] = report.unmapped
    assert unmapped.startswith("route: dynamodb GetItem: table someone-elses")
    assert report.checked == 5
