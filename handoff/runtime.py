"""Lazily built AWS clients, repositories and secrets, one set per Lambda container.

Nothing here runs at import time, so a handler module imports fast and tests can
point everything at moto by setting the environment first.
"""

from __future__ import annotations

from functools import cache
from typing import Any

import boto3
from aws_lambda_powertools.utilities import parameters
from botocore.config import Config

from handoff.aws.accounts import AccountRepository
from handoff.aws.dispositions import DispositionRepository
from handoff.aws.leads import LeadRepository
from handoff.aws.mailer import SesMailer
from handoff.aws.queue import SqsQueue
from handoff.aws.reps import RepRepository
from handoff.aws.workflow import StepFunctionsWorkflow
from handoff.config import HandoffConfig, cached_config
from handoff.crm.hubspot_api import HubSpotClient
from handoff.crm.salesforce_api import SalesforceClient
from handoff.deploy import credentials
from handoff.deploy import settings as settings_module
from handoff.deploy.settings import settings

SECRET_MAX_AGE_SECONDS = 300
# Throttling, 5xx and dropped connections are retried with exponential backoff and jitter
# (standard mode: three attempts unless AWS_MAX_ATTEMPTS says otherwise); the workflow's own
# retries go on from there, and qualify stays well inside API Gateway's 29 s.
RETRIES = Config(retries={"mode": "standard"})


@cache
def client(service: str) -> Any:
    # boto3 honours AWS_ENDPOINT_URL, which is how the local stack points here.
    return boto3.client(service, config=RETRIES)  # type: ignore[call-overload]


@cache
def _dynamodb() -> Any:
    return boto3.resource("dynamodb", config=RETRIES)


@cache
def leads() -> LeadRepository:
    return LeadRepository(_dynamodb().Table(settings().leads_table))


@cache
def reps() -> RepRepository:
    return RepRepository(_dynamodb().Table(settings().reps_table))


@cache
def accounts() -> AccountRepository | None:
    """None when the stack has no accounts table configured."""
    name = settings().accounts_table
    return AccountRepository(_dynamodb().Table(name)) if name else None


@cache
def dispositions() -> DispositionRepository:
    return DispositionRepository(_dynamodb().Table(settings().dispositions_table))


@cache
def mailer() -> SesMailer:
    return SesMailer(client("sesv2"))


@cache
def write_back_queue() -> SqsQueue | None:
    """None where no queue is configured (the CLI, or a stack without write-back)."""
    url = settings().crm_sync_queue_url
    return SqsQueue(client("sqs"), url) if url else None


@cache
def workflow() -> StepFunctionsWorkflow:
    return StepFunctionsWorkflow(client("stepfunctions"), settings().state_machine_arn)


@cache
def hubspot() -> HubSpotClient:
    return HubSpotClient(settings().hubspot_api_base, secret(credentials.HUBSPOT_TOKEN.name))


@cache
def salesforce() -> SalesforceClient:
    """One per container: its OAuth token is reused until Salesforce says it expired."""
    return SalesforceClient(
        settings().salesforce_login_url,
        secret(credentials.SALESFORCE_CLIENT_ID.name),
        secret(credentials.SALESFORCE_CLIENT_SECRET.name),
        api_version=config().crm_sync.salesforce.api_version,
    )


def config() -> HandoffConfig:
    return cached_config(settings().config_path)


def secret(name: str) -> str:
    """A secret's value, cached for five minutes so rotation takes effect without a deploy."""
    value = parameters.get_secret(f"{settings().secret_prefix}{name}", max_age=SECRET_MAX_AGE_SECONDS)
    return str(value)


def reset() -> None:
    """Forget cached clients (tests switch endpoints between cases)."""
    for cached in (
        client,
        _dynamodb,
        leads,
        reps,
        accounts,
        dispositions,
        hubspot,
        salesforce,
        workflow,
        write_back_queue,
        mailer,
        cached_config,
    ):
        cached.cache_clear()
    settings_module.reset()

    parameters.clear_caches()  # type: ignore[no-untyped-call]
