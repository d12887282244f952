"""B6: what 1,000 handed-off leads cost on AWS, from two inputs.

(a) The synthesized template: each function's memory, architecture and log level, the tables'
billing mode and indexes, the workflow type, the API's access-log format.
(b) A metered run on the local stack (bench.meter): state transitions from each execution's
history, Lambda invocations and their duration, DynamoDB request units from item sizes, API
requests, emails, Secrets Manager calls, and the bytes the handlers log.

Two paths are measured: a lead its rep touches in time (brief, touch, done: the common case)
and a lead nobody touches (the whole escalation ladder down to re-nurture: the worst case).
"""

from __future__ import annotations

import json
import math
import re
import time
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Any, NamedTuple, TypedDict

from bench.local import LocalRun, local_stack, rep_rows, sample_lead, sla_everywhere
from bench.meter import Call, Index, Invocation, Meter, TableShape, counting_logs, metering
from bench.synth import Synth, synthesized
from handoff.aws.tables import ALL_TABLES, LEADS
from handoff.aws.workflow import execution_arn
from handoff.deploy.functions import ALL_FUNCTIONS
from handoff.local.provision import table_name

TOUCHED_LEADS = 20
LADDER_LEADS = 4
GOAL_USD = 0.50
# Lambda gives a function one vCPU at 1,769 MB and proportionally less below:
# https://docs.aws.amazon.com/lambda/latest/dg/configuration-memory.html
VCPU_MB = 1769
# The START, END and REPORT lines Lambda itself writes per invocation (about this many bytes).
PLATFORM_LOG_BYTES = 360
WAIT_SECONDS = 60.0


class Price(NamedTuple):
    usd: float
    per: int
    unit: str
    source: str


# us-east-1 list prices, without free tiers (the goal is the marginal cost of a lead).
# As of the latest change the model depends on: Lambda bills the INIT phase of ZIP functions on
# managed runtimes from 2025-08-01 (https://aws.amazon.com/blogs/compute/aws-lambda-standardizes-billing-for-init-phase/);
# DynamoDB on-demand prices were halved on 2024-11-01. Check the pages before quoting.
PRICES_AS_OF = "2025-08-01"
PRICES: dict[str, Price] = {
    "transition": Price(0.025, 1_000, "Step Functions Standard state transitions", "https://aws.amazon.com/step-functions/pricing/"),
    "gb_s_arm64": Price(0.0000133334, 1, "Lambda GB-seconds, arm64", "https://aws.amazon.com/lambda/pricing/"),
    "gb_s_x86_64": Price(0.0000166667, 1, "Lambda GB-seconds, x86_64", "https://aws.amazon.com/lambda/pricing/"),
    "invocation": Price(0.20, 1_000_000, "Lambda requests", "https://aws.amazon.com/lambda/pricing/"),
    "write_unit": Price(0.625, 1_000_000, "DynamoDB on-demand write request units", "https://aws.amazon.com/dynamodb/pricing/on-demand/"),
    "read_unit": Price(0.125, 1_000_000, "DynamoDB on-demand read request units", "https://aws.amazon.com/dynamodb/pricing/on-demand/"),
    "api_request": Price(3.50, 1_000_000, "API Gateway REST requests (first 333 million)", "https://aws.amazon.com/api-gateway/pricing/"),
    "email": Price(0.10, 1_000, "SES outbound emails", "https://aws.amazon.com/ses/pricing/"),
    "sqs_request": Price(0.40, 1_000_000, "SQS standard queue requests", "https://aws.amazon.com/sqs/pricing/"),
    "secret_call": Price(0.05, 10_000, "Secrets Manager API calls", "https://aws.amazon.com/secrets-manager/pricing/"),
    "log_gb": Price(0.50, 1, "CloudWatch Logs GB ingested (standard class)", "https://aws.amazon.com/cloudwatch/pricing/"),
    "trace": Price(5.00, 1_000_000, "X-Ray traces recorded", "https://aws.amazon.com/xray/pricing/"),
}  # fmt: skip
EXCLUDED = [
    "Free tiers (Step Functions 4,000 transitions/month, Lambda 1M requests and 400,000 GB-s/month, ...).",
    "Fixed monthly costs that do not grow with leads: Secrets Manager at $0.40 per secret, CloudWatch "
    "alarms, dashboard and custom metrics, and the sla_check schedule (every 5 minutes, leads or not).",
    "Storage: DynamoDB at $0.25 per GB-month plus point-in-time recovery, and log retention; a lead "
    "record is a few KB.",
    "Data transfer out, and DynamoDB's 100-byte index overhead per item.",
    "The SQS event source's own polling of its queue, which runs whether or not leads arrive.",
]
# Services the lines price; Step Functions API calls are free (Standard bills transitions).
PRICED_SERVICES = {"dynamodb", "sesv2", "ses", "sqs", "secretsmanager", "stepfunctions"}
# Sample widths of API Gateway's $context variables, to size one access-log line.
CONTEXT_WIDTHS = {"requestId": 36, "identity.sourceIp": 15, "requestTime": 26, "httpMethod": 4, "status": 3}


