"""Is each recorded AWS call allowed by its function's role in the synthesized template?

moto enforces no IAM (and with INITIAL_NO_AUTH_ACTION_COUNT only actions, against "*"), so
this is the project's own action- and resource-level check. Three steps per call:

1. ``iam_requests``: the IAM requests AWS makes for the API call (a TransactWriteItems is one
   request per item, an index Query is checked against the index ARN, ...), each naming a
   resource the way the *local* stack named it.
2. ``Translator``: that local resource, identified by *which* resource it is (a TableSpec, a
   SecretSpec, the resource a HANDOFF_* setting names), becomes the ARN the *deployed* stack
   gives it. The template's intrinsics are evaluated in that same deployed frame (``Frame``),
   so names CDK builds from the stack name (``<stack>-handoff``, ``<stack>/slack-*``) and
   names it gets from resources (``Ref``, ``Fn::GetAtt``) agree.
3. ``decide``: the role's statements (its AWS::IAM::Policy resources, inline and managed
   policies), with IAM's semantics: an explicit Deny wins, else an Allow must match both
   action and resource (``*`` and ``?`` wildcards; actions case-insensitive).

Whatever cannot be mapped is reported by name, never guessed.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from email.utils import parseaddr
from functools import cache
from typing import Any

from handoff.aws.tables import ALL_TABLES
from handoff.deploy.credentials import ALL_SECRETS
from handoff.deploy.settings import variable
from handoff.local.aws_calls import AwsCall

LOCAL_ACCOUNT = "123456789012"  # handoff.local.lambdas.ACCOUNT: moto's default account
LOCAL_REGION = "us-east-1"
# Secrets Manager ends a secret's ARN with "-" and six random characters; a policy naming the
# secret by Ref gets the whole ARN, and a name pattern must allow for them.
SECRET_SUFFIX = "-AbCdEf"
# Not checked: the function's own logs and traces (AWSLambdaBasicExecutionRole and Tracing
# grant them; X-Ray is off locally), and identity calls that need no permission.
IGNORED_SERVICES = frozenset({"logs", "xray", "sts"})


class UnmappedError(Exception):
    """A call, resource or intrinsic the checker cannot map: named, never guessed."""


@dataclass(frozen=True)
class Frame:
    """The pseudo parameters of the deployed stack the template is evaluated in."""

    stack_name: str
    region: str = LOCAL_REGION
    account: str = LOCAL_ACCOUNT
    partition: str = "aws"
    url_suffix: str = "amazonaws.com"

    def arn(self, service: str, resource: str, *, region: bool = True, account: bool = True) -> str:
        return (
            f"arn:{self.partition}:{service}:{self.region if region else ''}:"
            f"{self.account if account else ''}:{resource}"
        )


# The property that names a resource; without it CloudFormation generates "<stack>-<id>-<random>".
NAME_PROPERTY = {
    "AWS::DynamoDB::Table": "TableName",
    "AWS::SecretsManager::Secret": "Name",
    "AWS::SQS::Queue": "QueueName",
    "AWS::StepFunctions::StateMachine": "StateMachineName",
    "AWS::S3::Bucket": "BucketName",
    "AWS::SES::ConfigurationSet": "Name",
    "AWS::SES::EmailIdentity": "EmailIdentity",
    "AWS::Lambda::Function": "FunctionName",
    "AWS::IAM::Role": "RoleName",
    "AWS::SNS::Topic": "TopicName",
    "AWS::Logs::LogGroup": "LogGroupName",
}
# The uuid CloudFormation puts at the end of AWS::StackId (names derived from it stay unique).
STACK_UUID = "0a1b2c3d-4e5f-6a7b-8c9d-0e1f2a3b4c5d"
# AWS managed policies a Lambda role may carry, by what they allow (none reaches our resources).
AWS_MANAGED_POLICIES: dict[str, list[dict[str, Any]]] = {
    "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole": [
        {
            "Effect": "Allow",
            "Action": ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"],
            "Resource": "*",
        }
    ],
}


class StackTemplate:
    """A synthesized template, its intrinsics evaluated in ``frame``."""

    def __init__(self, template: Mapping[str, Any], frame: Frame):
        self.template = template
        self.frame = frame
        self.resources: Mapping[str, Mapping[str, Any]] = template["Resources"]
        # Lookups repeat for every recorded call; the template does not change under them.
        self._logical_at: dict[tuple[str, str], str] = {}
        self._setting_targets: dict[tuple[str, str | None], Any] = {}
        self._setting_resources: dict[tuple[str, str, str | None], str | None] = {}
        self._intrinsics: dict[str, Callable[[Any], Any]] = {
            "Ref": lambda name: self.ref(str(name)),
            "Fn::GetAtt": self._get_att,
            "Fn::Join": lambda a: str(a[0]).join(str(self.resolve(part)) for part in self.resolve(a[1])),
            "Fn::Select": lambda a: self.resolve(a[1])[int(self.resolve(a[0]))],
            "Fn::Split": lambda a: str(self.resolve(a[1])).split(str(a[0])),
            "Fn::Sub": self._sub,
        }

    # -- finding resources -------------------------------------------------------------
    def path(self, logical_id: str) -> str:
        """The construct path without the stack, e.g. ``Tables/Leads/Resource``."""
        full = str(self.resources[logical_id].get("Metadata", {}).get("aws:cdk:path", ""))
        if not full:
            raise UnmappedError(f"{logical_id} has no aws:cdk:path metadata (synthesize with path metadata)")
        return full.split("/", 1)[1] if "/" in full else full

    def logical_at(self, path: str, kind: str) -> str:
        """The one resource of type ``kind`` at construct path ``path`` (its L1 ``Resource``)."""
        if (path, kind) in self._logical_at:
            return self._logical_at[path, kind]
        found = [
            logical_id
            for logical_id, resource in self.resources.items()
            if resource["Type"] == kind and self.path(logical_id) in (path, f"{path}/Resource")
        ]
        if len(found) != 1:
            raise UnmappedError(f"{len(found)} {kind} resources at {path}, expected exactly one")
        self._logical_at[path, kind] = found[0]
        return found[0]

    def function_logical(self, function_key: str) -> str:
        # infra/constructs/functions.py builds each function as Functions/<FunctionSpec.key>.
        return self.logical_at(f"Functions/{function_key}", "AWS::Lambda::Function")

    def function_environment(self, function_key: str) -> Mapping[str, Any]:
        props = self.resources[self.function_logical(function_key)]["Properties"]
        variables: Mapping[str, Any] = props.get("Environment", {}).get("Variables", {})
        return variables

    def setting_target(self, name: str, function_key: str | None = None) -> Any:
        """What the template sets variable ``name`` to (unevaluated) on ``function_key``, or on
        every function that has it (the same on all): e.g. ``{"Ref": "CrmSyncQueue..."}``."""
        if not self.sets(name, function_key):
            raise UnmappedError(f"the template sets {name} on {function_key or 'no function'}")
        return self._setting_targets[name, function_key]

    def sets(self, name: str, function_key: str | None = None) -> bool:
        """Whether the function (or any function) has variable ``name``. Two functions setting
        it differently make it ambiguous: an error, not a choice."""
        if (name, function_key) not in self._setting_targets:
            environments = (
                [self.function_environment(function_key)]
                if function_key
                else [
                    resource.get("Properties", {}).get("Environment", {}).get("Variables", {})
                    for resource in self.resources.values()
                    if resource["Type"] == "AWS::Lambda::Function"
                ]
            )
            values = {json.dumps(env[name], sort_keys=True) for env in environments if name in env}
            if len(values) > 1:
                raise UnmappedError(f"{name} differs between functions: {', '.join(sorted(values))}")
            self._setting_targets[name, function_key] = json.loads(values.pop()) if values else None
        return self._setting_targets[name, function_key] is not None

    def setting_resource(self, name: str, kind: str, function_key: str | None = None) -> str | None:
        """The resource of type ``kind`` that setting ``name`` names (on ``function_key``, or on
        any function) by Ref, Fn::GetAtt, or a value equal to its name, Ref or ARN; else None."""
        key = (name, kind, function_key)
        if key not in self._setting_resources:
            self._setting_resources[key] = self._find_setting_resource(name, kind, function_key)
        return self._setting_resources[key]

    def _find_setting_resource(self, name: str, kind: str, function_key: str | None) -> str | None:
        if not self.sets(name, function_key):
            return None
        target = self.setting_target(name, function_key)
        if isinstance(target, dict) and set(target) <= {"Ref", "Fn::GetAtt"}:
            referenced = target.get("Ref") or target["Fn::GetAtt"]
            logical_id = str(referenced.split(".", 1)[0] if isinstance(referenced, str) else referenced[0])
            return logical_id if self._type(logical_id) == kind else None
        value = str(self.resolve(target))
        matching = [
            logical_id
            for logical_id, resource in self.resources.items()
            if resource["Type"] == kind
            and value in (self.physical_name(logical_id), self.ref(logical_id), self.arn(logical_id))
        ]
        if len(matching) > 1:
            raise UnmappedError(f"{name} names {len(matching)} {kind} resources: {', '.join(matching)}")
        return matching[0] if matching else None

    # -- intrinsics ----------------------------------------------------------------------
    def resolve(self, value: Any) -> Any:
        """Evaluate CloudFormation intrinsics (Ref, Fn::GetAtt, Fn::Join, Fn::Sub, Fn::Select,
        Fn::Split, pseudo parameters) to concrete values in this frame."""
        if isinstance(value, list):
            return [self.resolve(item) for item in value]
        if not isinstance(value, dict):
            return value
        if len(value) == 1:
            ((key, argument),) = value.items()
            intrinsic = self._intrinsics.get(key)
            if intrinsic is not None:
                return intrinsic(argument)
            if key.startswith("Fn::") or key == "Condition":
                raise UnmappedError(f"intrinsic {key} is not supported: {json.dumps(value)[:200]}")
        return {key: self.resolve(item) for key, item in value.items()}

    def _get_att(self, argument: Any) -> str:
        logical_id, attribute = argument.split(".", 1) if isinstance(argument, str) else argument
        return self.get_att(str(logical_id), str(self.resolve(attribute)))

    def _sub(self, argument: Any) -> str:
        text, variables = (argument, {}) if isinstance(argument, str) else argument

        def replace(match: re.Match[str]) -> str:
            name = match.group(1)
            if name.startswith("!"):  # ${!Literal} is the literal text ${Literal}
                return "${" + name[1:] + "}"
            if name in variables:
                return str(self.resolve(variables[name]))
            if "." in name and not name.startswith("AWS::"):
                logical_id, attribute = name.split(".", 1)
                return str(self.get_att(logical_id, attribute))
            return str(self.ref(name))

        return re.sub(r"\$\{([^}]+)\}", replace, str(text))

    def ref(self, name: str) -> str:
        frame = self.frame
        pseudo = {
            "AWS::Partition": frame.partition,
            "AWS::Region": frame.region,
            "AWS::AccountId": frame.account,
            "AWS::StackName": frame.stack_name,
            "AWS::URLSuffix": frame.url_suffix,
            "AWS::StackId": frame.arn("cloudformation", f"stack/{frame.stack_name}/{STACK_UUID}"),
        }
        if name in pseudo:
            return pseudo[name]
        if name in self.template.get("Parameters", {}):
            parameter = self.template["Parameters"][name]
            if "Default" not in parameter:
                raise UnmappedError(f"parameter {name} has no default")
            return str(parameter["Default"])
        kind = self._type(name)
        if kind in ("AWS::SecretsManager::Secret", "AWS::StepFunctions::StateMachine", "AWS::SNS::Topic"):
            return self.arn(name)
        if kind == "AWS::Cognito::UserPool":
            return self.physical_name(name)  # the pool id, "<region>_<id>"
        if kind == "AWS::SQS::Queue":
            return f"https://sqs.{frame.region}.{frame.url_suffix}/{frame.account}/{self.physical_name(name)}"
        if kind in NAME_PROPERTY:
            return self.physical_name(name)
        raise UnmappedError(f"Ref to {name} ({kind}) is not supported")

    def get_att(self, logical_id: str, attribute: str) -> str:
        kind = self._type(logical_id)
        if attribute in ("Arn", "TopicArn") or (kind == "AWS::SecretsManager::Secret" and attribute == "Id"):
            return self.arn(logical_id)
        if attribute in ("Name", "QueueName", "TopicName"):
            return self.physical_name(logical_id)
        if kind == "AWS::SQS::Queue" and attribute == "QueueUrl":
            return self.ref(logical_id)
        raise UnmappedError(f"Fn::GetAtt {logical_id}.{attribute} ({kind}) is not supported")

    def _type(self, logical_id: str) -> str:
        if logical_id not in self.resources:
            raise UnmappedError(f"no resource {logical_id} in the template")
        return str(self.resources[logical_id]["Type"])

    def physical_name(self, logical_id: str) -> str:
        kind = self._type(logical_id)
        props = self.resources[logical_id].get("Properties", {})
        name_property = NAME_PROPERTY.get(kind)
        if name_property and name_property in props:
            return str(self.resolve(props[name_property]))
        if kind == "AWS::Cognito::UserPool":
            return f"{self.frame.region}_{logical_id}"  # Cognito makes up the id; a pool has no name in it
        generated = f"{self.frame.stack_name}-{logical_id}"
        return generated.lower() if kind == "AWS::S3::Bucket" else generated

    def arn(self, logical_id: str) -> str:
        kind = self._type(logical_id)
        name = self.physical_name(logical_id)
        frame = self.frame
        arns = {
            "AWS::DynamoDB::Table": lambda: frame.arn("dynamodb", f"table/{name}"),
            "AWS::SecretsManager::Secret": lambda: frame.arn(
                "secretsmanager", f"secret:{name}{SECRET_SUFFIX}"
            ),
            "AWS::SQS::Queue": lambda: frame.arn("sqs", name),
            "AWS::StepFunctions::StateMachine": lambda: frame.arn("states", f"stateMachine:{name}"),
            "AWS::S3::Bucket": lambda: frame.arn("s3", name, region=False, account=False),
            "AWS::Lambda::Function": lambda: frame.arn("lambda", f"function:{name}"),
            "AWS::IAM::Role": lambda: frame.arn("iam", f"role/{name}", region=False),
            "AWS::SNS::Topic": lambda: frame.arn("sns", name),
            "AWS::Logs::LogGroup": lambda: frame.arn("logs", f"log-group:{name}:*"),
            "AWS::KMS::Key": lambda: frame.arn("kms", f"key/{logical_id}"),
            "AWS::SES::ConfigurationSet": lambda: frame.arn("ses", f"configuration-set/{name}"),
            "AWS::SES::EmailIdentity": lambda: frame.arn("ses", f"identity/{name}"),
            "AWS::Cognito::UserPool": lambda: frame.arn("cognito-idp", f"userpool/{name}"),
        }
        if kind not in arns:
            raise UnmappedError(f"the ARN of {logical_id} ({kind}) is not supported")
        return arns[kind]()

    # -- the function's role -------------------------------------------------------------
    def role_statements(self, function_key: str) -> list[Statement]:
        """Every statement that applies to the function's execution role."""
        function = self.resources[self.function_logical(function_key)]
        role_arn = function["Properties"].get("Role")
        if not (isinstance(role_arn, dict) and "Fn::GetAtt" in role_arn):
            raise UnmappedError(f"{function_key}: its role is not a role in this template ({role_arn})")
        attribute = role_arn["Fn::GetAtt"]
        role_id = str(attribute.split(".", 1)[0] if isinstance(attribute, str) else attribute[0])
        role = self.resources[role_id]
        props = role.get("Properties", {})
        if "PermissionsBoundary" in props:
            raise UnmappedError(f"{function_key}: role {role_id} has a permissions boundary (not evaluated)")
        documents: list[tuple[str, Any]] = [
            (f"{role_id} inline {p.get('PolicyName')}", p["PolicyDocument"])
            for p in props.get("Policies", [])
        ]
        for managed in props.get("ManagedPolicyArns", []):
            if isinstance(managed, dict) and set(managed) == {"Ref"} and managed["Ref"] in self.resources:
                documents.append(
                    (managed["Ref"], self.resources[managed["Ref"]]["Properties"]["PolicyDocument"])
                )
                continue
            arn = str(self.resolve(managed))
            if arn not in AWS_MANAGED_POLICIES:
                raise UnmappedError(f"{function_key}: managed policy {arn} is not known to the checker")
            documents.append((arn, {"Statement": AWS_MANAGED_POLICIES[arn]}))
        for logical_id, resource in self.resources.items():
            if resource["Type"] in ("AWS::IAM::Policy", "AWS::IAM::ManagedPolicy"):
                roles = resource.get("Properties", {}).get("Roles", [])
                if {"Ref": role_id} in roles:
                    documents.append((logical_id, resource["Properties"]["PolicyDocument"]))
        return [
            Statement.parse(self, statement, source)
            for source, document in documents
            for statement in _as_list(document.get("Statement", []))
        ]


