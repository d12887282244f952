"""The ops console's AWS side in the synthesized template: the Cognito pool, its groups and app
client, the session authorizer on every console route but sign-in, and least-privilege grants."""

from __future__ import annotations

import json
from typing import Any

from aws_cdk.assertions import Template

from handoff.aws.tables import ACCOUNTS, ALL_TABLES, DISPOSITIONS, LEADS, REPS
from handoff.console.scope import MANAGER, REVOPS
from handoff.deploy import functions as needs
from handoff.deploy.functions import ALL_FUNCTIONS, CONSOLE, CONSOLE_AUTH, ROUTES
from handoff.deploy.gateway import CONSOLE_AUTH_CACHE_SECONDS
from handoff.deploy.settings import variable
from tests.infra.conftest import policy_statements, resources, statement_actions
from tests.infra.test_deployable import function_logical_ids, function_resources

SESSION_ROUTES = {(route.method, route.path) for route in ROUTES if route.session}
PUBLIC_CONSOLE_ROUTES = {
    (route.method, route.path) for route in ROUTES if route.path.startswith("/console") and not route.session
}


def _one(template: Template, kind: str) -> tuple[str, dict[str, Any]]:
    [(logical_id, resource)] = resources(template, kind).items()
    return logical_id, resource


def _pool(template: Template) -> tuple[str, dict[str, Any]]:
    return _one(template, "AWS::Cognito::UserPool")


def _methods_by_route(template: Template) -> dict[tuple[str, str], dict[str, Any]]:
    """Every deployed method by (HTTP method, full resource path), rebuilt from ParentId links."""
    api_resources = resources(template, "AWS::ApiGateway::Resource")

    def path(logical_id: str | None) -> str:
        if logical_id not in api_resources:
            return ""  # the API's root
        props = api_resources[logical_id]["Properties"]
        return f"{path(props['ParentId'].get('Ref'))}/{props['PathPart']}"

    return {
        (m["Properties"]["HttpMethod"], path(m["Properties"]["ResourceId"].get("Ref")) or "/"): m
        for m in resources(template, "AWS::ApiGateway::Method").values()
        if m["Properties"]["HttpMethod"] != "OPTIONS"
    }


def test_the_user_pool_is_invite_only_with_email_sign_in_strong_passwords_and_kept(
    template: Template,
) -> None:
    _, pool = _pool(template)
    props = pool["Properties"]
    assert props["AdminCreateUserConfig"]["AllowAdminCreateUserOnly"] is True  # no self sign-up
    assert props["UsernameAttributes"] == ["email"]
    assert props["UsernameConfiguration"] == {"CaseSensitive": False}
    policy = props["Policies"]["PasswordPolicy"]
    assert policy["MinimumLength"] >= 12
    assert all(policy[f"Require{kind}"] for kind in ("Lowercase", "Uppercase", "Numbers", "Symbols"))
    # TOTP only, never SMS.
    assert props["MfaConfiguration"] == "OFF"  # until the sign-in answers MFA challenges
    assert props["AccountRecoverySetting"] == {
        "RecoveryMechanisms": [{"Name": "verified_email", "Priority": 1}]
    }
    assert props["DeletionProtection"] == "ACTIVE"
    assert (pool["DeletionPolicy"], pool["UpdateReplacePolicy"]) == ("Retain", "Retain")


def test_the_pool_has_the_revops_and_manager_groups_the_console_checks(template: Template) -> None:
    pool_id, _ = _pool(template)
    groups = resources(template, "AWS::Cognito::UserPoolGroup").values()
    assert sorted(g["Properties"]["GroupName"] for g in groups) == sorted([REVOPS, MANAGER])
    assert all(g["Properties"]["UserPoolId"] == {"Ref": pool_id} for g in groups)


def test_the_app_client_signs_in_with_a_password_server_side_and_has_no_secret(template: Template) -> None:
    pool_id, _ = _pool(template)
    _, client = _one(template, "AWS::Cognito::UserPoolClient")
    props = client["Properties"]
    assert props["UserPoolId"] == {"Ref": pool_id}
    assert sorted(props["ExplicitAuthFlows"]) == ["ALLOW_REFRESH_TOKEN_AUTH", "ALLOW_USER_PASSWORD_AUTH"]
    assert props["GenerateSecret"] is False
    assert props["PreventUserExistenceErrors"] == "ENABLED"
    assert props["EnableTokenRevocation"] is True
    assert props["AllowedOAuthFlowsUserPoolClient"] is False  # no hosted UI, no OAuth flows
    units = props["TokenValidityUnits"]
    assert (props["AccessTokenValidity"], units["AccessToken"]) == (60, "minutes")
    assert (props["IdTokenValidity"], units["IdToken"]) == (60, "minutes")


def test_both_console_functions_are_told_the_pool_and_the_client(template: Template) -> None:
    pool_id, _ = _pool(template)
    client_id, _ = _one(template, "AWS::Cognito::UserPoolClient")
    functions = function_resources(template)
    for spec in (CONSOLE, CONSOLE_AUTH):
        variables = functions[spec.key]["Properties"]["Environment"]["Variables"]
        assert variables[variable(needs.USER_POOL)] == {"Ref": pool_id}
        assert variables[variable(needs.USER_POOL_CLIENT)] == {"Ref": client_id}