@dataclass(frozen=True)
class Deployed:
    memory_mb: dict[str, int]
    architecture: dict[str, str]
    log_level: str
    tables: dict[str, TableShape]  # by the local stack's table name
    workflow_type: str
    access_log_bytes: int  # one API access-log line


class CostLine(TypedDict):
    item: str
    quantity: float  # per 1,000 leads
    unit: str
    usd: float  # per 1,000 leads
    basis: str  # measured | estimated | worst case


class FunctionUse(TypedDict):
    function: str
    memory_mb: int
    per_lead: float
    wall_ms: float
    cpu_ms: float
    billed_ms: float
    calls: dict[str, float]  # AWS calls per invocation, by service


class Scenario(TypedDict):
    name: str
    leads: int
    transitions: float  # per lead
    functions: list[FunctionUse]
    lines: list[CostLine]
    total_usd: float  # measured and estimated lines
    unmetered: int
    unpriced: list[str]  # services the handlers called that no line prices
    all_cold_usd: float  # plus every invocation a cold start


class CostResult(TypedDict):
    prices_as_of: str
    prices: dict[str, Price]
    goal_usd: float
    workflow_type: str
    scenarios: list[Scenario]
    excluded: list[str]


# --- (a) the template ------------------------------------------------------------------------


def _functions(synth: Synth) -> dict[str, dict[str, Any]]:
    """Our functions' properties by key, matched through their code asset (CDK's own helper
    functions, if any, are left out)."""
    keys = {spec.key for spec in ALL_FUNCTIONS}
    found = {}
    for resource in synth.resources("AWS::Lambda::Function").values():
        s3_key = resource["Properties"].get("Code", {}).get("S3Key")
        name = synth.asset_names.get(s3_key, "") if isinstance(s3_key, str) else ""
        if name.count("/") == 2 and name.split("/")[1] in keys:
            found[name.split("/")[1]] = resource["Properties"]
    return found


def _tables(synth: Synth) -> dict[str, TableShape]:
    shapes = {}
    for resource in synth.resources("AWS::DynamoDB::Table").values():
        props = resource["Properties"]
        if props.get("BillingMode") != "PAY_PER_REQUEST":
            raise ValueError("a table is not on-demand: this model prices on-demand request units")
        keys = tuple(k["AttributeName"] for k in props["KeySchema"])
        spec = next(s for s in ALL_TABLES if (s.partition_key, *filter(None, [s.sort_key])) == keys)
        indexes = tuple(
            Index(
                name=g["IndexName"],
                keys=tuple(k["AttributeName"] for k in g["KeySchema"]),
                projection=g["Projection"]["ProjectionType"],
                included=tuple(g["Projection"].get("NonKeyAttributes", [])),
            )
            for g in props.get("GlobalSecondaryIndexes", [])
        )
        shapes[table_name(spec)] = TableShape(keys=keys, indexes=indexes)
    return shapes


def _access_log_bytes(synth: Synth) -> int:
    stages = synth.resources("AWS::ApiGateway::Stage").values()
    formats = [s["Properties"].get("AccessLogSetting", {}).get("Format", "") for s in stages]
    line = next((f for f in formats if f), "")
    return len(re.sub(r"\$context\.([\w.]+)", lambda m: "x" * CONTEXT_WIDTHS.get(m.group(1), 16), line))