def _as_list(value: Any) -> list[Any]:
    return list(value) if isinstance(value, list) else [value]


@cache
def _pattern(pattern: str, ignore_case: bool) -> re.Pattern[str]:
    if "${" in pattern:
        raise UnmappedError(f"policy variable in {pattern} is not supported")
    regex = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    return re.compile(regex, re.IGNORECASE | re.DOTALL if ignore_case else re.DOTALL)


def matches(pattern: str, value: str, *, ignore_case: bool = False) -> bool:
    """IAM's wildcard match: ``*`` any run of characters (``/`` and ``:`` included), ``?`` one."""
    return _pattern(pattern, ignore_case).fullmatch(value) is not None


@dataclass(frozen=True)
class Statement:
    effect: str
    actions: tuple[str, ...] | None
    not_actions: tuple[str, ...] | None
    resources: tuple[str, ...] | None
    not_resources: tuple[str, ...] | None
    conditional: bool
    source: str

    @classmethod
    def parse(cls, template: StackTemplate, raw: Mapping[str, Any], source: str) -> Statement:
        def strings(key: str) -> tuple[str, ...] | None:
            return tuple(str(v) for v in _as_list(template.resolve(raw[key]))) if key in raw else None

        if raw.get("Principal") or raw.get("NotPrincipal"):
            raise UnmappedError(f"{source}: a statement with a principal in an identity policy")
        return cls(
            effect=str(raw["Effect"]),
            actions=strings("Action"),
            not_actions=strings("NotAction"),
            resources=strings("Resource"),
            not_resources=strings("NotResource"),
            conditional=bool(raw.get("Condition")),
            source=source,
        )

    def applies(self, action: str, resource: str) -> bool:
        if self.actions is not None:
            action_ok = any(matches(a, action, ignore_case=True) for a in self.actions)
        else:
            action_ok = not any(matches(a, action, ignore_case=True) for a in self.not_actions or ())
        if self.resources is not None:
            resource_ok = any(matches(r, resource) for r in self.resources)
        else:
            resource_ok = not any(matches(r, resource) for r in self.not_resources or ())
        return action_ok and resource_ok


