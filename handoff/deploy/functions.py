"""Every Lambda function and every HTTP route, defined once.

CDK builds functions, state-machine substitutions and API resources from this;
the local stack dispatches Lambda invocations and HTTP requests with it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from handoff.deploy.gateway import (
    CONSOLE_THROTTLE,
    JSON_OBJECT,
    JSON_OBJECT_OR_ARRAY,
    LINK_THROTTLE,
    OPS_THROTTLE,
    WEBHOOK_THROTTLE,
    Throttle,
)

REPO_ROOT = Path(__file__).resolve().parents[2]
FUNCTIONS_DIR = REPO_ROOT / "functions"
ASL_PATH = REPO_ROOT / "infra" / "statemachine" / "handoff.asl.json"


# The settings (handoff.deploy.settings.Settings fields, read from HANDOFF_<NAME>) each function needs.
# CDK, the local stack and the tests build every function's environment from these, and each
# handler refuses to start without its own: a setting a function forgot is a cold-start error
# that names the variable, not a silent skip in production.
LEADS = "leads_table"
REPS = "reps_table"
ACCOUNTS = "accounts_table"
DISPOSITIONS = "dispositions_table"
IDEMPOTENCY = "idempotency_table"
SEND_SCHEDULE = "send_schedule_table"
CONFIG = "config_path"
SECRETS = "secret_prefix"
STATE_MACHINE = "state_machine_arn"
SENDER = "sender"
SES_CONFIGURATION_SET = "ses_configuration_set"
PUBLIC_BASE_URL = "public_base_url"
CRM_SYNC_QUEUE = "crm_sync_queue_url"
REPORTS_BUCKET = "reports_bucket"
HUBSPOT_API = "hubspot_api_base"
# The ops console's sign-in: the Cognito user pool and its app client (USER_PASSWORD_AUTH).
USER_POOL = "user_pool_id"
USER_POOL_CLIENT = "user_pool_client_id"
SALESFORCE_LOGIN = "salesforce_login_url"
# Every step reads the config and the leads table; most also write back to the CRM.
BASE_SETTINGS = (LEADS, CONFIG)
EMAIL_SETTINGS = (SENDER, SES_CONFIGURATION_SET)
# The handoff's email goes out at the account's SES sending rate, on the shared send schedule.
PACED_EMAIL_SETTINGS = (*EMAIL_SETTINGS, SEND_SCHEDULE)


@dataclass(frozen=True)
class FunctionSpec:
    key: str  # folder under functions/, and the base of the deployed name
    description: str
    asl_placeholder: str | None = None  # ${...} substitution in the ASL file
    timeout_seconds: int = 10
    # Sized from `make bench` (B2): every function peaks under 100 MB, so memory buys CPU here,
    # not room. 256 MB is the floor; qualify gets 512 MB because a CRM waits on its answer.
    memory_mb: int = 256
    # Settings the function cannot run without (each a Settings field name).
    settings: tuple[str, ...] = BASE_SETTINGS
    # Settings it reads when they are set, with a safe default otherwise (e.g. a CRM API host).
    optional_settings: tuple[str, ...] = ()
    # Invoked asynchronously (a schedule, an SNS subscription): Lambda retries twice, then
    # the event goes to the function's own failure queue instead of being dropped.
    asynchronous: bool = False

    @property
    def environment_names(self) -> tuple[str, ...]:
        return self.settings + self.optional_settings

    @property
    def module(self) -> str:
        return f"functions.{self.key}.app"

    @property
    def path(self) -> Path:
        return FUNCTIONS_DIR / self.key


# 29 s is API Gateway's integration limit; HubSpot event batches read the CRM API per event.
# The webhook intake: leads from every CRM, and CRM activity as first touch (which records a
# disposition, frees the rep's slot, ends the SLA wait and writes back to the CRM).
QUALIFY = FunctionSpec(
    "qualify",
    "CRM webhooks: verify, parse, qualify, start the handoff",
    timeout_seconds=29,
    memory_mb=512,
    settings=(*BASE_SETTINGS, REPS, DISPOSITIONS, SECRETS, STATE_MACHINE, CRM_SYNC_QUEUE),
    # The CRM APIs: a HubSpot event's contact, a Salesforce Contact's Account.
    optional_settings=(PUBLIC_BASE_URL, HUBSPOT_API, SALESFORCE_LOGIN),
)
# The read side of the HTTP API for ops: liveness, the OpenAPI document, leads and reps. It reads
# the leads and reps tables and the API key, and writes nothing.
API = FunctionSpec(
    "api",
    "The lead and rep APIs, liveness and the OpenAPI document (read only)",
    settings=(LEADS, REPS, SECRETS),
)
# 30 s, not 10: under a throttling burst each write is tried for a few seconds (handoff/aws/
# throttling.py), and a step Lambda stopped between its claim and its write holds a slot its retry
# may not find again (handoff/aws/reps.py HOLDS).
ROUTE = FunctionSpec(
    "route",
    "Workflow step: pick the rep and start the SLA clock",
    "RouteFunctionArn",
    timeout_seconds=30,
    settings=(*BASE_SETTINGS, REPS, ACCOUNTS, CRM_SYNC_QUEUE),
)
# 30 s, not 10: a brief woken for its moment on the send schedule sleeps up to 14 s in the step
# (handoff.domain.pacing.LONGEST_SLEEP_SECONDS), and its writes may then meet a throttling burst.
NOTIFY = FunctionSpec(
    "notify",
    "Workflow step: email the brief or the escalation",
    "NotifyFunctionArn",
    timeout_seconds=30,
    settings=(*BASE_SETTINGS, REPS, SECRETS, *PACED_EMAIL_SETTINGS, PUBLIC_BASE_URL, CRM_SYNC_QUEUE),
)
AWAIT_TOUCH = FunctionSpec(
    "await_touch",
    "Workflow step: park the task token until the first touch",
    "AwaitTouchFunctionArn",
)
MARK_FAILED = FunctionSpec(
    "mark_failed", "Workflow catch: mark the lead failed, visibly", "MarkFailedFunctionArn"
)
DISPOSITION = FunctionSpec(
    "disposition",
    "Rep outcomes; the first completes the SLA wait. Reassignments a person asks for",
    # The state machine: a lead worked already is reassigned by a new execution.
    settings=(*BASE_SETTINGS, REPS, DISPOSITIONS, SECRETS, STATE_MACHINE, CRM_SYNC_QUEUE),
)
# Overlapping sweeps are safe: a resumed execution's name is deterministic (lead_id-r<n>), so
# a second sweep resuming the same lead is refused by Step Functions, not run twice. It also takes
# the follow-up cadence's steps: a reminder with signed outcome links, or the no_response recycle
# (a disposition that frees the rep's slot and writes the status back to the CRM).
SLA_CHECK = FunctionSpec(
    "sla_check",
    "Scheduled sweep of overdue and stuck handoffs, and follow-ups due",
    timeout_seconds=60,
    settings=(
        *BASE_SETTINGS, STATE_MACHINE, *PACED_EMAIL_SETTINGS, REPS, DISPOSITIONS, SECRETS, PUBLIC_BASE_URL,
        CRM_SYNC_QUEUE,
    ),
    asynchronous=True,
)  # fmt: skip
SES_EVENTS = FunctionSpec(
    "ses_events", "Bounces and complaints: escalate the handoff at once", asynchronous=True
)
# Reads a month of leads and fits the signal model: more time and memory than a handoff step.
TUNING = FunctionSpec(
    "tuning",
    "Monthly KPIs and proposed config changes for RevOps",
    # Sized from B8: one pass, about 0.3 GB peak RSS at 1M leads, so memory never binds; 1,769 MB
    # buys one full vCPU, and the job is CPU-bound (about 0.4 ms a lead read from the table, plus
    # the reads' wait). 15 minutes is Lambda's ceiling: about 1.2M leads a window (docs/deploy.md
    # section 10); past it, the job moves to Athena on a table export.
    timeout_seconds=900,
    memory_mb=1769,
    settings=(*BASE_SETTINGS, *EMAIL_SETTINGS),
    optional_settings=(REPORTS_BUCKET,),
    asynchronous=True,
)

# Its own retried step: a CRM outage delays the write-back, never the handoff.
CRM_SYNC = FunctionSpec(
    "crm_sync",
    "CRM write-back: owner, lead status and the owner's task to HubSpot or Salesforce",
    timeout_seconds=30,
    settings=(*BASE_SETTINGS, REPS, SECRETS, IDEMPOTENCY),
    # The public URL signs the owner's task's outcome link; without one the task carries none.
    optional_settings=(HUBSPOT_API, SALESFORCE_LOGIN, PUBLIC_BASE_URL),
)
# The ops console (docs/console.md): server-rendered pages for RevOps and sales managers under
# /console/. Every page but sign-in sits behind CONSOLE_AUTH, a Lambda REQUEST authorizer that
# checks the session cookie against Cognito; a manager sees and changes only their team.
CONSOLE = FunctionSpec(
    "console",
    "The ops console: now-queue, lead pages, reps, routing what-if and results",
    timeout_seconds=29,
    memory_mb=512,
    settings=(
        *BASE_SETTINGS,
        REPS,
        ACCOUNTS,
        DISPOSITIONS,
        SECRETS,
        STATE_MACHINE,
        USER_POOL,
        USER_POOL_CLIENT,
    ),
    optional_settings=(REPORTS_BUCKET, PUBLIC_BASE_URL),
)
CONSOLE_AUTH = FunctionSpec(
    "console_auth",
    "The console's authorizer: the session cookie checked against Cognito",
    settings=(USER_POOL, USER_POOL_CLIENT),
)

# A write-back message is tried this many times (each with its own HTTP retries) before the
# dead-letter queue, which alarms.
CRM_SYNC_MAX_RECEIVES = 5

ALL_FUNCTIONS = (
    QUALIFY, API, ROUTE, NOTIFY, AWAIT_TOUCH, MARK_FAILED, DISPOSITION, SLA_CHECK, SES_EVENTS, TUNING,
    CRM_SYNC, CONSOLE, CONSOLE_AUTH,
)  # fmt: skip


@dataclass(frozen=True)
class Route:
    method: str
    path: str  # API Gateway resource path, {param} style
    function: FunctionSpec
    api_key: bool = False
    # The request model API Gateway checks an application/json body against (None: no model;
    # Salesforce posts SOAP and the link page posts a form).
    body_model: dict[str, Any] | None = None
    # The method's own throttle (handoff.deploy.gateway): CDK sets it on the stage, and the
    # local front applies the same bucket.
    throttle: Throttle = OPS_THROTTLE
    # Behind the console's session authorizer (CONSOLE_AUTH): no valid session, no function call.
    session: bool = False

    @property
    def method_key(self) -> str:
        """The stage's method-settings key for this route: "/resource/path/METHOD"."""
        return f"{self.path}/{self.method}"


