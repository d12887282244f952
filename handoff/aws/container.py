"""The ports on AWS, built once per Lambda container and passed in by each handler.

Each port is built the first time a service touches it, so a function builds only what it
uses and never reads a setting its spec does not declare; and nothing runs at import time,
so a handler module imports fast and tests can point everything at moto first.
"""

from __future__ import annotations

import threading
from functools import cache, cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

import boto3
from aws_lambda_powertools.utilities import parameters
from aws_lambda_powertools.utilities.parameters import SecretsProvider
from botocore.config import Config

from handoff.aws.accounts import AccountRepository
from handoff.aws.cognito import CognitoSessions
from handoff.aws.dispositions import DispositionRepository
from handoff.aws.leads import LeadRepository
from handoff.aws.mailer import SesMailer
from handoff.aws.pacing import SendSchedule, SesSendingRate
from handoff.aws.queue import SqsQueue
from handoff.aws.reports import S3Reports
from handoff.aws.reps import RepRepository
from handoff.aws.workflow import StepFunctionsWorkflow
from handoff.config import HandoffConfig, cached_config
from handoff.crm.hubspot_api import HubSpotClient
from handoff.crm.salesforce_api import SalesforceClient
from handoff.deploy import credentials
from handoff.deploy import settings as settings_module
from handoff.deploy.settings import settings

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.idempotency import IdempotencyConfig

SECRET_MAX_AGE_SECONDS = 300
# Throttling, 5xx and dropped connections are retried with exponential backoff and jitter
# (standard mode: three attempts unless AWS_MAX_ATTEMPTS says otherwise); the workflow's own
# retries go on from there, and qualify stays well inside API Gateway's 29 s.
RETRIES = Config(retries={"mode": "standard"})


# Clients, the DynamoDB resource and the secrets provider are made once, under this lock. In AWS a
# container serves one request at a time; the local stack runs many handlers in one process, and
# without it a burst's first requests each built their own (boto3's default session is not
# thread-safe for that), and each its own empty secrets cache: a thousand at once stalled it.
_making = threading.RLock()


def client(service: str) -> Any:
    with _making:
        return _client(service)


# SES sends are paced and tried again at their next turn on the send schedule, not by the SDK
# at a random moment (handoff.aws.mailer).
SES_ONE_ATTEMPT = Config(retries={"mode": "standard", "total_max_attempts": 1})


@cache
def _client(service: str) -> Any:
    # boto3 honours AWS_ENDPOINT_URL, which is how the local stack points here.
    config = SES_ONE_ATTEMPT if service == "sesv2" else RETRIES
    return boto3.client(service, config=config)  # type: ignore[call-overload]


def _dynamodb() -> Any:
    with _making:
        return _dynamodb_resource()


# Every lead makes some fourteen DynamoDB calls, and checking each call's parameters against
# the service model took up to a fifth of the SDK's CPU on one (0.2 of 1.1 ms for an UpdateItem
# with a canned answer). botocore documents turning it off for
# performance; DynamoDB checks every request itself and refuses a bad one with a 400
# (ValidationException), which the adapters report as a storage error like any other.
DYNAMODB = RETRIES.merge(Config(parameter_validation=False))


@cache
def _dynamodb_resource() -> Any:
    return boto3.resource("dynamodb", config=DYNAMODB)


def _secrets() -> SecretsProvider:
    """One provider, and so one cache, per container, on its Secrets Manager client."""
    with _making:
        return _secrets_provider()


@cache
def _secrets_provider() -> SecretsProvider:
    return SecretsProvider(boto3_client=client("secretsmanager"))


def _sending_rate() -> SesSendingRate:
    """One per container, so the account's rate is asked at most every few minutes."""
    with _making:
        return _sending_rate_provider()


@cache
def _sending_rate_provider() -> SesSendingRate:
    return SesSendingRate(client("sesv2"))