def decide(statements: Iterable[Statement], action: str, resource: str) -> bool:
    """Whether IAM allows ``action`` on ``resource``. An explicit Deny wins over any Allow.
    Conditions are not evaluated, so both fall on the safe side: a conditional Deny counts as
    denying, a conditional Allow does not count as allowing."""
    allowed = False
    for statement in statements:
        if not statement.applies(action, resource):
            continue
        if statement.effect == "Deny":
            return False
        if statement.effect == "Allow" and not statement.conditional:
            allowed = True
    return allowed


# -- step 1: the IAM requests behind an API call -------------------------------------------
@dataclass(frozen=True)
class LocalRef:
    """A resource as the local stack names it. ``kind`` says how to read ``name``."""

    # table, index, queue, state_machine, token_state_machine, execution, secret, object, bucket,
    # identity, configuration_set, user_pool, any
    kind: str
    name: str = ""
    detail: str = ""  # the index name, or the object key


@dataclass(frozen=True)
class Need:
    action: str
    resource: LocalRef


DYNAMODB_TABLE_OPERATIONS = frozenset(
    {"GetItem", "PutItem", "UpdateItem", "DeleteItem", "DescribeTable", "Query", "Scan", "DescribeTimeToLive"}
)
# TransactWriteItems is no IAM action: AWS authorizes each item with the single-item action.
TRANSACT_ITEM_ACTIONS = {
    "Put": "dynamodb:PutItem",
    "Update": "dynamodb:UpdateItem",
    "Delete": "dynamodb:DeleteItem",
    "ConditionCheck": "dynamodb:ConditionCheckItem",
    "Get": "dynamodb:GetItem",
}
STATES_ON_STATE_MACHINE = frozenset(
    {"StartExecution", "StartSyncExecution", "ListExecutions", "DescribeStateMachine"}
)
STATES_ON_EXECUTION = frozenset(
    {
        "DescribeExecution",
        "StopExecution",
        "GetExecutionHistory",
        "DescribeStateMachineForExecution",
        "RedriveExecution",
    }
)
# AWS authorizes a task token answer against the state machine whose execution issued it.
STATES_TASK_RESPONSES = frozenset({"SendTaskSuccess", "SendTaskFailure", "SendTaskHeartbeat"})
SQS_ACTIONS = {
    "SendMessage": "SendMessage",
    "SendMessageBatch": "SendMessage",
    "ReceiveMessage": "ReceiveMessage",
    "DeleteMessage": "DeleteMessage",
    "DeleteMessageBatch": "DeleteMessage",
    "ChangeMessageVisibility": "ChangeMessageVisibility",
    "ChangeMessageVisibilityBatch": "ChangeMessageVisibility",
    "GetQueueAttributes": "GetQueueAttributes",
    "GetQueueUrl": "GetQueueUrl",
    "PurgeQueue": "PurgeQueue",
}
S3_OBJECT_ACTIONS = {
    "PutObject": "PutObject",
    "CreateMultipartUpload": "PutObject",
    "UploadPart": "PutObject",
    "CompleteMultipartUpload": "PutObject",
    "AbortMultipartUpload": "AbortMultipartUpload",
    "GetObject": "GetObject",
    "HeadObject": "GetObject",
    "DeleteObject": "DeleteObject",
}
SES_V1_SENDS = frozenset({"SendEmail", "SendRawEmail", "SendTemplatedEmail", "SendBulkTemplatedEmail"})
# Cognito user pool operations AWS does not authorize with IAM: public ones (sign-in, which an app
# client without a secret may call unsigned) and token-authorized ones (the user's access token
# or the sign-in session authorizes them). A policy cannot grant or deny them, so nothing is checked.
# https://docs.aws.amazon.com/cognito/latest/developerguide/user-pools-API-operations.html
COGNITO_WITHOUT_IAM = frozenset(
    {
        "InitiateAuth",
        "RespondToAuthChallenge",
        "GetUser",
        "GlobalSignOut",
        "RevokeToken",
        "ChangePassword",
        "ForgotPassword",
        "ConfirmForgotPassword",
        "AssociateSoftwareToken",
        "VerifySoftwareToken",
        "SetUserMFAPreference",
        "GetTokensFromRefreshToken",
    }
)


