"""One Secrets Manager secret per credential in handoff.deploy.credentials."""

from __future__ import annotations

from aws_cdk import Fn, RemovalPolicy, Stack
from aws_cdk import aws_secretsmanager as secretsmanager
from constructs import Construct

from handoff.deploy.credentials import ALL_SECRETS


class Secrets(Construct):
    """Named ``<stack>/<stack id>/<name>``. The stack id's GUID is new each time the stack is
    created, so a stack re-created after ``cdk destroy`` never collides with the old secrets
    (Secrets Manager keeps a deleted name reserved for its recovery window)."""

    def __init__(self, scope: Construct, construct_id: str, *, stack: Stack) -> None:
        super().__init__(scope, construct_id)
        stack_guid = Fn.select(2, Fn.split("/", stack.stack_id))
        self.prefix = f"{stack.stack_name}/{stack_guid}/"
        self.by_name: dict[str, secretsmanager.Secret] = {}
        for spec in ALL_SECRETS:
            secret = secretsmanager.Secret(
                self,
                spec.name,
                secret_name=f"{self.prefix}{spec.name}",
                description=f"Handoff: {spec.description}",
                # Values ops paste in start as a placeholder the functions reject.
                generate_secret_string=secretsmanager.SecretStringGenerator(
                    password_length=48, exclude_punctuation=True
                ),
                # Deleted with the stack, recoverable for Secrets Manager's recovery window.
                removal_policy=RemovalPolicy.DESTROY,
            )
            self.by_name[spec.name] = secret
