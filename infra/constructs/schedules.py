"""EventBridge schedules: the SLA sweep and the monthly tuning job, with retries and a dead-letter queue."""

from __future__ import annotations

from aws_cdk import Duration
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_lambda as lambda_
from constructs import Construct

from handoff.deploy.functions import SLA_CHECK_EVERY_MINUTES, TUNING_SCHEDULE
from infra.constructs.queues import dead_letter_queue


class Schedules(Construct):
    def __init__(
        self, scope: Construct, construct_id: str, *, sla_check: lambda_.IFunction, tuning: lambda_.IFunction
    ) -> None:
        super().__init__(scope, construct_id)
        self.dead_letters = dead_letter_queue(self, "ScheduleDeadLetters")
        self.sla_check_rule = events.Rule(
            self,
            "SlaCheck",
            description="Handoff: sweep overdue, stuck or failed handoffs",
            schedule=events.Schedule.rate(Duration.minutes(SLA_CHECK_EVERY_MINUTES)),
            targets=[
                targets.LambdaFunction(
                    sla_check,
                    retry_attempts=2,
                    max_event_age=Duration.minutes(SLA_CHECK_EVERY_MINUTES),
                    dead_letter_queue=self.dead_letters,
                )
            ],
        )
        self.tuning_rule = events.Rule(
            self,
            "Tuning",
            description="Handoff: monthly KPIs and proposed config changes for RevOps",
            schedule=events.Schedule.cron(**TUNING_SCHEDULE),
            targets=[
                targets.LambdaFunction(
                    tuning,
                    retry_attempts=2,
                    max_event_age=Duration.hours(6),
                    dead_letter_queue=self.dead_letters,
                )
            ],
        )