def iam_requests(call: AwsCall) -> list[Need]:
    """The IAM requests AWS authorizes for ``call`` (action, and the resource as named locally)."""
    if call.service in IGNORED_SERVICES:
        return []
    by_service = {
        "dynamodb": _dynamodb,
        "stepfunctions": _states,
        "secretsmanager": _secretsmanager,
        "ses": _ses,
        "sesv2": _ses,
        "sqs": _sqs,
        "s3": _s3,
        "cloudwatch": _cloudwatch,
        "cognito-idp": _cognito,
    }
    needs = by_service[call.service](call) if call.service in by_service else None
    if needs is None:
        raise UnmappedError(f"no IAM mapping for {call.service} {call.operation}")
    return needs


def _states(call: AwsCall) -> list[Need] | None:
    operation, params = call.operation, call.params
    if operation in STATES_ON_STATE_MACHINE:
        return [Need(f"states:{operation}", LocalRef("state_machine", str(params["stateMachineArn"])))]
    if operation in STATES_TASK_RESPONSES:
        # The recorder's state machine for the token (empty if it could not find the execution).
        machine = str(params.get("stateMachineArn") or "")
        return [Need(f"states:{operation}", LocalRef("token_state_machine", machine))]
    if operation in STATES_ON_EXECUTION:
        return [Need(f"states:{operation}", LocalRef("execution", str(params["executionArn"])))]
    return None


