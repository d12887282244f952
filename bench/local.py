"""The local stack for benchmarks: started with a given reps CSV, yielding a client, torn down clean.

Several benchmarks start a stack in one process. moto keeps its state in module globals, so
each run stops its executions and resets moto on the way out; otherwise the next stack's
tables would already exist and a parked execution would wake up (SLA timeout) inside it.
"""

from __future__ import annotations

import contextlib
import json
import re
import tempfile
import tomllib
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3

from handoff.config import load_config
from handoff.deploy.functions import REPO_ROOT
from handoff.local import lambdas
from handoff.local.client import HandoffClient
from handoff.local.stack import LocalOptions, LocalStack

REP_HEADER = "rep_id,email,manager_email,pools,weight,capacity\n"
# Long enough that no SLA lapses during a run: a lapse would remind, escalate and reassign,
# which measures the ladder instead of the handoff and moves leads between reps.
BENCH_SLA_SECONDS = 86_400
SAMPLE = REPO_ROOT / "examples" / "webhooks" / "generic"
SHIPPED_CONFIG = REPO_ROOT / "config" / "handoff.toml"
# Config overrides by table and key, e.g. {"escalation": {"reminder_grace_seconds": 1}}.
Settings = Mapping[str, Mapping[str, int | bool]]  # bool is an int too: written as TOML's true/false


@dataclass(frozen=True)
class LocalRun:
    stack: LocalStack
    client: HandoffClient
    outbox: Path
    _clients: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)

    def aws(self, service: str) -> Any:
        """The benchmark's own client of the stack's AWS endpoint, built once: polls call this
        often, and building clients would take CPU from the handlers being measured."""
        if service not in self._clients:
            self._clients[service] = boto3.session.Session().client(  # type: ignore[call-overload]
                service,
                endpoint_url=self.stack.aws_url,
                region_name=lambdas.REGION,
                aws_access_key_id="local",
                aws_secret_access_key="local",  # noqa: S106 - moto's fixed, fake credentials
            )
        return self._clients[service]

    def briefs_sent(self) -> int:
        """Emails in the outbox: the local SES writes one .eml per accepted message."""
        return sum(1 for _ in self.outbox.glob("*.eml"))


def rep_rows(reps: Mapping[str, tuple[str, float, int]]) -> str:
    """A reps CSV from {rep_id: (pools, weight, capacity)}; addresses are made up per rep."""
    return REP_HEADER + "".join(
        f"{rep},{rep}@example.com,boss@example.com,{pools},{weight:g},{capacity}\n"
        for rep, (pools, weight, capacity) in reps.items()
    )


def sample_lead(i: int, run: str, *, country: str = "US") -> dict[str, Any]:
    """examples' demo request (a hot, sales-ready lead) as a new event from a new contact.

    A new contact each time matters: a contact with an open handoff keeps its rep, which
    would take routing's weighted round robin out of the measurement.
    """
    body: dict[str, Any] = json.loads(next(SAMPLE.glob("01-*.json")).read_text())
    body["event_id"] = f"{run}-{i}"
    body["contact"]["email"] = f"buyer{i}.{run}@northwind.example"
    body["contact"]["country"] = body["company"]["country"] = country
    return body


def sla_everywhere(seconds: int) -> Settings:
    """Every tier's SLA set to ``seconds``, whatever tiers the shipped config names."""
    tiers = tomllib.loads(SHIPPED_CONFIG.read_text())["sla"]
    return {"sla": dict.fromkeys(tiers, seconds)}


def bench_config(text: str, settings: Settings) -> str:
    """The ops config with the given integer or boolean keys of its top-level tables replaced,
    e.g. {"sla": {"hot": 60}}. Only the text changes, so the config's comments and layout stay."""
    for table, values in settings.items():
        head, found, rest = text.partition(f"\n[{table}]\n")
        body, next_table, tail = rest.partition("\n[")
        for key, value in values.items():
            kind, pattern, written = (
                ("boolean", "true|false", str(value).lower())
                if isinstance(value, bool)
                else ("integer", r"\d+", str(value))
            )
            body, count = re.subn(
                rf"(?m)^(\s*{re.escape(key)}\s*=\s*)(?:{pattern})\b", rf"\g<1>{written}", body
            )
            if not found or count != 1:
                raise ValueError(f"the config has no {kind} {key} in [{table}]")
        text = f"{head}{found}{body}{next_table}{tail}"
    return text


def _write_config(path: Path, settings: Settings) -> None:
    path.write_text(bench_config(SHIPPED_CONFIG.read_text(), settings))
    written = tomllib.loads(path.read_text())
    if any(written[t][k] != v for t, values in settings.items() for k, v in values.items()):
        raise ValueError("the bench config did not take its settings")  # layout changed: stop, do not guess
    load_config(path)  # and it must still be a valid config


def _stop_executions(run: LocalRun) -> None:
    """Stop parked executions, which would otherwise wake up (an SLA timeout) in the next stack."""
    sfn = run.aws("stepfunctions")
    for page in sfn.get_paginator("list_executions").paginate(
        stateMachineArn=run.stack.state_machine_arn, statusFilter="RUNNING"
    ):
        for execution in page["executions"]:
            # moto cannot stop an execution caught between two states; it then ends by itself.
            with contextlib.suppress(Exception):
                sfn.stop_execution(executionArn=execution["executionArn"])


def _reset_moto() -> None:
    """Wipe moto's in-process state (what POST /moto-api/reset does), after the stack and its
    pollers have stopped, so the next stack starts from nothing."""
    from moto.moto_api._internal.models import moto_api_backend

    moto_api_backend.reset()


@contextmanager
def local_stack(
    reps_csv: str,
    *,
    settings: Settings | None = None,
    sla_check_every: float = 3600,
    dynamodb_extensions: tuple[str, ...] = (),
) -> Iterator[LocalRun]:
    """The whole system on loopback with these reps (no accounts, so ownership never routes).
    ``settings`` override config values; by default every SLA outlasts the run. sla_check runs
    every ``sla_check_every`` seconds (by default not within a run). ``dynamodb_extensions`` run
    in the stack's DynamoDB process (handoff.local.dynamodb_process)."""
    with tempfile.TemporaryDirectory() as scratch:
        reps, config = Path(scratch) / "reps.csv", Path(scratch) / "bench.toml"
        reps.write_text(reps_csv)
        _write_config(config, settings or sla_everywhere(BENCH_SLA_SECONDS))
        stack = LocalStack(
            LocalOptions.on_free_ports(
                config_path=config,
                reps_path=reps,
                accounts_path=None,
                outbox=Path(scratch) / "outbox",
                sla_check_every=sla_check_every,
                dynamodb_extensions=dynamodb_extensions,
            )
        )
        stack.start()
        run = LocalRun(
            stack, HandoffClient.for_secrets(stack.api_url, stack.secret_values), stack.options.outbox
        )
        try:
            yield run
        finally:
            try:
                _stop_executions(run)
            finally:
                stack.stop()
                _reset_moto()
