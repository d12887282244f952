"""What a real account enforces and moto does not: each function's environment, quotas, topic
policies, SES authorization, gateway models and responses, names two stages share, and
asynchronous failures. Each test reads the synthesized template, the thing `cdk deploy` sends."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from aws_cdk.assertions import Template

from handoff.deploy import functions as needs
from handoff.deploy.functions import ALL_FUNCTIONS, API, ROUTES, SLA_CHECK, FunctionSpec
from handoff.deploy.gateway import GATEWAY_RESPONSES, MESSAGE_STRING
from handoff.deploy.settings import FUNCTION_VARIABLE, variable
from infra.app import build_app
from tests.infra.conftest import resources

POWERTOOLS = {"POWERTOOLS_SERVICE_NAME", "POWERTOOLS_METRICS_NAMESPACE", "POWERTOOLS_LOG_LEVEL"}


def function_logical_ids(template: Template) -> dict[str, str]:
    """Each Handoff function's logical id, by its spec's key (the HANDOFF_FUNCTION it carries)."""
    found = {}
    for logical, function in resources(template, "AWS::Lambda::Function").items():
        variables = function["Properties"].get("Environment", {}).get("Variables", {})
        if FUNCTION_VARIABLE in variables:
            found[variables[FUNCTION_VARIABLE]] = logical
    return found


def function_resources(template: Template) -> dict[str, dict[str, Any]]:
    functions = resources(template, "AWS::Lambda::Function")
    return {key: functions[logical] for key, logical in function_logical_ids(template).items()}


@pytest.mark.parametrize("spec", ALL_FUNCTIONS, ids=lambda s: s.key)
def test_each_function_is_deployed_with_exactly_the_settings_its_spec_names(
    template: Template, spec: FunctionSpec
) -> None:
    variables = function_resources(template)[spec.key]["Properties"]["Environment"]["Variables"]
    required = {variable(name) for name in spec.settings}
    allowed = {variable(name) for name in spec.environment_names}
    assert required <= set(variables), f"{spec.key} lacks {sorted(required - set(variables))}"
    assert set(variables) - POWERTOOLS - {FUNCTION_VARIABLE} <= allowed
    assert all(variables[name] not in ("", None) for name in required)


def test_the_api_function_gets_the_two_tables_it_reads_and_the_secret_prefix_only(template: Template) -> None:
    """The read routes need the leads and reps tables and the API key; no config, no workflow."""
    variables = function_resources(template)[API.key]["Properties"]["Environment"]["Variables"]
    handoff = {name for name in variables if name.startswith("HANDOFF_")} - {FUNCTION_VARIABLE}
    assert handoff == {variable(needs.LEADS), variable(needs.REPS), variable(needs.SECRETS)}
    assert variables[FUNCTION_VARIABLE] == "api"


def test_sla_check_knows_the_state_machine_it_recovers(template: Template) -> None:
    """Its recovery pass builds execution ARNs from this; empty, every DescribeExecution failed."""
    variables = function_resources(template)[SLA_CHECK.key]["Properties"]["Environment"]["Variables"]
    arn = json.dumps(variables[variable(needs.STATE_MACHINE)])
    [machine] = resources(template, "AWS::StepFunctions::StateMachine").values()
    assert ":stateMachine:" in arn and machine["Properties"]["StateMachineName"] in arn


def test_a_required_setting_nothing_provides_stops_the_synth(tmp_path: Path) -> None:
    from handoff.deploy.settings import environment
    from handoff.errors import ConfigError

    everything_else = {name: "x" for name in SLA_CHECK.settings if name != needs.STATE_MACHINE}
    assert environment(SLA_CHECK, {**everything_else, needs.STATE_MACHINE: "arn"})
    with pytest.raises(ConfigError, match="the sla_check function needs state_machine_arn,"):
        environment(SLA_CHECK, everything_else)


def test_asynchronous_functions_keep_the_events_they_fail_on(template: Template) -> None:
    """Lambda retries an async event twice, then drops it, unless an on-failure destination
    takes it; the DLQs on the schedule and subscription only catch failed deliveries."""
    logical_ids = function_logical_ids(template)
    configs = resources(template, "AWS::Lambda::EventInvokeConfig").values()
    queues = resources(template, "AWS::SQS::Queue")
    watched = {
        json.dumps(alarm["Properties"].get("Dimensions", []))
        for alarm in resources(template, "AWS::CloudWatch::Alarm").values()
    }
    asynchronous = [s for s in ALL_FUNCTIONS if s.asynchronous]
    assert {s.key for s in asynchronous} == {"sla_check", "tuning", "ses_events"}
    for spec in asynchronous:
        logical = logical_ids[spec.key]
        [config] = [c for c in configs if c["Properties"]["FunctionName"] == {"Ref": logical}]
        assert config["Properties"]["MaximumRetryAttempts"] == 2
        queue = config["Properties"]["DestinationConfig"]["OnFailure"]["Destination"]["Fn::GetAtt"][0]
        assert queue in queues
        # ...and something tells a person when an event lands there.
        assert any(queue in dimensions for dimensions in watched), f"no alarm on {spec.key}'s queue"


def _statement_allows(
    statement: dict[str, Any], principal: str, action: str, context: dict[str, str]
) -> bool:
    """Whether one topic-policy statement applies to ``principal`` doing ``action`` under
    ``context`` (the condition operators these policies use: Bool and StringEquals)."""
    who = statement["Principal"]
    if who != "*" and principal not in json.dumps(who):
        return False
    actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
    if not any(a in (action, "sns:*", "*") for a in actions):
        return False
    for operator, checks in statement.get("Condition", {}).items():
        for key, expected in checks.items():
            actual = context.get(key.lower())
            if operator in ("Bool", "StringEquals") and (
                actual is None or (isinstance(expected, str) and actual != expected)
            ):
                return False
    return True


def _may_publish(policy: dict[str, Any], service: str) -> bool:
    context = {"aws:securetransport": "true", "aws:sourceaccount": "account"}
    statements = policy["Statement"]
    allowed = any(
        s["Effect"] == "Allow" and _statement_allows(s, service, "sns:Publish", context) for s in statements
    )
    denied = any(
        s["Effect"] == "Deny" and _statement_allows(s, service, "sns:Publish", context) for s in statements
    )
    return allowed and not denied


def test_cloudwatch_may_publish_alarms_to_the_alarm_topic(template: Template) -> None:
    """A topic policy replaces SNS's default one; with enforce_ssl's Deny alone no alarm would
    ever be delivered."""
    policies = resources(template, "AWS::SNS::TopicPolicy").values()
    alarm_topics = {
        action["Ref"]
        for alarm in resources(template, "AWS::CloudWatch::Alarm").values()
        for action in alarm["Properties"]["AlarmActions"]
    }
    [topic] = alarm_topics
    [policy] = [p for p in policies if {"Ref": topic} in p["Properties"]["Topics"]]
    document = policy["Properties"]["PolicyDocument"]
    assert _may_publish(document, "cloudwatch.amazonaws.com")
    # The Deny still refuses plain HTTP.
    assert any(s["Effect"] == "Deny" for s in document["Statement"])


def test_the_evaluator_refuses_a_deny_only_policy() -> None:
    deny_only = {
        "Statement": [
            {
                "Effect": "Deny",
                "Principal": "*",
                "Action": "sns:Publish",
                "Condition": {"Bool": {"aws:SecureTransport": "false"}},
            }
        ]
    }
    assert not _may_publish(deny_only, "cloudwatch.amazonaws.com")


def _send_resources(template: Template) -> list[str]:
    found = []
    for policy in resources(template, "AWS::IAM::Policy").values():
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]:
            actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
            if "ses:SendEmail" in actions:
                found += [json.dumps(r) for r in statement["Resource"]]
    return found


def test_in_the_ses_sandbox_senders_may_send_to_verified_recipients(template: Template) -> None:
    """The sandbox authorizes each send against the recipients' identities too (the trial path)."""
    identities = [r for r in _send_resources(template) if ":identity/" in r]
    assert identities and all(":identity/*" in r for r in identities)