def _secretsmanager(call: AwsCall) -> list[Need] | None:
    if call.operation not in ("GetSecretValue", "DescribeSecret"):
        return None
    # The response's ARN where there is one: the request may name the secret by name.
    return [
        Need(f"secretsmanager:{call.operation}", LocalRef("secret", call.arn or str(call.params["SecretId"])))
    ]


def _sqs(call: AwsCall) -> list[Need] | None:
    if call.operation not in SQS_ACTIONS:
        return None
    queue = str(call.params.get("QueueUrl") or call.params.get("QueueName") or "")
    return [Need(f"sqs:{SQS_ACTIONS[call.operation]}", LocalRef("queue", queue))]


def _s3(call: AwsCall) -> list[Need] | None:
    if call.operation in S3_OBJECT_ACTIONS:
        ref = LocalRef("object", str(call.params["Bucket"]), str(call.params["Key"]))
        return [Need(f"s3:{S3_OBJECT_ACTIONS[call.operation]}", ref)]
    if call.operation in ("ListObjects", "ListObjectsV2"):
        return [Need("s3:ListBucket", LocalRef("bucket", str(call.params["Bucket"])))]
    return None


def _cognito(call: AwsCall) -> list[Need] | None:
    """IAM-authorized user pool operations (Admin*, ListUsers...) are checked on the pool the
    call names; public and token-authorized ones take no IAM permission."""
    if call.operation in COGNITO_WITHOUT_IAM:
        return []
    pool = call.params.get("UserPoolId")
    if not pool:
        raise UnmappedError(
            f"cognito-idp {call.operation} without a UserPoolId: the recorder must keep it "
            "(handoff.local.aws_calls.RESOURCE_PARAMETERS)"
        )
    return [Need(f"cognito-idp:{call.operation}", LocalRef("user_pool", str(pool)))]


