"""SES: the sender identity and a configuration set for delivery events."""

from __future__ import annotations

from aws_cdk import Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_ses as ses
from constructs import Construct


class Email(Construct):
    def __init__(self, scope: Construct, construct_id: str, *, sender: str) -> None:
        super().__init__(scope, construct_id)
        self.sender = sender
        self.configuration_set = ses.ConfigurationSet(self, "ConfigurationSet")
        self.identity = ses.EmailIdentity(
            self,
            "Sender",
            identity=ses.Identity.email(sender),
            configuration_set=self.configuration_set,
        )

    def grant_send(self, grantee: iam.IGrantable) -> None:
        stack = Stack.of(self)
        iam.Grant.add_to_principal(
            grantee=grantee,
            actions=["ses:SendEmail", "ses:SendRawEmail"],
            resource_arns=[
                stack.format_arn(service="ses", resource="identity", resource_name=self.sender),
                stack.format_arn(
                    service="ses",
                    resource="configuration-set",
                    resource_name=self.configuration_set.configuration_set_name,
                ),
            ],
        )