class AwsPorts:
    """handoff.service.ports.Ports on DynamoDB, Step Functions, SES, SQS, S3 and Secrets Manager."""

    def __init__(self) -> None:
        self._idempotent: dict[tuple[Any, int], Any] = {}

    @cached_property
    def leads(self) -> LeadRepository:
        return LeadRepository(_dynamodb().Table(settings().leads_table))

    @cached_property
    def reps(self) -> RepRepository:
        return RepRepository(_dynamodb().Table(settings().reps_table))

    @cached_property
    def accounts(self) -> AccountRepository | None:
        name = settings().accounts_table
        return AccountRepository(_dynamodb().Table(name)) if name else None

    @cached_property
    def dispositions(self) -> DispositionRepository:
        return DispositionRepository(_dynamodb().Table(settings().dispositions_table))

    @cached_property
    def workflow(self) -> StepFunctionsWorkflow:
        return StepFunctionsWorkflow(client("stepfunctions"), settings().state_machine_arn)

    @cached_property
    def cognito(self) -> CognitoSessions:
        """The console's sign-in and session checks (console and console_auth only)."""
        return CognitoSessions(client("cognito-idp"), settings().user_pool_id, settings().user_pool_client_id)

    @cached_property
    def mailer(self) -> SesMailer:
        return SesMailer(client("sesv2"))

    @cached_property
    def send_schedule(self) -> SendSchedule:
        return SendSchedule(
            _dynamodb().Table(settings().send_schedule_table),
            rate=_sending_rate().rate,
            share=lambda: self.config.email.send_rate_share,
        )

    @cached_property
    def write_back(self) -> SqsQueue | None:
        url = settings().crm_sync_queue_url
        return SqsQueue(client("sqs"), url) if url else None

    @cached_property
    def reports(self) -> S3Reports | None:
        bucket = settings().reports_bucket
        return S3Reports(client("s3"), bucket) if bucket else None

    @cached_property
    def hubspot(self) -> HubSpotClient:
        return HubSpotClient(settings().hubspot_api_base, self.secret(credentials.HUBSPOT_TOKEN.name))

    @cached_property
    def salesforce(self) -> SalesforceClient:
        """One per container: its OAuth token is reused until Salesforce says it expired."""
        return SalesforceClient(
            settings().salesforce_login_url,
            self.secret(credentials.SALESFORCE_CLIENT_ID.name),
            self.secret(credentials.SALESFORCE_CLIENT_SECRET.name),
            api_version=self.config.crm_sync.salesforce.api_version,
        )

    @property
    def config(self) -> HandoffConfig:
        return cached_config(settings().config_path)

    @property
    def config_text(self) -> str:
        return Path(settings().config_path).read_text()

    def secret(self, name: str) -> str:
        """Cached for five minutes, so rotation takes effect without a deploy."""
        value = _secrets().get(f"{settings().secret_prefix}{name}", max_age=SECRET_MAX_AGE_SECONDS)
        return str(value)

    def idempotent(self, function: Any, config: IdempotencyConfig) -> Any:
        table = settings().idempotency_table
        if not table:
            return function
        key = (function, id(config))
        if key not in self._idempotent:
            from aws_lambda_powertools.utilities.idempotency import (
                DynamoDBPersistenceLayer,
                idempotent_function,
            )

            persistence = DynamoDBPersistenceLayer(table_name=table, boto3_client=client("dynamodb"))
            self._idempotent[key] = idempotent_function(
                data_keyword_argument="message", persistence_store=persistence, config=config
            )(function)
        return self._idempotent[key]


@cache
def ports() -> AwsPorts:
    """This container's ports: handlers call it per invocation and pass the result in."""
    return AwsPorts()


def reset() -> None:
    """Forget this container's ports and caches (tests switch endpoints between cases)."""
    for cached in (
        _client,
        _dynamodb_resource,
        _secrets_provider,
        _sending_rate_provider,
        ports,
        cached_config,
    ):
        cached.cache_clear()
    settings_module.reset()
    parameters.clear_caches()  # type: ignore[no-untyped-call]
