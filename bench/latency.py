"""The projected AWS latency of one handoff, webhook to brief, step by step. Not measured on AWS
(there is no account here): each AWS call costs a per-call latency that AWS documents or that is
an assumption stated as one; the Lambdas' own CPU is B6's, slowed to their vCPU share; cold init
is B1's, slowed the same way. Set against how fast leads are answered today."""

from __future__ import annotations

from typing import NamedTuple, TypedDict

from bench.cost import VCPU_MB, CostResult, FunctionUse

# The functions between the webhook and the brief, in order; the workflow enters this many
# states on the way (Start, Route, Notify).
PATH = ("qualify", "route", "notify")
TRANSITIONS_TO_BRIEF = 3
HBR_HOURS = 42.0
HBR = (
    'Oldroyd, McElheran and Elkington, "The Short Life of Online Sales Leads", Harvard Business '
    "Review, March 2011 (https://hbr.org/2011/03/the-short-life-of-online-sales-leads): 2,241 US "
    "companies audited; the average first response, among those that answered within 30 days, was "
    "42 hours, and 23% never answered"
)


class Step(NamedTuple):
    ms: float
    what: str
    source: str


STEPS = {
    "api_gateway": Step(15, "API Gateway REST overhead (Latency minus IntegrationLatency); assumed, AWS publishes no figure", "https://docs.aws.amazon.com/apigateway/latest/developerguide/api-gateway-metrics-and-dimensions.html"),
    "dynamodb": Step(5, "DynamoDB request: single-digit milliseconds", "https://aws.amazon.com/dynamodb/"),
    "sesv2": Step(80, "SES SendEmail call (accepted for delivery; the inbox is seconds later); assumed", "https://docs.aws.amazon.com/ses/latest/APIReference-V2/API_SendEmail.html"),
    "stepfunctions": Step(30, "Step Functions API call (StartExecution); assumed", "https://docs.aws.amazon.com/step-functions/latest/apireference/API_StartExecution.html"),
    "sqs": Step(10, "SQS SendMessage; assumed", "https://docs.aws.amazon.com/AWSSimpleQueueService/latest/APIReference/API_SendMessage.html"),
    "secretsmanager": Step(30, "Secrets Manager GetSecretValue, on a cold container only; assumed", "https://docs.aws.amazon.com/secretsmanager/latest/apireference/API_GetSecretValue.html"),
    "transition": Step(50, "Standard workflow state transition, including the Lambda invoke; assumed, AWS publishes no figure", "https://docs.aws.amazon.com/step-functions/latest/dg/choosing-workflow-type.html"),
    "lambda_cpu": Step(0, "Lambda: the handler's CPU at its memory's vCPU share (1,769 MB = 1 vCPU)", "https://docs.aws.amazon.com/lambda/latest/dg/configuration-memory.html"),
    "lambda_init": Step(0, "Lambda cold start: INIT (B1's import and set-up) at the same share", "https://docs.aws.amazon.com/lambda/latest/dg/lambda-runtime-environment.html"),
}  # fmt: skip


class BudgetRow(TypedDict):
    step: str
    warm_ms: float
    cold_ms: float  # the extra a cold container adds


class Budget(TypedDict):
    rows: list[BudgetRow]
    warm_ms: float
    cold_ms: float  # every function on the path cold
    hbr_hours: float
    anchor: str
    steps: dict[str, Step]


def _scale(use: FunctionUse) -> float:
    return max(1.0, VCPU_MB / use["memory_mb"])


def _function_row(use: FunctionUse, init_ms: float) -> BudgetRow:
    calls = {s: n for s, n in use["calls"].items() if s != "secretsmanager"}
    waits = sum(n * STEPS[s].ms for s, n in calls.items() if s in STEPS)
    cold = init_ms * _scale(use) + STEPS["secretsmanager"].ms  # a cold container also fetches its secret
    described = ", ".join(f"{n:g} {s}" for s, n in calls.items())
    return BudgetRow(
        step=f"{use['function']} Lambda ({use['memory_mb']} MB): CPU + {described or 'no AWS calls'}",
        warm_ms=use["cpu_ms"] * _scale(use) + waits,
        cold_ms=cold,
    )


def run(costs: CostResult, cold_init_ms: dict[str, float]) -> Budget:
    """``costs``: B6's result (its touched-in-time path); ``cold_init_ms``: B1's, by function."""
    uses = {u["function"]: u for u in costs["scenarios"][0]["functions"]}
    rows = [BudgetRow(step=STEPS["api_gateway"].what, warm_ms=STEPS["api_gateway"].ms, cold_ms=0.0)]
    rows += [_function_row(uses[f], cold_init_ms.get(f, 0.0)) for f in PATH if f in uses]
    rows.append(
        BudgetRow(
            step=f"{TRANSITIONS_TO_BRIEF} state transitions to the brief (Start, Route, Notify)",
            warm_ms=TRANSITIONS_TO_BRIEF * STEPS["transition"].ms,
            cold_ms=0.0,
        )
    )
    warm = sum(r["warm_ms"] for r in rows)
    return Budget(
        rows=rows,
        warm_ms=warm,
        cold_ms=warm + sum(r["cold_ms"] for r in rows),
        hbr_hours=HBR_HOURS,
        anchor=HBR,
        steps=STEPS,
    )