ROUTES = (
    Route("GET", "/health", API),
    Route("GET", "/openapi.json", API),
    Route("POST", "/webhooks/generic", QUALIFY, body_model=JSON_OBJECT, throttle=WEBHOOK_THROTTLE),
    Route("POST", "/webhooks/hubspot", QUALIFY, body_model=JSON_OBJECT_OR_ARRAY, throttle=WEBHOOK_THROTTLE),
    Route("POST", "/webhooks/hubspot/activity", QUALIFY, body_model=JSON_OBJECT, throttle=WEBHOOK_THROTTLE),
    Route("POST", "/webhooks/salesforce", QUALIFY, throttle=WEBHOOK_THROTTLE),
    Route("GET", "/leads", API, api_key=True),
    Route("GET", "/leads/{lead_id}", API, api_key=True),
    Route("GET", "/reps", API, api_key=True),
    Route("POST", "/leads/{lead_id}/disposition", DISPOSITION, api_key=True, body_model=JSON_OBJECT),
    Route("POST", "/leads/{lead_id}/reassign", DISPOSITION, api_key=True, body_model=JSON_OBJECT),
    Route("GET", "/d/{token}", DISPOSITION, throttle=LINK_THROTTLE),
    Route("POST", "/d/{token}", DISPOSITION, throttle=LINK_THROTTLE),
    # The ops console (docs/console.md): sign-in is public; every other page needs a session.
    Route("GET", "/console/login", CONSOLE, throttle=CONSOLE_THROTTLE),
    Route("POST", "/console/login", CONSOLE, throttle=CONSOLE_THROTTLE),
    *(
        Route(method, path, CONSOLE, throttle=CONSOLE_THROTTLE, session=True)
        for method, path in (
            ("POST", "/console/logout"),
            ("GET", "/console"),
            ("GET", "/console/leads/{lead_id}"),
            ("POST", "/console/leads/{lead_id}/reassign"),
            ("POST", "/console/leads/{lead_id}/outcome"),
            ("POST", "/console/leads/{lead_id}/redrive"),
            ("GET", "/console/reps"),
            ("POST", "/console/reps/{rep_id}"),
            ("GET", "/console/route"),
            ("POST", "/console/route"),
            ("GET", "/console/results"),
            ("GET", "/console/results/proposals.diff"),
        )
    ),
)

# How often the sla_check schedule runs in AWS.
SLA_CHECK_EVERY_MINUTES = 5
# The tuning job: 06:00 UTC on the first day of each month.
TUNING_SCHEDULE = {"minute": "0", "hour": "6", "day": "1", "month": "*", "year": "*"}