def _cloudwatch(call: AwsCall) -> list[Need] | None:
    if call.operation != "PutMetricData":
        return None
    return [Need("cloudwatch:PutMetricData", LocalRef("any"))]  # no resource-level permissions


def _dynamodb(call: AwsCall) -> list[Need] | None:
    operation, params = call.operation, call.params
    if operation in ("TransactWriteItems", "TransactGetItems"):
        return [
            Need(TRANSACT_ITEM_ACTIONS[item["kind"]], LocalRef("table", str(item["TableName"])))
            for item in params.get("TransactItems", [])
        ]
    if operation in ("BatchGetItem", "BatchWriteItem"):
        return [
            Need(f"dynamodb:{operation}", LocalRef("table", str(t))) for t in params.get("RequestItems", [])
        ]
    if operation in ("Query", "Scan") and params.get("IndexName"):
        return [
            Need(
                f"dynamodb:{operation}", LocalRef("index", str(params["TableName"]), str(params["IndexName"]))
            )
        ]
    if operation in DYNAMODB_TABLE_OPERATIONS:
        return [Need(f"dynamodb:{operation}", LocalRef("table", str(params["TableName"])))]
    return None


def _ses(call: AwsCall) -> list[Need] | None:
    """SES authorizes a send against the sending identity and the configuration set it names.
    (In the SES sandbox each recipient must be a verified identity too; the recorder keeps no
    recipients, and production access lifts that, so recipients are not checked here.)"""
    service, operation, params = call.service, call.operation, call.params
    if service == "sesv2" and operation == "GetAccount":
        # The account's sending quota: an account-level read with no resource-level permissions.
        # https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazonsimpleemailservicev2.html
        return [Need("ses:GetAccount", LocalRef("any"))]
    if service == "sesv2" and operation == "SendEmail":
        # SES v2 has one send action for simple, raw and templated mail: ses:SendEmail.
        sender = params.get("FromEmailAddressIdentityArn") or params.get("FromEmailAddress")
    elif service == "ses" and operation in SES_V1_SENDS:
        sender = params.get("FromArn") or params.get("SourceArn") or params.get("Source")
    else:
        return None
    if not sender:
        raise UnmappedError(f"{service} {operation} without a sender (the raw message's From is not read)")
    needs = [Need(f"ses:{operation}", LocalRef("identity", _identity(str(sender))))]
    if params.get("ConfigurationSetName"):
        needs.append(
            Need(f"ses:{operation}", LocalRef("configuration_set", str(params["ConfigurationSetName"])))
        )
    return needs


def _identity(sender: str) -> str:
    """An identity ARN's name, or the address in "Name <address>"."""
    if sender.startswith("arn:"):
        return sender.split(":identity/", 1)[-1]
    return parseaddr(sender)[1] or sender


