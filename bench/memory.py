"""B2: peak RSS after init, and after 100 warm invocations, per function (goal: at most 100 MB).

Each function runs in its own fresh interpreter on moto. Functions whose events need a lead
mid-workflow are measured after init only; the warm figure covers the three that take
traffic on their own: qualify (webhooks), disposition (link clicks) and sla_check (the sweep).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

from handoff.deploy.functions import ALL_FUNCTIONS, REPO_ROOT

SCRIPT = r"""
import json, resource, sys, time
from moto import mock_aws
key, warm = sys.argv[1], int(sys.argv[2])
with mock_aws():
    from handoff.local import lambdas
    from handoff.local.provision import provision
    from handoff.deploy.credentials import ALL_SECRETS
    from handoff.deploy.functions import ALL_FUNCTIONS
    import os
    secrets = {s.env_var: "bench-" + s.name for s in ALL_SECRETS}
    stack = provision(secrets)
    # Every function's settings as the local stack sets them (one definition, not a copy here).
    os.environ.update(stack.environment(config_path="config/handoff.toml", public_base_url="https://handoff.bench"))
    if key == "baseline":  # moto and the provisioned resources, without any handler
        print(json.dumps({"init_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, "warm_mb": None}))
        sys.exit(0)
    spec = next(f for f in ALL_FUNCTIONS if f.key == key)
    handler = lambdas.load_handler(spec)
    init_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    if warm:
        from handoff.local.http_front import build_event, match
        from handoff.crm.signature import sign_generic
        body = open("examples/webhooks/generic/03-ebook-download-nurture.json", "rb").read()
        for i in range(warm):
            if key == "qualify":
                data = json.loads(body); data["event_id"] = f"mem-{i}"; raw = json.dumps(data).encode()
                headers = {"X-Handoff-Signature": sign_generic(secrets["HANDOFF_GENERIC_SECRET"], raw, int(time.time()))}
                route, params = match("POST", "/webhooks/generic")
                lambdas.invoke(spec, build_event(route, params=params, method="POST", raw_path="/webhooks/generic", headers=headers, body=raw))
            elif key == "disposition":
                route, params = match("GET", "/d/x")
                lambdas.invoke(spec, build_event(route, params=params, method="GET", raw_path="/d/not-a-token", headers={}, body=b""))
            else:
                lambdas.invoke(spec, {})
    warm_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({"init_mb": init_kb / 1024, "warm_mb": warm_kb / 1024 if warm else None}))
"""
WARM = {"qualify", "disposition", "sla_check"}
ENV = {
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_ACCESS_KEY_ID": "bench",
    "AWS_SECRET_ACCESS_KEY": "bench",
    "POWERTOOLS_SERVICE_NAME": "handoff",
    "POWERTOOLS_METRICS_NAMESPACE": "Handoff",
    "POWERTOOLS_TRACE_DISABLED": "true",
    "POWERTOOLS_METRICS_DISABLED": "true",
    "POWERTOOLS_LOG_LEVEL": "ERROR",
}


def _measure(key: str, warm: int) -> dict[str, float | None]:
    out = subprocess.run(  # noqa: S603
        [sys.executable, "-c", SCRIPT, key, str(warm)],
        capture_output=True, text=True, check=True, cwd=REPO_ROOT,
        env={**os.environ, **ENV, "PYTHONPATH": str(REPO_ROOT)},
    )  # fmt: skip
    figures: dict[str, float | None] = json.loads(out.stdout.strip().splitlines()[-1])
    return figures


def run() -> dict[str, object]:
    """Peak RSS per function, and the emulator's own share (moto in the same process) to subtract:
    in Lambda there is no moto, so "own" is the estimate that matters."""
    baseline = float(_measure("baseline", 0)["init_mb"] or 0)
    rows = []
    for spec in ALL_FUNCTIONS:
        figures = _measure(spec.key, 100 if spec.key in WARM else 0)
        rows.append({"function": spec.key, **figures})
    return {"baseline_mb": baseline, "rows": rows}