def test_out_of_the_sandbox_the_grant_narrows_to_the_sender(tmp_path: Path) -> None:
    _, stack = build_app(outdir=str(tmp_path), context={"handoff:sesSandbox": "false"})
    identities = [r for r in _send_resources(Template.from_stack(stack)) if ":identity/" in r]
    assert identities and all(":identity/handoff@example.com" in r for r in identities)


def test_gateway_models_come_from_the_route_table(template: Template) -> None:
    """HubSpot's Webhooks API posts a JSON array: its route's model must admit one."""
    models = {
        logical: m["Properties"] for logical, m in resources(template, "AWS::ApiGateway::Model").items()
    }
    methods = list(resources(template, "AWS::ApiGateway::Method").values())
    paths = _resource_paths(template)
    for route in ROUTES:
        [method] = [
            m["Properties"]
            for m in methods
            if m["Properties"]["HttpMethod"] == route.method
            and paths.get(json.dumps(m["Properties"]["ResourceId"])) == route.path
        ]
        deployed = method.get("RequestModels", {})
        if route.body_model is None:
            assert not deployed, route.path
            continue
        model = models[deployed["application/json"]["Ref"]]
        kinds = route.body_model["type"]
        assert model["Schema"]["type"] == (kinds if isinstance(kinds, list) else [kinds]), route.path
    hubspot = next(r for r in ROUTES if r.path == "/webhooks/hubspot")
    assert "array" in hubspot.body_model["type"]  # type: ignore[index]