def deployed(synth: Synth) -> Deployed:
    functions = _functions(synth)
    machines = list(synth.resources("AWS::StepFunctions::StateMachine").values())
    # Every function gets the same environment; the qualify function's stands for all.
    environment = functions["qualify"].get("Environment", {}).get("Variables", {})
    return Deployed(
        memory_mb={k: int(p.get("MemorySize", 128)) for k, p in functions.items()},
        architecture={k: p.get("Architectures", ["x86_64"])[0] for k, p in functions.items()},
        log_level=str(environment.get("POWERTOOLS_LOG_LEVEL", "INFO")),
        tables=_tables(synth),
        workflow_type=machines[0]["Properties"].get("StateMachineType", "STANDARD"),
        access_log_bytes=_access_log_bytes(synth),
    )


# --- (b) the metered runs --------------------------------------------------------------------


@dataclass
class Measured:
    leads: int
    invocations: list[Invocation]
    calls: list[Call]
    transitions: int
    workflow_log_bytes: int
    handler_log_bytes: int
    # Secrets fetched by the warm-up lead: what every lead costs when each container is cold
    # (locally one process shares the five-minute cache that each Lambda container has alone).
    cold_secret_calls: int
    unmetered: int  # AWS calls the meter could not size (should be none)


def _until(check: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + WAIT_SECONDS
    while not check():
        if time.monotonic() > deadline:
            raise TimeoutError(f"{what} took over {WAIT_SECONDS:.0f} s")
        time.sleep(0.05)


def _execution_arn(local: LocalRun, lead_id: str) -> str:
    return execution_arn(local.stack.state_machine_arn, lead_id)


def _finished(local: LocalRun, lead_id: str) -> bool:
    status = local.aws("stepfunctions").describe_execution(executionArn=_execution_arn(local, lead_id))[
        "status"
    ]
    return str(status) != "RUNNING"


def _parked(local: LocalRun, lead_id: str) -> bool:
    """The workflow waits on the rep: the task token is stored beside the lead."""
    item = local.aws("dynamodb").get_item(
        TableName=table_name(LEADS), Key={"lead_id": {"S": lead_id}}, ConsistentRead=True
    )
    return "task_token" in item.get("Item", {})


def _touched(local: LocalRun, index: int) -> str:
    """One lead briefed, then touched by its rep through the API once the workflow waits."""
    lead_id = str(local.client.post_generic(sample_lead(index, "touched")).body["lead_id"])
    _until(partial(_parked, local, lead_id), "the brief")
    local.client.dispose(lead_id, "connected")
    _until(partial(_finished, local, lead_id), "closing the handoff")
    return lead_id


def _untouched(local: LocalRun, indexes: range) -> list[str]:
    """Leads nobody touches: every SLA and grace period lapses, down to re-nurture."""
    lead_ids = [str(local.client.post_generic(sample_lead(i, "ladder")).body["lead_id"]) for i in indexes]
    for lead_id in lead_ids:
        _until(partial(_finished, local, lead_id), "the escalation ladder")
    return lead_ids


def transitions(events: list[dict[str, Any]]) -> int:
    """Billed transitions: every state entered, plus every retry of a task."""
    entered = sum(1 for e in events if e["type"].endswith("StateEntered"))
    scheduled = sum(1 for e in events if e["type"] in {"TaskScheduled", "LambdaFunctionScheduled"})
    tasks = sum(1 for e in events if e["type"] == "TaskStateEntered")
    return entered + max(0, scheduled - tasks)


def _history(local: LocalRun, lead_id: str) -> list[dict[str, Any]]:
    pages = local.aws("stepfunctions").get_paginator("get_execution_history")
    return [e for page in pages.paginate(executionArn=_execution_arn(local, lead_id)) for e in page["events"]]


def _without_data(event: dict[str, Any]) -> dict[str, Any]:
    """A history event as the workflow's log has it: with IncludeExecutionData false, no input or output."""
    return {
        key: {k: v for k, v in value.items() if k not in {"input", "output"}}
        if isinstance(value, dict)
        else value
        for key, value in event.items()
    }


def _workflow_log_bytes(events: list[dict[str, Any]], arn: str) -> int:
    """The workflow logs every event (level ALL), each naming its execution."""
    return sum(len(json.dumps(_without_data(e), default=str)) + len(arn) for e in events)


def _measure(
    local: LocalRun, shape: Deployed, warm_up: Callable[[], object], run: Callable[[], list[str]]
) -> Measured:
    """Meter ``run``, after ``warm_up`` has put one lead through every handler it uses: first
    calls pay imports and client set-up, which are cold starts (B1's figures, priced apart)."""
    meter = Meter(tables=shape.tables, reader=local.aws("dynamodb"))
    with metering(meter), counting_logs(shape.log_level) as logs:
        warm_up()
        cold_secret_calls = sum(1 for c in meter.calls if c.service == "secretsmanager")
        meter.clear()
        logs.clear()
        lead_ids = run()
    histories = {lead_id: _history(local, lead_id) for lead_id in lead_ids}
    return Measured(
        leads=len(lead_ids),
        invocations=list(meter.invocations),
        calls=list(meter.calls),
        transitions=sum(transitions(h) for h in histories.values()),
        workflow_log_bytes=sum(
            _workflow_log_bytes(h, _execution_arn(local, i)) for i, h in histories.items()
        ),
        handler_log_bytes=logs.bytes,
        cold_secret_calls=cold_secret_calls,
        unmetered=meter.unmetered,
    )


# --- the model -------------------------------------------------------------------------------


def billed_ms(wall_ms: float, cpu_ms: float, memory_mb: int) -> int:
    """Projected billed duration: the handler's own CPU slowed to the share of a vCPU its memory
    buys, plus the time it waited on AWS (moto's, here), rounded up to the millisecond."""
    return math.ceil(cpu_ms * max(1.0, VCPU_MB / memory_mb) + max(0.0, wall_ms - cpu_ms))


def _function_use(measured: Measured, shape: Deployed) -> list[FunctionUse]:
    by_function: dict[str, list[Invocation]] = defaultdict(list)
    for invocation in measured.invocations:
        by_function[invocation.function].append(invocation)
    calls: dict[str, Counter[str]] = defaultdict(Counter)
    for call in measured.calls:
        calls[call.function][call.service] += 1
    uses = []
    for spec in ALL_FUNCTIONS:
        runs = by_function.get(spec.key, [])
        if not runs:
            continue
        memory = shape.memory_mb[spec.key]
        uses.append(
            FunctionUse(
                function=spec.key,
                memory_mb=memory,
                per_lead=len(runs) / measured.leads,
                wall_ms=1000 * sum(r.wall_s for r in runs) / len(runs),
                cpu_ms=1000 * sum(r.cpu_s for r in runs) / len(runs),
                billed_ms=sum(billed_ms(r.wall_s * 1000, r.cpu_s * 1000, memory) for r in runs) / len(runs),
                calls={service: n / len(runs) for service, n in sorted(calls[spec.key].items())},
            )
        )
    return uses


def _line(item: str, price: str, quantity: float, basis: str = "measured") -> CostLine:
    """A cost line per 1,000 leads; ``quantity`` is already per 1,000 leads."""
    rate = PRICES[price]
    return CostLine(
        item=item, quantity=quantity, unit=rate.unit, usd=quantity * rate.usd / rate.per, basis=basis
    )


def _lambda_lines(
    uses: list[FunctionUse], shape: Deployed, cold_init_ms: dict[str, float] | None
) -> list[CostLine]:
    def gb_s(ms_of: Callable[[FunctionUse], float]) -> dict[str, float]:
        """GB-seconds per 1,000 leads, by architecture."""
        totals: dict[str, float] = defaultdict(float)
        for use in uses:
            seconds = use["per_lead"] * ms_of(use)  # 1,000 leads x per_lead x ms / 1,000
            totals[shape.architecture[use["function"]]] += seconds * use["memory_mb"] / 1024
        return dict(totals)

    lines = [_line("Lambda requests", "invocation", 1000 * sum(u["per_lead"] for u in uses))]
    lines += [
        _line(f"Lambda duration ({arch})", f"gb_s_{arch}", q)
        for arch, q in gb_s(lambda u: u["billed_ms"]).items()
    ]
    if cold_init_ms:
        # INIT runs the same imports B1 timed on a full core; slowed to the function's vCPU share.
        init = gb_s(lambda u: cold_init_ms.get(u["function"], 0.0) * max(1.0, VCPU_MB / u["memory_mb"]))
        lines += [
            _line(f"Lambda INIT, every invocation cold ({arch})", f"gb_s_{arch}", q, "worst case")
            for arch, q in init.items()
        ]
    return lines


def _lines(
    measured: Measured, uses: list[FunctionUse], shape: Deployed, cold_init_ms: dict[str, float] | None
) -> list[CostLine]:
    per_1000 = 1000 / measured.leads
    calls = Counter((c.service, c.operation) for c in measured.calls)
    api = sum(1 for i in measured.invocations if i.api)
    invocations = len(measured.invocations)
    log_bytes = (
        measured.handler_log_bytes
        + invocations * PLATFORM_LOG_BYTES
        + measured.workflow_log_bytes
        + api * shape.access_log_bytes
    )
    return [
        _line("Step Functions transitions", "transition", measured.transitions * per_1000),
        *_lambda_lines(uses, shape, cold_init_ms),
        _line("DynamoDB writes", "write_unit", sum(c.write_units for c in measured.calls) * per_1000),
        _line("DynamoDB reads", "read_unit", sum(c.read_units for c in measured.calls) * per_1000),
        _line("API Gateway requests", "api_request", api * per_1000),
        _line("SES emails", "email", (calls["sesv2", "SendEmail"] + calls["ses", "SendRawEmail"]) * per_1000),
        _line(
            "SQS requests",
            "sqs_request",
            sum(n for (service, _), n in calls.items() if service == "sqs") * per_1000,
        ),
        _line("Secrets Manager calls", "secret_call", calls["secretsmanager", "GetSecretValue"] * per_1000),
        _line(
            "Secrets Manager calls, every container cold",
            "secret_call",
            measured.cold_secret_calls * 1000,
            "worst case",
        ),
        _line("CloudWatch Logs", "log_gb", log_bytes * per_1000 / 2**30, "estimated"),
        # Each API request starts a trace that the workflow it starts joins.
        _line("X-Ray traces", "trace", api * per_1000, "estimated"),
    ]


def _scenario(
    name: str, measured: Measured, shape: Deployed, cold_init_ms: dict[str, float] | None
) -> Scenario:
    uses = _function_use(measured, shape)
    lines = _lines(measured, uses, shape, cold_init_ms)
    usual = sum(line["usd"] for line in lines if line["basis"] != "worst case")
    return Scenario(
        name=name,
        leads=measured.leads,
        transitions=measured.transitions / measured.leads,
        functions=uses,
        lines=lines,
        total_usd=usual,
        all_cold_usd=sum(line["usd"] for line in lines),
        unmetered=measured.unmetered,
        unpriced=sorted({c.service for c in measured.calls} - PRICED_SERVICES),
    )


def _reps() -> str:
    # Two reps, so the ladder's reassignment has somewhere to go; capacity never binds.
    return rep_rows({"rep-a": ("sales", 1, 10_000), "rep-b": ("sales", 1, 10_000)})


def run(cold_init_ms: dict[str, float] | None = None) -> CostResult:
    """``cold_init_ms``: B1's cold start per function, for the every-invocation-cold line."""
    with synthesized() as synth:
        shape = deployed(synth)
    with local_stack(_reps()) as local:
        touched = _measure(
            local,
            shape,
            lambda: _touched(local, 0),
            lambda: [_touched(local, i + 1) for i in range(TOUCHED_LEADS)],
        )
    # Every SLA and grace period one second long, so the whole ladder runs in seconds, counted on
    # the wall clock: in working hours a run after the reps' day (or at a weekend) waited for
    # their next working moment, and timed out.
    ladder_settings = {
        **sla_everywhere(1),
        "escalation": {"reminder_grace_seconds": 1, "sla_in_working_hours": False},
    }
    with local_stack(_reps(), settings=ladder_settings) as local:
        ladder = _measure(
            local,
            shape,
            lambda: _untouched(local, range(1)),
            lambda: _untouched(local, range(1, LADDER_LEADS + 1)),
        )
    return CostResult(
        prices_as_of=PRICES_AS_OF,
        prices=PRICES,
        goal_usd=GOAL_USD,
        workflow_type=shape.workflow_type,
        scenarios=[
            _scenario("touched in time: brief, first touch via the API, done", touched, shape, cold_init_ms),
            _scenario(
                "never touched: remind, escalate, reassign, again, re-nurture", ladder, shape, cold_init_ms
            ),
        ],
        excluded=EXCLUDED,
    )