def test_the_session_authorizer_is_console_auth_on_the_cookie_header_cached_for_the_contract_time(
    template: Template,
) -> None:
    _, authorizer = _one(template, "AWS::ApiGateway::Authorizer")
    props = authorizer["Properties"]
    assert props["Type"] == "REQUEST"
    assert props["IdentitySource"] == "method.request.header.Cookie"
    assert props["AuthorizerResultTtlInSeconds"] == CONSOLE_AUTH_CACHE_SECONDS == 300
    console_auth = function_logical_ids(template)[CONSOLE_AUTH.key]
    assert f'"{console_auth}"' in json.dumps(props["AuthorizerUri"])
    # API Gateway may invoke the authorizer (CDK scopes the permission to this authorizer).
    invokers = [
        p["Properties"]
        for p in resources(template, "AWS::Lambda::Permission").values()
        if p["Properties"]["FunctionName"] == {"Fn::GetAtt": [console_auth, "Arn"]}
    ]
    assert invokers and all(p["Principal"] == "apigateway.amazonaws.com" for p in invokers)


def test_every_session_route_and_only_those_sit_behind_the_session_authorizer(template: Template) -> None:
    assert SESSION_ROUTES, "no console route is marked session=True"
    assert {("GET", "/console/login"), ("POST", "/console/login")} == PUBLIC_CONSOLE_ROUTES
    authorizer_id, _ = _one(template, "AWS::ApiGateway::Authorizer")
    methods = _methods_by_route(template)
    assert set(methods) == {(route.method, route.path) for route in ROUTES}
    for route, method in methods.items():
        props = method["Properties"]
        if route in SESSION_ROUTES:
            assert props["AuthorizationType"] == "CUSTOM", route
            assert props["AuthorizerId"] == {"Ref": authorizer_id}, route
            assert not props.get("ApiKeyRequired"), route  # no shared key reaches a browser
        else:
            assert props["AuthorizationType"] == "NONE", route
            assert "AuthorizerId" not in props, route


def test_only_the_authorizer_may_read_group_membership_and_only_in_this_pool(template: Template) -> None:
    pool_id, _ = _pool(template)
    [statement] = [
        s
        for s in policy_statements(template, CONSOLE_AUTH.key)
        if any(a.startswith("cognito-idp:") for a in statement_actions(s))
    ]
    assert statement_actions(statement) == {"cognito-idp:AdminListGroupsForUser"}
    assert statement["Resource"] == {"Fn::GetAtt": [pool_id, "Arn"]}
    # Nothing else: no tables, secrets or workflow for the authorizer.
    others = set().union(
        *(statement_actions(s) for s in policy_statements(template, CONSOLE_AUTH.key))
    ) - statement_actions(statement)
    assert {a.split(":")[0] for a in others} <= {"xray"}
    # Sign-in, sign-out and GetUser are public or token-authorized: no function holds Cognito IAM.
    for spec in ALL_FUNCTIONS:
        if spec is not CONSOLE_AUTH:
            held = set().union(set(), *(statement_actions(s) for s in policy_statements(template, spec.key)))
            assert not {a for a in held if a.startswith("cognito-idp:")}, spec.key


def test_the_console_function_gets_what_its_pages_read_and_the_actions_they_take(template: Template) -> None:
    statements = policy_statements(template, CONSOLE.key)
    actions = set().union(*(statement_actions(s) for s in statements))
    text = json.dumps(statements)
    granted = {
        spec.logical_name
        for spec in ALL_TABLES
        for logical in resources(template, "AWS::DynamoDB::Table")
        if logical.startswith(f"Tables{spec.logical_name}") and f'"{logical}"' in text
    }
    assert granted == {t.logical_name for t in (LEADS, REPS, ACCOUNTS, DISPOSITIONS)}
    assert {"dynamodb:UpdateItem", "dynamodb:PutItem", "dynamodb:Query"} <= actions
    # Reassignments and redrives start executions; a reassignment before the first touch ends the wait.
    assert {"states:StartExecution", "states:SendTaskFailure"} <= actions
    assert {"s3:GetObject*", "s3:List*"} <= actions and not {a for a in actions if a.startswith("s3:Put")}
    secrets = {
        logical: secret["Properties"]["Name"]["Fn::Join"][1][-1].lstrip("/")
        for logical, secret in resources(template, "AWS::SecretsManager::Secret").items()
    }
    read = [s for s in statements if "secretsmanager:GetSecretValue" in statement_actions(s)]
    assert {name for logical, name in secrets.items() if f'"{logical}"' in json.dumps(read)} == {
        "console-csrf"
    }


def test_the_outputs_give_the_console_url_and_how_to_add_a_user(template: Template) -> None:
    pool_id, _ = _pool(template)
    outputs = template.to_json()["Outputs"]
    url = outputs["ConsoleUrl"]["Value"]["Fn::Join"][1]
    assert url[-1].endswith("/console")
    assert outputs["ConsoleUserPoolId"]["Value"] == {"Ref": pool_id}
    description = outputs["ConsoleUserPoolId"]["Description"]
    assert "admin-create-user" in description and "admin-add-user-to-group" in description
