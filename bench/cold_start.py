"""B1: import-and-initialise time of each handler in a fresh interpreter, as a ratio to the floor
`import boto3; boto3.client("dynamodb")` measured in the same run (median of N)."""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
from pathlib import Path

from handoff.deploy.functions import ALL_FUNCTIONS, REPO_ROOT, FunctionSpec
from handoff.deploy.settings import Settings, environment

RUNS = 10
LAMBDA_ENV = {
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_ACCESS_KEY_ID": "bench",
    "AWS_SECRET_ACCESS_KEY": "bench",
    "HANDOFF_LEADS_TABLE": "leads",
    "HANDOFF_REPS_TABLE": "reps",
    "HANDOFF_CONFIG_PATH": str(REPO_ROOT / "config" / "handoff.toml"),
    "POWERTOOLS_SERVICE_NAME": "handoff",
    "POWERTOOLS_METRICS_NAMESPACE": "Handoff",
    # Tracing stays on, as deployed: Tracer loads the X-Ray SDK and patches botocore at init.
}
FLOOR = "import boto3; boto3.client('dynamodb')"
# A value for every setting: each handler gets the variables its spec deploys with, as in Lambda.
SETTING_VALUES = {
    **{name: str(field.default or "bench") for name, field in Settings.model_fields.items()},
    "config_path": LAMBDA_ENV["HANDOFF_CONFIG_PATH"],
    "state_machine_arn": "arn:aws:states:us-east-1:123456789012:stateMachine:handoff",
    "public_base_url": "https://handoff.example.com",
}
TIMER = "import time; _t = time.perf_counter(); {code}; print(time.perf_counter() - _t)"


def _once(code: str, function: FunctionSpec | None = None) -> float:
    env = {**os.environ, **LAMBDA_ENV, "PYTHONPATH": str(REPO_ROOT)}
    env.pop("POWERTOOLS_TRACE_DISABLED", None)
    # Any value, "0" included, stops Python writing bytecode; then every run would compile
    # every module, which no deployed function does twice.
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    if function is not None:
        # What Lambda sets: the X-Ray SDK reads LAMBDA_TASK_ROOT to take its Lambda path, which
        # skips the centralized-sampling client it builds everywhere else (~100 ms here).
        env |= {"LAMBDA_TASK_ROOT": str(function.path), "AWS_LAMBDA_FUNCTION_NAME": f"handoff-{function.key}"}
        env |= environment(function, SETTING_VALUES)
    out = subprocess.run(  # noqa: S603
        [sys.executable, "-c", TIMER.format(code=code)],
        capture_output=True,
        text=True,
        env=env,
        check=True,
        cwd=Path(REPO_ROOT),
    )
    return float(out.stdout.strip().splitlines()[-1])


def median_seconds(code: str, function: FunctionSpec | None = None, runs: int = RUNS) -> float:
    _once(
        code, function
    )  # warm the bytecode cache, as a deployed layer ships .pyc-free but the OS caches files
    return statistics.median(_once(code, function) for _ in range(runs))


def run() -> list[dict[str, object]]:
    floor = median_seconds(FLOOR)
    rows: list[dict[str, object]] = [
        {"what": "floor: boto3 + a DynamoDB client", "ms": floor * 1000, "ratio": 1.0}
    ]
    for spec in ALL_FUNCTIONS:
        # Initialise as Lambda would: import the module and touch the handler.
        seconds = median_seconds(f"import {spec.module} as m; m.handler", spec)
        rows.append({"what": spec.key, "ms": seconds * 1000, "ratio": seconds / floor})
    return rows