# -- step 2: local names to the deployed stack's ARNs --------------------------------------
class Translator:
    """Maps each local resource to the deployed ARN of the *same* resource: tables by TableSpec,
    secrets by SecretSpec, everything else by the HANDOFF_* setting that names it both locally
    (the call's settings) and in the template (the functions' environment)."""

    def __init__(self, template: StackTemplate):
        self.template = template
        # Settings a function used locally that the template does not give it: the resource
        # is still identified (through the other functions) and checked, and this is reported.
        self.unset_settings: list[str] = []

    def arn(self, ref: LocalRef, call: AwsCall) -> str:
        if call.region != self.template.frame.region:
            raise UnmappedError(
                f"a call in {call.region}; the stack is checked in {self.template.frame.region}"
            )
        by_kind: dict[str, Callable[[LocalRef, AwsCall], str]] = {
            "any": lambda ref, call: "*",
            "table": lambda ref, call: self._table_arn(ref.name),
            "index": lambda ref, call: f"{self._table_arn(ref.name)}/index/{ref.detail}",
            "secret": lambda ref, call: self._secret_arn(ref.name, call),
            "queue": lambda ref, call: self.template.get_att(
                self._setting_resource(call, "AWS::SQS::Queue", ref.name, _queue_name), "Arn"
            ),
            "state_machine": lambda ref, call: self._state_machine_arn(ref.name, call),
            "token_state_machine": lambda ref, call: self._token_state_machine_arn(ref.name, call),
            "execution": self._execution_arn,
            "object": self._s3_arn,
            "bucket": self._s3_arn,
            "identity": lambda ref, call: self._identity_arn(ref.name, call),
            # The pool the function's HANDOFF_USER_POOL_ID names, locally and in the template.
            "user_pool": lambda ref, call: self.template.arn(
                self._setting_resource(call, "AWS::Cognito::UserPool", ref.name, str)
            ),
            "configuration_set": lambda ref, call: self.template.arn(
                self._setting_resource(call, "AWS::SES::ConfigurationSet", ref.name, str)
            ),
        }
        if ref.kind not in by_kind:
            raise UnmappedError(f"no translation for a {ref.kind} resource")
        return by_kind[ref.kind](ref, call)

    def _execution_arn(self, ref: LocalRef, call: AwsCall) -> str:
        parts = ref.name.split(":")
        if len(parts) < 8 or parts[5] != "execution":
            raise UnmappedError(f"not an execution ARN: {ref.name}")
        machine = self._state_machine_arn(":".join([*parts[:5], "stateMachine", parts[6]]), call)
        return f"{machine.replace(':stateMachine:', ':execution:')}:{':'.join(parts[7:])}"

    def _s3_arn(self, ref: LocalRef, call: AwsCall) -> str:
        bucket = self.template.physical_name(self._setting_resource(call, "AWS::S3::Bucket", ref.name, str))
        resource = f"{bucket}/{ref.detail}" if ref.kind == "object" else bucket
        return self.template.frame.arn("s3", resource, region=False, account=False)

    def _table_arn(self, local: str) -> str:
        from handoff.local.provision import table_name

        name = local.split(":table/", 1)[-1]
        specs = [spec for spec in ALL_TABLES if table_name(spec) == name]
        if len(specs) != 1:
            raise UnmappedError(f"table {name}: no TableSpec has that local name")
        logical_id = self.template.logical_at(f"Tables/{specs[0].logical_name}", "AWS::DynamoDB::Table")
        return self.template.arn(logical_id)

    def _secret_arn(self, local: str, call: AwsCall) -> str:
        """The deployed function reads "<its HANDOFF_SECRET_PREFIX><name>": that ARN is checked, so
        a template secret named otherwise shows up as ungranted, not as mapped."""
        from handoff.local.provision import SECRET_PREFIX

        name = local.split(":secret:", 1)[1][: -len(SECRET_SUFFIX)] if local.startswith("arn:") else local
        prefix = call.settings.get(variable("secret_prefix"), SECRET_PREFIX)
        if not name.startswith(prefix):
            raise UnmappedError(f"secret {name}: not under the local prefix {prefix}")
        short = name[len(prefix) :]
        if short in {s.name for s in ALL_SECRETS}:
            # A SecretSpec: the stack must create it (fails naming it otherwise).
            self.template.logical_at(f"Secrets/{short}", "AWS::SecretsManager::Secret")
        # Otherwise one ops add later (a per-rep Slack webhook), named by the same contract.
        deployed_prefix = self.template.resolve(
            self.template.setting_target(variable("secret_prefix"), call.function)
        )
        return self.template.frame.arn("secretsmanager", f"secret:{deployed_prefix}{short}{SECRET_SUFFIX}")

    def _state_machine_arn(self, local: str, call: AwsCall) -> str:
        """A state machine the function names by its own settings (HANDOFF_STATE_MACHINE_ARN)."""
        logical_id = self._setting_resource(call, "AWS::StepFunctions::StateMachine", local, str)
        return self.template.arn(logical_id)

    def _token_state_machine_arn(self, local: str, call: AwsCall) -> str:
        """The state machine a task token came from: which one it is, not how the function
        names it (it names none; the token does)."""
        if not local:
            # The recorder could not find the token's execution: the stack's workflow, as the
            # local settings name it.
            local = call.settings.get(variable("state_machine_arn"), "")
        if not local:
            raise UnmappedError(f"{call.operation} with no state machine to attribute it to")
        kind = "AWS::StepFunctions::StateMachine"
        return self.template.arn(self._setting_resource(call, kind, local, str, own=False))

    def _identity_arn(self, address: str, call: AwsCall) -> str:
        """The sender's identity: the address HANDOFF_SENDER names locally, as the template sets it."""
        sender = variable("sender")
        if _identity(call.settings.get(sender, "")) != address:
            raise UnmappedError(f"sends as {address!r}, which is not its {sender}")
        deployed = _identity(str(self.template.resolve(self.template.setting_target(sender, call.function))))
        # An address whose domain, not the address, is the verified identity is checked as
        # identity/<domain>; the stack verifies the address itself.
        return self.template.frame.arn("ses", f"identity/{deployed}")

    def _setting_resource(
        self, call: AwsCall, kind: str, local: str, key: Callable[[str], str], *, own: bool = True
    ) -> str:
        """The template resource (of type ``kind``) named by the HANDOFF_* setting whose local
        value names ``local``: as set on the calling function (``own``: deployed, that is the
        only way it can name it), else as set on any function (a token names its own machine)."""
        wanted = key(local)
        candidates = sorted(name for name, value in call.settings.items() if value and key(value) == wanted)
        found = self._named_by(candidates, kind, call.function if own else None)
        if own and not found:
            found = self._named_by(candidates, kind, None)
            if len(set(found.values())) == 1:
                self.unset_settings.append(
                    f"{call.function}: {', '.join(found)} not set on it in the template, so deployed it "
                    f"cannot name {kind} {next(iter(found.values()))}"
                )
        if len(set(found.values())) != 1:
            raise UnmappedError(
                f"{kind} {local}: named locally by {', '.join(candidates) or 'no setting'}"
                + (
                    f"; in the template: {', '.join(f'{n} -> {t}' for n, t in found.items())}"
                    if found
                    else ""
                )
            )
        return next(iter(found.values()))

    def _named_by(self, settings: Iterable[str], kind: str, function_key: str | None) -> dict[str, str]:
        return {
            name: logical_id
            for name in settings
            for logical_id in [self.template.setting_resource(name, kind, function_key)]
            if logical_id is not None
        }


