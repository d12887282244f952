"""The console's sign-in on the emulator: the user pool, its app client and groups as the stack
defines them, and throwaway users to sign in with (one revops, one per manager in the roster)."""

from __future__ import annotations

import secrets
from collections.abc import Iterable
from dataclasses import dataclass

import boto3

from handoff.console.scope import MANAGER, REVOPS
from handoff.domain.rep import Rep

USER_POOL_NAME = "handoff-console"
REVOPS_USER = "revops@example.com"
# The stack's password policy (infra/constructs/console.py), so a local password is a valid one.
PASSWORD_POLICY = {
    "MinimumLength": 12,
    "RequireUppercase": True,
    "RequireLowercase": True,
    "RequireNumbers": True,
    "RequireSymbols": True,
}


@dataclass(frozen=True)
class ConsoleUser:
    """A local sign-in: printed by ``handoff serve`` and ``make demo``, never logged."""

    username: str
    password: str
    role: str


def provision_user_pool() -> tuple[str, str]:
    """The pool, its public app client (USER_PASSWORD_AUTH) and the console's groups: (pool id,
    client id)."""
    cognito = boto3.client("cognito-idp")
    pool = cognito.create_user_pool(
        PoolName=USER_POOL_NAME,
        Policies={"PasswordPolicy": PASSWORD_POLICY},
        AdminCreateUserConfig={"AllowAdminCreateUserOnly": True},
    )["UserPool"]["Id"]
    client = cognito.create_user_pool_client(
        UserPoolId=pool,
        ClientName=USER_POOL_NAME,
        GenerateSecret=False,
        ExplicitAuthFlows=["ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"],
        PreventUserExistenceErrors="ENABLED",
        EnableTokenRevocation=True,
    )["UserPoolClient"]["ClientId"]
    for group in (REVOPS, MANAGER):
        cognito.create_group(UserPoolId=pool, GroupName=group)
    return str(pool), str(client)


def _password() -> str:
    # Random, and meets every rule of the policy whatever the random part holds.
    return f"Handoff-{secrets.token_urlsafe(9)}-9a"


def create_users(user_pool_id: str, reps: Iterable[Rep]) -> list[ConsoleUser]:
    """One revops user and one manager per distinct manager_email, each with a permanent
    password, so they sign in at once (no first-sign-in password change)."""
    managers = sorted({str(r.manager_email).strip().lower() for r in reps if r.manager_email})
    users = [ConsoleUser(REVOPS_USER, _password(), REVOPS)]
    users += [ConsoleUser(email, _password(), MANAGER) for email in managers if email != REVOPS_USER]
    cognito = boto3.client("cognito-idp")
    for user in users:
        cognito.admin_create_user(
            UserPoolId=user_pool_id,
            Username=user.username,
            UserAttributes=[
                {"Name": "email", "Value": user.username},
                {"Name": "email_verified", "Value": "true"},
            ],
            MessageAction="SUPPRESS",
        )
        cognito.admin_set_user_password(
            UserPoolId=user_pool_id, Username=user.username, Password=user.password, Permanent=True
        )
        cognito.admin_add_user_to_group(UserPoolId=user_pool_id, Username=user.username, GroupName=user.role)
    return users


def sign_in_lines(api_url: str, users: Iterable[ConsoleUser]) -> list[str]:
    """How to sign in to the local console, for the terminal (local throwaway passwords)."""
    lines = [f"Console         {api_url}/console/login   sign in as (local throwaway passwords):"]
    lines += [f"                  {u.role:<8} {u.username:<28} {u.password}" for u in users]
    return lines
