"""Every Lambda function and every HTTP route, defined once.

CDK builds functions, state-machine substitutions and API resources from this;
the local stack dispatches Lambda invocations and HTTP requests with it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
FUNCTIONS_DIR = REPO_ROOT / "functions"
ASL_PATH = REPO_ROOT / "infra" / "statemachine" / "handoff.asl.json"


@dataclass(frozen=True)
class FunctionSpec:
    key: str  # folder under functions/, and the base of the deployed name
    description: str
    asl_placeholder: str | None = None  # ${...} substitution in the ASL file
    timeout_seconds: int = 10
    # Sized from `make bench` (B2): every function peaks under 100 MB, so memory buys CPU here,
    # not room. 256 MB is the floor; qualify gets 512 MB because a CRM waits on its answer.
    memory_mb: int = 256
    # Set where running two at once would do harm.
    reserved_concurrency: int | None = None

    @property
    def module(self) -> str:
        return f"functions.{self.key}.app"

    @property
    def path(self) -> Path:
        return FUNCTIONS_DIR / self.key


# 29 s is API Gateway's integration limit; HubSpot event batches read the CRM API per event.
QUALIFY = FunctionSpec(
    "qualify", "CRM webhooks: verify, parse, qualify, start the handoff", timeout_seconds=29, memory_mb=512
)
ROUTE = FunctionSpec("route", "Workflow step: pick the rep and start the SLA clock", "RouteFunctionArn")
NOTIFY = FunctionSpec("notify", "Workflow step: email the brief or the escalation", "NotifyFunctionArn")
AWAIT_TOUCH = FunctionSpec(
    "await_touch",
    "Workflow step: park the task token until the first touch",
    "AwaitTouchFunctionArn",
)
MARK_FAILED = FunctionSpec(
    "mark_failed", "Workflow catch: mark the lead failed, visibly", "MarkFailedFunctionArn"
)
DISPOSITION = FunctionSpec("disposition", "Rep outcomes; the first completes the SLA wait")
# One sweep at a time: two overlapping sweeps could resume the same stuck lead twice.
SLA_CHECK = FunctionSpec(
    "sla_check", "Scheduled sweep of overdue and stuck handoffs", timeout_seconds=60, reserved_concurrency=1
)
SES_EVENTS = FunctionSpec("ses_events", "Bounces and complaints: escalate the handoff at once")
# Reads a month of leads and fits the signal model: more time and memory than a handoff step.
TUNING = FunctionSpec(
    "tuning", "Monthly KPIs and proposed config changes for RevOps", timeout_seconds=300, memory_mb=1024
)

# Its own retried step: a CRM outage delays the write-back, never the handoff.
CRM_SYNC = FunctionSpec(
    "crm_sync", "CRM write-back: owner and lead status to HubSpot or Salesforce", timeout_seconds=30
)
# A write-back message is tried this many times (each with its own HTTP retries) before the
# dead-letter queue, which alarms.
CRM_SYNC_MAX_RECEIVES = 5

ALL_FUNCTIONS = (
    QUALIFY, ROUTE, NOTIFY, AWAIT_TOUCH, MARK_FAILED, DISPOSITION, SLA_CHECK, SES_EVENTS, TUNING, CRM_SYNC,
)  # fmt: skip


@dataclass(frozen=True)
class Route:
    method: str
    path: str  # API Gateway resource path, {param} style
    function: FunctionSpec
    api_key: bool = False


ROUTES = (
    Route("GET", "/health", QUALIFY),
    Route("GET", "/openapi.json", QUALIFY),
    Route("POST", "/webhooks/generic", QUALIFY),
    Route("POST", "/webhooks/hubspot", QUALIFY),
    Route("POST", "/webhooks/hubspot/activity", QUALIFY),
    Route("POST", "/webhooks/salesforce", QUALIFY),
    Route("GET", "/leads", QUALIFY, api_key=True),
    Route("GET", "/leads/{lead_id}", QUALIFY, api_key=True),
    Route("GET", "/reps", QUALIFY, api_key=True),
    Route("POST", "/leads/{lead_id}/disposition", DISPOSITION, api_key=True),
    Route("GET", "/d/{token}", DISPOSITION),
    Route("POST", "/d/{token}", DISPOSITION),
)

# How often the sla_check schedule runs in AWS.
SLA_CHECK_EVERY_MINUTES = 5
# The tuning job: 06:00 UTC on the first day of each month.
TUNING_SCHEDULE = {"minute": "0", "hour": "6", "day": "1", "month": "*", "year": "*"}