def _queue_name(value: str) -> str:
    """A queue URL's name (moto's and AWS's URLs differ in host, not in name)."""
    return value.rstrip("/").rsplit("/", 1)[-1] if value.startswith(("https://", "http://")) else value


# -- step 3: the check -----------------------------------------------------------------------
@dataclass(frozen=True, order=True)
class Finding:
    function: str
    action: str
    resource: str

    def __str__(self) -> str:
        return f"{self.function}: {self.action} on {self.resource}"


@dataclass
class Report:
    checked: int = 0
    ungranted: Counter[Finding] = field(default_factory=Counter)
    unmapped: Counter[str] = field(default_factory=Counter)
    unset_settings: Counter[str] = field(default_factory=Counter)
    calls_by_function: Counter[str] = field(default_factory=Counter)

    def problems(self) -> list[str]:
        lines = [f"{finding} ({count} call(s))" for finding, count in sorted(self.ungranted.items())]
        lines += [
            f"cannot map: {message} ({count} call(s))" for message, count in sorted(self.unmapped.items())
        ]
        lines += [
            f"unset setting: {message} ({count} call(s))"
            for message, count in sorted(self.unset_settings.items())
        ]
        return lines


def check(template: StackTemplate, calls: Sequence[AwsCall]) -> Report:
    """Every IAM request behind every call, decided against the calling function's role."""
    translator = Translator(template)
    statements: dict[str, list[Statement]] = {}
    decided: dict[Finding, bool] = {}
    # Tens of thousands of calls repeat a few hundred shapes: each shape is mapped once.
    mapped: dict[str, tuple[list[Finding] | str, list[str]]] = {}
    report = Report()
    for call in calls:
        report.calls_by_function[call.function] += 1
        shape = json.dumps(
            [call.function, call.service, call.operation, call.params, call.arn, call.region, call.settings],
            sort_keys=True,
        )
        if shape not in mapped:
            already = len(translator.unset_settings)
            result = _map(call, template, translator, statements)
            mapped[shape] = (result, translator.unset_settings[already:])
        result, unset = mapped[shape]
        report.unset_settings.update(unset)
        if isinstance(result, str):
            report.unmapped[result] += 1
            continue
        for finding in result:
            if finding not in decided:
                decided[finding] = decide(statements[call.function], finding.action, finding.resource)
            report.checked += 1
            if not decided[finding]:
                report.ungranted[finding] += 1
    return report


def _map(
    call: AwsCall, template: StackTemplate, translator: Translator, statements: dict[str, list[Statement]]
) -> list[Finding] | str:
    """The call's IAM requests as findings to decide, or why it cannot be mapped."""
    try:
        if call.function not in statements:
            statements[call.function] = template.role_statements(call.function)
        return [
            Finding(call.function, need.action, translator.arn(need.resource, call))
            for need in iam_requests(call)
        ]
    except UnmappedError as exc:
        return f"{call.function}: {call.service} {call.operation}: {exc}"
