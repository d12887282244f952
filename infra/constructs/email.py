"""SES: the sender identity and a configuration set for delivery events."""

from __future__ import annotations

from aws_cdk import Stack
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_ses as ses
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subscriptions
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from infra.constructs.queues import dead_letter_queue


class Email(Construct):
    def __init__(
        self, scope: Construct, construct_id: str, *, sender: str, sandbox: bool, create_identity: bool
    ) -> None:
        super().__init__(scope, construct_id)
        self.sender = sender
        self.sandbox = sandbox
        self.configuration_set = ses.ConfigurationSet(self, "ConfigurationSet")
        # Bounces and complaints carry addresses: encrypted with a key SES is allowed to use.
        key = kms.Key(
            self, "DeliveryEventsKey", enable_key_rotation=True, description="Handoff: SES delivery events"
        )
        key.grant(iam.ServicePrincipal("ses.amazonaws.com"), "kms:GenerateDataKey*", "kms:Decrypt")
        self.delivery_events = sns.Topic(self, "DeliveryEvents", master_key=key, enforce_ssl=True)
        # enforce_ssl's Deny replaces SNS's default policy; the event destination below adds the
        # Allow for SES, scoped to this configuration set.
        self.configuration_set.add_event_destination(
            "BouncesAndComplaints",
            destination=ses.EventDestination.sns_topic(self.delivery_events),
            events=[ses.EmailSendingEvent.BOUNCE, ses.EmailSendingEvent.COMPLAINT],
        )
        # Identities are account-wide: a second stage sending from the same address reuses the
        # first stage's identity (handoff:createSenderIdentity=false). Every send names the
        # configuration set itself, so nothing depends on the identity's default.
        if create_identity:
            ses.EmailIdentity(
                self, "Sender", identity=ses.Identity.email(sender), configuration_set=self.configuration_set
            )

    def deliver_events_to(self, handler: lambda_.IFunction) -> sqs.IQueue:
        """Subscribe the handler; a delivery event it cannot take waits in a dead-letter queue."""
        dead_letters = dead_letter_queue(self, "DeliveryEventDeadLetters")
        self.delivery_events.add_subscription(
            subscriptions.LambdaSubscription(handler, dead_letter_queue=dead_letters)
        )
        return dead_letters

    def grant_send(self, grantee: iam.IGrantable) -> None:
        """SES authorizes a send against the sender identity and the configuration set; in the
        sandbox, also against each recipient's verified identity (reps' addresses, verified for
        a trial), which no template can list: then the grant covers this account's identities."""
        stack = Stack.of(self)
        identities = "*" if self.sandbox else self.sender
        iam.Grant.add_to_principal(
            grantee=grantee,
            actions=["ses:SendEmail", "ses:SendRawEmail"],
            resource_arns=[
                stack.format_arn(service="ses", resource="identity", resource_name=identities),
                stack.format_arn(
                    service="ses",
                    resource="configuration-set",
                    resource_name=self.configuration_set.configuration_set_name,
                ),
            ],
        )

    @staticmethod
    def grant_read_sending_rate(grantee: iam.IGrantable) -> None:
        """The handoff's senders pace their email at the account's sending rate, which SES v2
        GetAccount reports. The action has no resource-level permissions, so its resource is "*"
        (cdk-nag IAM5, with the reason in infra/stack.py)."""
        iam.Grant.add_to_principal(grantee=grantee, actions=["ses:GetAccount"], resource_arns=["*"])
