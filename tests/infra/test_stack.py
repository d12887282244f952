"""What `cdk synth` produces: the resources, their wiring, cdk-nag and cfn-lint."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from aws_cdk.assertions import Annotations, Match, Template

from handoff.aws.tables import ALL_TABLES, LEADS, REPS, SLA_INDEX
from handoff.deploy import functions as needs
from handoff.deploy.functions import ALL_FUNCTIONS, API, ASL_PATH, QUALIFY, ROUTES
from handoff.deploy.settings import FUNCTION_VARIABLE
from handoff.deploy.workflow import placeholders
from infra.app import build_app
from infra.stack import HandoffStack
from tests.infra.conftest import cfn_lint, policy_statements, resources, statement_actions


def test_state_machine_is_standard_and_comes_from_the_asl_file(
    synthesized: tuple[HandoffStack, Template, Path],
) -> None:
    _, template, template_path = synthesized
    [machine] = resources(template, "AWS::StepFunctions::StateMachine").values()
    props = machine["Properties"]
    assert props["StateMachineType"] == "STANDARD"
    assert props["TracingConfiguration"] == {"Enabled": True}
    assert props["LoggingConfiguration"]["Level"] == "ALL"
    # The definition is the ASL file itself, shipped as an asset byte for byte...
    asset = template_path.parent / f"asset.{props['DefinitionS3Location']['Key']}"
    assert asset.read_bytes() == ASL_PATH.read_bytes()
    # ...with a function ARN for every placeholder in it.
    assert set(props["DefinitionSubstitutions"]) == placeholders()


def test_every_function_runs_on_the_common_layer(template: Template) -> None:
    functions = resources(template, "AWS::Lambda::Function")
    handoff_functions = {
        k: f for k, f in functions.items() if f["Properties"].get("Handler") == "app.handler"
    }
    assert len(handoff_functions) == len(ALL_FUNCTIONS)
    layers = resources(template, "AWS::Lambda::LayerVersion")
    assert len(layers) == 2  # dependencies + config
    specs = {spec.key: spec for spec in ALL_FUNCTIONS}
    for function in handoff_functions.values():
        props = function["Properties"]
        assert props["Runtime"] == "python3.13"
        assert props["Architectures"] == ["arm64"]
        assert props["TracingConfig"] == {"Mode": "Active"}
        assert {ref["Ref"] for ref in props["Layers"]} == set(layers)
        env = props["Environment"]["Variables"]
        spec = specs[env[FUNCTION_VARIABLE]]
        # Every function reading the config reads the config layer's copy.
        if needs.CONFIG in spec.settings:
            assert env["HANDOFF_CONFIG_PATH"] == "/opt/config/handoff.toml"
        # The console's authorizer reads Cognito only: no table, no config.
        assert ("HANDOFF_LEADS_TABLE" in env) == (needs.LEADS in spec.environment_names)
        assert "POWERTOOLS_METRICS_NAMESPACE" in env


def test_tables_have_the_keys_defined_in_one_place(template: Template) -> None:
    tables = list(resources(template, "AWS::DynamoDB::Table").values())
    assert len(tables) == len(ALL_TABLES)
    for spec in ALL_TABLES:
        [table] = [
            t for t in tables if t["Properties"]["KeySchema"][0]["AttributeName"] == spec.partition_key
        ]
        props = table["Properties"]
        deployed_indexes = {
            gsi["IndexName"]: [k["AttributeName"] for k in gsi["KeySchema"]]
            for gsi in props.get("GlobalSecondaryIndexes", [])
        }
        assert deployed_indexes == {
            i.name: [k for k in (i.partition_key, i.sort_key) if k] for i in spec.indexes
        }
        assert props["BillingMode"] == "PAY_PER_REQUEST"
        assert props["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}
        assert props["DeletionProtectionEnabled"] is True
        assert table["DeletionPolicy"] == "Retain"
    assert SLA_INDEX in LEADS.indexes and REPS.partition_key == "rep_id"


def test_api_routes_match_the_route_table(template: Template) -> None:
    paths: dict[str, str] = {}
    for logical_id, resource in resources(template, "AWS::ApiGateway::Resource").items():
        paths[logical_id] = resource["Properties"]["PathPart"]
    methods = resources(template, "AWS::ApiGateway::Method")
    deployed = set()
    for method in methods.values():
        props = method["Properties"]
        if props["HttpMethod"] == "OPTIONS":
            continue
        resource_ref = props["ResourceId"].get("Ref")
        deployed.add((props["HttpMethod"], paths.get(resource_ref, "/")))
    expected = {(route.method, route.path.rsplit("/", 1)[-1] or "/") for route in ROUTES}
    assert deployed == expected
    template.has_resource_properties(
        "AWS::ApiGateway::RestApi", {"EndpointConfiguration": {"Types": ["REGIONAL"]}}
    )
    [stage] = resources(template, "AWS::ApiGateway::Stage").values()
    assert stage["Properties"]["AccessLogSetting"]
    settings = {(m["ResourcePath"], m["HttpMethod"]): m for m in stage["Properties"]["MethodSettings"]}
    stage_wide = settings.pop(("/*", "*"))
    assert (stage_wide["DataTraceEnabled"], stage_wide["LoggingLevel"]) == (False, "ERROR")
    assert (stage_wide["ThrottlingRateLimit"], stage_wide["ThrottlingBurstLimit"]) == (20, 40)
    # Each route its own bucket: webhooks take a burst of 1,000 deliveries, the rest stay tight.
    # CloudFormation writes the resource path as "/" then the path with each "/" as "~1".
    throttles = {
        (path[1:].replace("~1", "/"), method): (m["ThrottlingRateLimit"], m["ThrottlingBurstLimit"])
        for (path, method), m in settings.items()
    }
    assert throttles == {(r.path, r.method): (r.throttle.rate, r.throttle.burst) for r in ROUTES}
    assert all(burst >= 1000 for (path, _), (_, burst) in throttles.items() if path.startswith("/webhooks/"))
    assert all(
        burst <= 100 for (path, _), (_, burst) in throttles.items() if not path.startswith("/webhooks/")
    )


def test_sla_check_runs_on_a_schedule_with_a_dead_letter_queue(template: Template) -> None:
    template.has_resource_properties(
        "AWS::Events::Rule",
        {
            "ScheduleExpression": "rate(5 minutes)",
            "Targets": [
                Match.object_like(
                    {
                        "DeadLetterConfig": Match.object_like({}),
                        "RetryPolicy": Match.object_like({}),
                    }
                )
            ],
        },
    )


def test_tuning_runs_monthly_with_retries_a_dead_letter_queue_and_a_reports_bucket(
    template: Template,
) -> None:
    template.has_resource_properties(
        "AWS::Events::Rule",
        {
            "ScheduleExpression": "cron(0 6 1 * ? *)",
            "Targets": [
                Match.object_like(
                    {
                        "DeadLetterConfig": Match.object_like({}),
                        "RetryPolicy": {"MaximumRetryAttempts": 2, "MaximumEventAgeInSeconds": 21600},
                    }
                )
            ],
        },
    )
    template.has_resource_properties(
        "AWS::S3::Bucket",
        {
            "PublicAccessBlockConfiguration": Match.object_like(
                {"BlockPublicAcls": True, "RestrictPublicBuckets": True}
            ),
            "VersioningConfiguration": {"Status": "Enabled"},
        },
    )
    # The tuning job reads leads and never writes them.
    tuning_policies = [
        statement
        for logical_id, policy in resources(template, "AWS::IAM::Policy").items()
        if logical_id.startswith("Functionstuning")
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]
    ]
    actions = {
        a for s in tuning_policies for a in (s["Action"] if isinstance(s["Action"], list) else [s["Action"]])
    }
    assert {"dynamodb:Scan", "s3:PutObject", "ses:SendEmail"} <= actions
    assert not {
        a for a in actions if a.startswith("dynamodb:") and ("Put" in a or "Update" in a or "Delete" in a)
    }
    assert "ReportsBucket" in template.to_json()["Outputs"]


def test_a_secret_exists_for_every_credential(template: Template) -> None:
    from handoff.deploy.credentials import ALL_SECRETS

    names = [s["Properties"]["Name"] for s in resources(template, "AWS::SecretsManager::Secret").values()]
    # <stack>/<the stack id's GUID>/<name>: a stack re-created after `cdk destroy` gets new names.
    suffixes = sorted(name["Fn::Join"][1][-1] for name in names)
    assert suffixes == sorted(f"/{s.name}" for s in ALL_SECRETS)
    for name in names:
        parts = name["Fn::Join"][1]
        assert parts[0] == "Handoff/"
        assert parts[1]["Fn::Select"][1] == {"Fn::Split": ["/", {"Ref": "AWS::StackId"}]}


def test_email_has_a_configuration_set(template: Template) -> None:
    template.resource_count_is("AWS::SES::ConfigurationSet", 1)
    template.has_resource_properties("AWS::SES::EmailIdentity", {"EmailIdentity": "handoff@example.com"})


def test_cdk_nag_reports_no_unsuppressed_findings(
    synthesized: tuple[HandoffStack, Template, Path],
) -> None:
    stack = synthesized[0]
    errors = Annotations.from_stack(stack).find_error(
        "*", Match.string_like_regexp("(AwsSolutions|Serverless)-.*")
    )
    warnings = Annotations.from_stack(stack).find_warning(
        "*", Match.string_like_regexp("(AwsSolutions|Serverless)-.*")
    )
    assert [e.entry.data for e in errors] == []
    assert [w.entry.data for w in warnings] == []


def test_cfn_lint_is_clean(synthesized: tuple[HandoffStack, Template, Path]) -> None:
    result = cfn_lint(synthesized[2])
    assert result.returncode == 0, result.stdout + result.stderr


def test_least_privilege_only_qualify_disposition_sla_check_and_the_console_start_executions(
    template: Template,
) -> None:
    """qualify starts each handoff, sla_check resumes late ones, and disposition and the console
    start the reassignment of a lead worked already (handoff.service.reassign); the console also
    redrives failed leads (handoff.service.redrive)."""
    starters = []
    for logical_id, policy in resources(template, "AWS::IAM::Policy").items():
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]:
            actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
            if "states:StartExecution" in actions:
                starters.append(logical_id)
    assert sorted(s.split("ServiceRole")[0] for s in starters) == [
        "Functionsconsole",
        "Functionsdisposition",
        "Functionsqualify",
        "Functionsslacheck",
    ]


def _referenced(statements: list[dict[str, Any]], candidates: dict[str, str]) -> set[str]:
    """The names (``candidates``: logical id -> name) of the resources the statements grant on."""
    text = json.dumps([s["Resource"] for s in statements])
    return {name for logical, name in candidates.items() if f'"{logical}"' in text}


def test_least_privilege_the_api_function_reads_leads_reps_and_the_api_key_and_writes_nothing(
    template: Template,
) -> None:
    statements = policy_statements(template, API.key)
    actions = set().union(*(statement_actions(s) for s in statements))
    assert {"dynamodb:GetItem", "dynamodb:Query", "dynamodb:Scan", "secretsmanager:GetSecretValue"} <= actions
    writes = ("Put", "Update", "Delete", "Write")
    assert not {a for a in actions if a.startswith("dynamodb:") and any(w in a for w in writes)}
    assert not {a for a in actions if a.split(":")[0] in {"states", "sqs", "ses", "s3", "kms"}}
    tables = {
        logical: table["Properties"]["KeySchema"][0]["AttributeName"]
        for logical, table in resources(template, "AWS::DynamoDB::Table").items()
    }
    read = [s for s in statements if any(a.startswith("dynamodb:") for a in statement_actions(s))]
    assert _referenced(read, tables) == {LEADS.partition_key, REPS.partition_key}
    assert _secrets_read(template, API.key) == {"api-key"}


def _secrets_read(template: Template, function_key: str) -> set[str]:
    secrets = {
        logical: secret["Properties"]["Name"]["Fn::Join"][1][-1].lstrip("/")
        for logical, secret in resources(template, "AWS::SecretsManager::Secret").items()
    }
    statements = policy_statements(template, function_key)
    return _referenced(
        [s for s in statements if "secretsmanager:GetSecretValue" in statement_actions(s)], secrets
    )


def test_only_the_functions_behind_api_key_routes_read_the_api_key(template: Template) -> None:
    """qualify serves only signed webhooks now: the ops key is api's and disposition's."""
    readers = {spec.key for spec in ALL_FUNCTIONS if "api-key" in _secrets_read(template, spec.key)}
    assert readers == {route.function.key for route in ROUTES if route.api_key} == {"api", "disposition"}
    assert "generic-secret" in _secrets_read(template, QUALIFY.key)


def test_alarms_cover_failed_leads_dead_letters_5xx_sla_bounces_and_every_function(
    template: Template,
) -> None:
    alarms = resources(template, "AWS::CloudWatch::Alarm")
    described = " | ".join(a["Properties"]["AlarmDescription"] for a in alarms.values())
    phrases = (
        "in failed",
        "dead-letter",
        "5xx",
        "first-touch SLA",
        "bounce rate",
        "execution failed",
        "sla_check sweep",
    )
    for phrase in phrases:
        assert phrase in described, phrase
    from handoff.deploy.functions import ALL_FUNCTIONS

    for spec in ALL_FUNCTIONS:
        assert f"{spec.key} raised errors" in described and f"{spec.key} was throttled" in described
    topics = resources(template, "AWS::SNS::Topic")
    for alarm in alarms.values():
        [action] = alarm["Properties"]["AlarmActions"]
        assert action["Ref"] in topics
    failed = next(a for a in alarms.values() if "in failed" in a["Properties"]["AlarmDescription"])
    [stat] = [m["MetricStat"]["Metric"] for m in failed["Properties"]["Metrics"]]
    assert (stat["Namespace"], stat["MetricName"]) == ("Handoff", "LeadsFailed")
    # The stack's own service: another stage's traffic in the same account never trips it.
    assert stat["Dimensions"] == [{"Name": "service", "Value": "Handoff"}]
    # A throttled sweep alone pages no one: only every sweep in half an hour (one each 5 minutes).
    deferred = next(a for a in alarms.values() if "sla_check sweep" in a["Properties"]["AlarmDescription"])
    [stat] = [m["MetricStat"] for m in deferred["Properties"]["Metrics"]]
    assert (stat["Metric"]["MetricName"], stat["Period"], deferred["Properties"]["Threshold"]) == (
        "SweepsDeferred",
        1800,
        6,
    )


def test_every_function_reports_under_the_service_the_alarms_watch(template: Template) -> None:
    for function in resources(template, "AWS::Lambda::Function").values():
        if function["Properties"].get("Handler") == "app.handler":
            variables = function["Properties"]["Environment"]["Variables"]
            assert variables["POWERTOOLS_SERVICE_NAME"] == "Handoff"


def test_dashboard_and_outputs(template: Template) -> None:
    [dashboard] = resources(template, "AWS::CloudWatch::Dashboard").values()
    body = json.dumps(dashboard["Properties"]["DashboardBody"])
    for title in ("Leads received and handed off", "Speed to lead", "SLA attainment", "Escalations"):
        assert title in body, title
    outputs = template.to_json()["Outputs"]
    for name in (
        "ApiUrl",
        "HubspotWebhookUrl",
        "SalesforceWebhookUrl",
        "GenericWebhookUrl",
        "DashboardUrl",
        "LeadsTable",
        "RepsTable",
        "AccountsTable",
        "DispositionsTable",
        "ConsoleUrl",
        "ConsoleUserPoolId",
    ):
        assert name in outputs, name


def test_lead_and_admin_routes_need_the_api_key_at_the_gateway(template: Template) -> None:
    paths = {
        k: r["Properties"]["PathPart"] for k, r in resources(template, "AWS::ApiGateway::Resource").items()
    }
    keyed = {
        (m["Properties"]["HttpMethod"], paths.get(m["Properties"]["ResourceId"].get("Ref"), "/"))
        for m in resources(template, "AWS::ApiGateway::Method").values()
        if m["Properties"].get("ApiKeyRequired")
    }
    assert keyed == {(r.method, r.path.rsplit("/", 1)[-1]) for r in ROUTES if r.api_key}
    [key] = resources(template, "AWS::ApiGateway::ApiKey").values()
    assert "resolve:secretsmanager" in json.dumps(key["Properties"]["Value"])  # never the value itself
    template.resource_count_is("AWS::ApiGateway::UsagePlanKey", 1)


def test_no_function_reserves_concurrency_a_new_account_cannot_spare(template: Template) -> None:
    """Lambda refuses a reservation that leaves less than 100 unreserved; a new account's quota
    may be 10 or 50, so any reservation at all fails the first deploy there."""
    for quota in (10, 50, 1000):
        reserved = sum(
            int(f["Properties"].get("ReservedConcurrentExecutions", 0))
            for f in resources(template, "AWS::Lambda::Function").values()
        )
        assert reserved == 0 or quota - reserved >= 100, f"a {quota}-concurrency account refuses {reserved}"


def test_waf_and_stage_come_from_context(tmp_path_factory: pytest.TempPathFactory) -> None:
    _app, stack = build_app(
        outdir=str(tmp_path_factory.mktemp("waf")), context={"handoff:waf": True, "stage": "prod"}
    )
    assert stack.stack_name == "Handoff-prod"
    template = Template.from_stack(stack)
    template.resource_count_is("AWS::WAFv2::WebACL", 1)
    template.resource_count_is("AWS::WAFv2::WebACLAssociation", 1)
    errors = Annotations.from_stack(stack).find_error("*", Match.string_like_regexp("AwsSolutions-.*"))
    assert [e.entry.data for e in errors] == []


def test_no_iam_statement_grants_every_action(template: Template) -> None:
    for logical_id, policy in resources(template, "AWS::IAM::Policy").items():
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]:
            actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
            for action in actions:
                assert action != "*" and not action.endswith(":*"), (logical_id, action)


def test_memory_comes_from_the_function_specs(template: Template) -> None:
    by_description = {f"Handoff: {spec.description}": spec.memory_mb for spec in ALL_FUNCTIONS}
    sizes = {
        f["Properties"]["Description"]: f["Properties"]["MemorySize"]
        for f in resources(template, "AWS::Lambda::Function").values()
        if f["Properties"].get("Description", "") in by_description
    }
    assert sizes == by_description
    assert by_description[f"Handoff: {QUALIFY.description}"] == 512


def test_customer_managed_key_and_custom_domain_come_from_context(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    _app, stack = build_app(
        outdir=str(tmp_path_factory.mktemp("cmk")),
        context={
            "handoff:tableKey": True,
            "handoff:domainName": "handoff.example.com",
            "handoff:certificateArn": "arn:aws:acm:us-east-1:123456789012:certificate/abc",
        },
    )
    template = Template.from_stack(stack)
    template.has_resource_properties("AWS::KMS::Key", {"EnableKeyRotation": True})
    tables = resources(template, "AWS::DynamoDB::Table")
    assert len(tables) == len(ALL_TABLES)
    for table in tables.values():
        assert table["Properties"]["SSESpecification"]["SSEType"] == "KMS"
        assert "KMSMasterKeyId" in table["Properties"]["SSESpecification"]
    template.has_resource_properties(
        "AWS::ApiGateway::DomainName",
        {"DomainName": "handoff.example.com", "SecurityPolicy": "TLS_1_2"},
    )
    outputs = template.find_outputs("*")
    assert outputs["HubspotWebhookUrl"]["Value"] == "https://handoff.example.com/webhooks/hubspot"
    assert "CustomDomainTarget" in outputs
    errors = Annotations.from_stack(stack).find_error("*", Match.string_like_regexp("AwsSolutions-.*"))
    assert [e.entry.data for e in errors] == []


def test_a_custom_domain_without_a_certificate_stops_synth(tmp_path_factory: pytest.TempPathFactory) -> None:
    with pytest.raises(ValueError, match="handoff:certificateArn"):
        build_app(
            outdir=str(tmp_path_factory.mktemp("nocert")), context={"handoff:domainName": "h.example.com"}
        )


def test_no_secret_value_is_in_the_template_or_a_function_environment(template: Template) -> None:
    for secret in resources(template, "AWS::SecretsManager::Secret").values():
        assert "SecretString" not in secret["Properties"]  # generated in the account, never written here
        assert "GenerateSecretString" in secret["Properties"]
    [api_key] = resources(template, "AWS::ApiGateway::ApiKey").values()
    assert "{{resolve:secretsmanager:" in json.dumps(api_key["Properties"]["Value"])
    for function in resources(template, "AWS::Lambda::Function").values():
        variables = function["Properties"].get("Environment", {}).get("Variables", {})
        for name, value in variables.items():
            words = ("SECRET", "TOKEN", "PASSWORD", "API_KEY")
            assert not any(w in name for w in words) or name == "HANDOFF_SECRET_PREFIX", name
            assert "resolve:secretsmanager" not in json.dumps(value), name
