"""Alarms to an SNS topic, and one dashboard: is every lead handed off, fast, and touched in time?"""

from __future__ import annotations

from aws_cdk import Duration, Stack
from aws_cdk import aws_apigateway as apigw
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as actions
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subscriptions
from aws_cdk import aws_sqs as sqs
from aws_cdk import aws_stepfunctions as sfn
from constructs import Construct

from handoff.deploy.functions import SLA_CHECK_EVERY_MINUTES

NAMESPACE = "Handoff"
FIVE_MINUTES = Duration.minutes(5)
SWEEPS_DEFERRED_WINDOW = Duration.minutes(30)


class Observability(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        service: str,
        functions: dict[str, lambda_.Function],
        state_machine: sfn.StateMachine,
        api: apigw.RestApi,
        dead_letter_queues: list[sqs.IQueue],
        alarm_email: str | None,
        breach_rate_threshold: float = 0.2,
        bounce_rate_threshold: float = 0.05,
    ) -> None:
        super().__init__(scope, construct_id)
        self.service = service
        kpi = self.kpi
        key = kms.Key(self, "AlarmsKey", enable_key_rotation=True, description="Handoff: alarm notifications")
        # CloudWatch publishes the alarm notifications, so it needs the key.
        key.grant_encrypt_decrypt(iam.ServicePrincipal("cloudwatch.amazonaws.com"))
        self.topic = sns.Topic(self, "Alarms", master_key=key, enforce_ssl=True)
        # enforce_ssl's Deny replaces SNS's default policy: without this Allow, CloudWatch could
        # not publish and no alarm would ever reach anyone.
        allow_service_to_publish(self.topic, "cloudwatch.amazonaws.com")
        if alarm_email:
            self.topic.add_subscription(subscriptions.EmailSubscription(alarm_email))
        self.alarms: list[cloudwatch.Alarm] = []

        self._alarm(
            "LeadsFailed", kpi("LeadsFailed"), 1, "A lead is in failed: see GET /leads and redrive it"
        )
        self._alarm("LeadsUnassigned", kpi("LeadsUnassigned"), 1, "A lead went to the unassigned queue")
        # A throttled sweep stops and the next one takes it up (handoff/service/sweeps.py); only
        # when every sweep for half an hour was throttled is a person needed.
        self._alarm(
            "SweepsDeferred",
            kpi("SweepsDeferred").with_(period=SWEEPS_DEFERRED_WINDOW),
            SWEEPS_DEFERRED_WINDOW.to_minutes() // SLA_CHECK_EVERY_MINUTES,
            "Every sla_check sweep for 30 minutes was throttled: overdue and stuck leads wait",
        )
        self._alarm(
            "WorkflowFailed",
            state_machine.metric_failed(period=FIVE_MINUTES),
            1,
            "A handoff execution failed",
        )
        self._alarm(
            "Api5xx", api.metric_server_error(period=FIVE_MINUTES, statistic="Sum"), 1, "The API answered 5xx"
        )
        for index, queue in enumerate(dead_letter_queues):
            self._alarm(
                f"DeadLetters{index}",
                queue.metric_approximate_number_of_messages_visible(period=FIVE_MINUTES, statistic="Maximum"),
                1,
                "A message is waiting in a dead-letter queue",
            )
        met, breached = kpi("SLAMet"), kpi("SLABreached")
        breach_rate = cloudwatch.MathExpression(
            expression="IF(met + breached > 0, breached / (met + breached), 0)",
            using_metrics={"met": met, "breached": breached},
            period=Duration.hours(1),
            label="SLA breach rate",
        )
        self._alarm(
            "SlaBreachRate", breach_rate, breach_rate_threshold, "Too many leads miss their first-touch SLA"
        )
        bounce_rate = cloudwatch.Metric(
            namespace="AWS/SES",
            metric_name="Reputation.BounceRate",
            statistic="Maximum",
            period=Duration.hours(1),
        )
        self._alarm(
            "SesBounceRate",
            bounce_rate,
            bounce_rate_threshold,
            "SES bounce rate is high: check rep addresses",
        )
        for name, function in functions.items():
            self._alarm(
                f"{name}Errors", function.metric_errors(period=FIVE_MINUTES), 1, f"{name} raised errors"
            )
            self._alarm(
                f"{name}Throttles", function.metric_throttles(period=FIVE_MINUTES), 1, f"{name} was throttled"
            )

        self.dashboard = cloudwatch.Dashboard(
            self, "Dashboard", dashboard_name=f"{Stack.of(self).stack_name}-handoff"
        )
        attainment = cloudwatch.MathExpression(
            expression="IF(met + breached > 0, 100 * met / (met + breached), 100)",
            using_metrics={"met": met, "breached": breached},
            period=Duration.hours(1),
            label="SLA attainment %",
        )
        self.dashboard.add_widgets(
            cloudwatch.GraphWidget(
                title="Leads received and handed off",
                left=[kpi("LeadsReceived"), kpi("LeadsQualified"), kpi("LeadsHandedOff")],
                width=12,
            ),
            cloudwatch.GraphWidget(
                title="Speed to lead (seconds)",
                left=[kpi("SpeedToLead", "p50", "p50"), kpi("SpeedToLead", "p90", "p90")],
                width=12,
            ),
            cloudwatch.GraphWidget(title="SLA attainment", left=[attainment], width=8),
            cloudwatch.GraphWidget(
                title="Escalations, reassignments, re-nurtures",
                left=[kpi("Escalations"), kpi("Reassignments"), kpi("Renurtured")],
                width=8,
            ),
            cloudwatch.GraphWidget(
                title="Dispositions and time to first touch",
                left=[kpi("Dispositions")],
                right=[kpi("TimeToFirstTouch", "p50", "first touch p50 (s)")],
                width=8,
            ),
            cloudwatch.GraphWidget(
                title="API and workflow health",
                left=[api.metric_server_error(statistic="Sum"), api.metric_client_error(statistic="Sum")],
                right=[state_machine.metric_failed(), state_machine.metric_succeeded()],
                width=12,
            ),
            cloudwatch.GraphWidget(
                title="Monthly outcomes (tuning job, %; pipeline per handoff on the right)",
                left=[
                    kpi(name, "Maximum", label).with_(period=Duration.days(31))
                    for name, label in (
                        ("MonthlyContactRate", "contact rate"),
                        ("MonthlyMeetingRate", "meeting rate"),
                        ("MonthlyMqlToSql", "MQL to SQL"),
                        ("MonthlySlaAttainment", "SLA attainment"),
                        ("MonthlyReassignmentRate", "reassigned"),
                        ("MonthlyRecycledToSql", "recycled to SQL"),
                        ("MonthlyAssignmentAccuracy", "assignment accuracy"),
                        ("MonthlyPipelineRate", "handoffs with a deal"),
                        ("MonthlyStage1To2", "stage 1 to 2"),
                        ("MonthlyWinRate", "win rate"),
                    )
                ],
                right=[
                    kpi("MonthlyPipelinePerHandoff", "Maximum", "pipeline per handoff").with_(
                        period=Duration.days(31)
                    )
                ],
                width=12,
            ),
            cloudwatch.AlarmStatusWidget(title="Alarms", alarms=self.alarms, width=12),
        )

    def kpi(self, name: str, statistic: str = "Sum", label: str | None = None) -> cloudwatch.Metric:
        """A Handoff KPI of this stack: the service dimension is the stack's own name."""
        return cloudwatch.Metric(
            namespace=NAMESPACE,
            metric_name=name,
            dimensions_map={"service": self.service},
            statistic=statistic,
            period=FIVE_MINUTES,
            label=label or name,
        )

    def _alarm(self, name: str, metric: cloudwatch.IMetric, threshold: float, description: str) -> None:
        alarm = cloudwatch.Alarm(
            self,
            name,
            metric=metric,
            threshold=threshold,
            evaluation_periods=1,
            comparison_operator=cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
            treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
            alarm_description=f"Handoff: {description}",
        )
        alarm.add_alarm_action(actions.SnsAction(self.topic))
        self.alarms.append(alarm)


def allow_service_to_publish(topic: sns.Topic, service: str) -> None:
    """Let an AWS service in this account publish to ``topic`` (over TLS, as enforce_ssl demands)."""
    stack = Stack.of(topic)
    topic.add_to_resource_policy(
        iam.PolicyStatement(
            sid=f"Allow{service.split('.', maxsplit=1)[0].capitalize()}Publish",
            principals=[iam.ServicePrincipal(service)],
            actions=["sns:Publish"],
            resources=[topic.topic_arn],
            conditions={"StringEquals": {"aws:SourceAccount": stack.account}},
        )
    )