def _resource_paths(template: Template) -> dict[str, str]:
    """API Gateway resource id (as JSON) -> full path."""
    api_resources = resources(template, "AWS::ApiGateway::Resource")

    def path_of(logical: str) -> str:
        props = api_resources[logical]["Properties"]
        parent = props["ParentId"]
        prefix = path_of(parent["Ref"]) if "Ref" in parent else ""
        return f"{prefix}/{props['PathPart']}"

    return {json.dumps({"Ref": logical}): path_of(logical) for logical in api_resources}


def test_every_gateway_response_body_is_json_whatever_the_message(template: Template) -> None:
    """Gateway responses substitute variables and nothing else: $context.error.messageString
    arrives as a quoted JSON string, and any other variable (validationErrorString carries
    unescaped quotes) could break the body."""
    deployed = resources(template, "AWS::ApiGateway::GatewayResponse").values()
    assert {r["Properties"]["ResponseType"] for r in deployed} == set(GATEWAY_RESPONSES)
    for response in deployed:
        body = response["Properties"]["ResponseTemplates"]["application/json"]
        variables = set(re.findall(r"\$[\w.]+", body))
        assert variables <= {MESSAGE_STRING}, variables
        rendered = body.replace(MESSAGE_STRING, json.dumps('say "hi" \\ [instance] {"type"}'))
        parsed = json.loads(rendered)
        assert set(parsed) == {"error", "message", "details"}


def test_a_burst_past_lambda_s_concurrency_or_a_late_answer_asks_the_sender_to_retry(
    template: Template,
) -> None:
    """A throttled Lambda reaches the sender as INTEGRATION_FAILURE, a late one as
    INTEGRATION_TIMEOUT; left to API Gateway they are a bare 500 or 504 that some CRMs do not
    retry. Both are a 503 in Handoff's error contract, with Retry-After."""
    deployed = {
        r["Properties"]["ResponseType"]: r["Properties"]
        for r in resources(template, "AWS::ApiGateway::GatewayResponse").values()
    }
    for response_type in ("INTEGRATION_FAILURE", "INTEGRATION_TIMEOUT"):
        props = deployed[response_type]
        assert props["StatusCode"] == "503"
        assert props["ResponseParameters"] == {"gatewayresponse.header.Retry-After": "'5'"}
        assert json.loads(props["ResponseTemplates"]["application/json"])["error"] == "unavailable"


