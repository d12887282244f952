"""One Secrets Manager secret per credential in handoff.secrets."""

from __future__ import annotations

from aws_cdk import RemovalPolicy
from aws_cdk import aws_secretsmanager as secretsmanager
from constructs import Construct

from handoff.secrets import ALL_SECRETS


class Secrets(Construct):
    def __init__(self, scope: Construct, construct_id: str, *, prefix: str) -> None:
        super().__init__(scope, construct_id)
        self.prefix = prefix
        self.by_name: dict[str, secretsmanager.Secret] = {}
        for spec in ALL_SECRETS:
            secret = secretsmanager.Secret(
                self,
                spec.name,
                secret_name=f"{prefix}{spec.name}",
                description=f"Handoff: {spec.description}",
                # Values ops paste in start as a placeholder the functions reject.
                generate_secret_string=secretsmanager.SecretStringGenerator(
                    password_length=48, exclude_punctuation=True
                ),
                removal_policy=RemovalPolicy.RETAIN,
            )
            self.by_name[spec.name] = secret