def test_a_signed_out_browser_is_sent_to_the_stage_s_sign_in_page(template: Template) -> None:
    """API Gateway sends the header as given: on the execute-api URL the stage comes first."""
    deployed = resources(template, "AWS::ApiGateway::GatewayResponse").values()
    located = {
        r["Properties"]["ResponseType"]: r["Properties"].get("ResponseParameters", {})
        for r in deployed
        if r["Properties"].get("ResponseParameters")
    }
    assert located["UNAUTHORIZED"] == {"gatewayresponse.header.Location": "'/v1/console/login'"}
    unauthorized = next(r for r in deployed if r["Properties"]["ResponseType"] == "UNAUTHORIZED")
    assert unauthorized["Properties"]["StatusCode"] == "303"


@pytest.fixture(scope="module")
def two_stages(tmp_path_factory: pytest.TempPathFactory) -> tuple[Template, Template]:
    """dev and prod in one account, as docs/deploy.md describes."""
    dev = build_app(outdir=str(tmp_path_factory.mktemp("dev")), context={"stage": "dev"})[1]
    prod = build_app(
        outdir=str(tmp_path_factory.mktemp("prod")),
        context={"stage": "prod", "handoff:createSenderIdentity": "false"},
    )[1]
    return Template.from_stack(dev), Template.from_stack(prod)


def _alarm_services(template: Template) -> set[str]:
    found = set()
    for alarm in resources(template, "AWS::CloudWatch::Alarm").values():
        for metric in alarm["Properties"].get("Metrics", []):
            for dimension in metric.get("MetricStat", {}).get("Metric", {}).get("Dimensions", []):
                if dimension["Name"] == "service":
                    found.add(dimension["Value"])
        for dimension in alarm["Properties"].get("Dimensions", []):
            if dimension["Name"] == "service":
                found.add(dimension["Value"])
    return found


def test_two_stages_in_one_account_keep_their_metrics_names_and_roles_apart(
    two_stages: tuple[Template, Template],
) -> None:
    dev, prod = two_stages
    assert _alarm_services(dev) == {"Handoff-dev"} and _alarm_services(prod) == {"Handoff-prod"}
    for template, stage in ((dev, "Handoff-dev"), (prod, "Handoff-prod")):
        services = {
            f["Properties"]["Environment"]["Variables"]["POWERTOOLS_SERVICE_NAME"]
            for f in function_resources(template).values()
        }
        assert services == {stage}
        [api] = resources(template, "AWS::ApiGateway::RestApi").values()
        assert api["Properties"]["Name"] == f"{stage}-api"
        # The account-wide API Gateway logging role: set by either, deleted by neither.
        for account in resources(template, "AWS::ApiGateway::Account").values():
            assert account["DeletionPolicy"] == "Retain"
    # An SES identity is account-wide: the second stage reuses the first one's.
    assert len(resources(prod, "AWS::SES::EmailIdentity")) == 0
    assert len(resources(dev, "AWS::SES::EmailIdentity")) == 1


def test_secrets_are_new_each_time_the_stack_is_created(template: Template) -> None:
    """Secrets Manager keeps a deleted name for its recovery window: fixed, retained names made
    `cdk destroy` then `cdk deploy` fail with "already exists"."""
    for secret in resources(template, "AWS::SecretsManager::Secret").values():
        assert "AWS::StackId" in json.dumps(secret["Properties"]["Name"])
        assert secret["DeletionPolicy"] == "Delete"


def test_a_rotated_api_key_reaches_the_usage_plan(tmp_path: Path, template: Template) -> None:
    """CloudFormation resolves a secret reference only when the template changes; naming the
    new version changes it, so the gateway's key is replaced with the rotated value."""
    version = "2c6a5ad1-1d2a-4b4d-9a52-0ad1e0ba5e7c"
    _, stack = build_app(outdir=str(tmp_path), context={"handoff:apiKeyVersion": version})
    [rotated] = resources(Template.from_stack(stack), "AWS::ApiGateway::ApiKey").values()
    [current] = resources(template, "AWS::ApiGateway::ApiKey").values()
    assert version in json.dumps(rotated["Properties"]["Value"])
    assert version not in json.dumps(current["Properties"]["Value"])
