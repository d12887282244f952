"""The synthesized stack and the session's recorded AWS calls, shared by the grant tests."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from handoff.local import aws_calls
from handoff.local.aws_calls import AwsCall
from tests.conftest import RECORDED_TIERS, RECORDING, ROOT, TIERS_IN_SESSION
from tests.grants.iam import Frame, StackTemplate

# A tier run here because the session did not include it: minutes, not seconds.
SUBPROCESS_TIMEOUT_SECONDS = 1800
# Tiers an earlier pytest run already recorded into HANDOFF_RECORD_AWS_CALLS, comma-separated.
RECORDED_TIERS_VARIABLE = "HANDOFF_RECORDED_TIERS"


@dataclass(frozen=True)
class Synthesized:
    template: dict[str, Any]
    stack_name: str

    def checked(self, template: Mapping[str, Any] | None = None) -> StackTemplate:
        """The template (or an edited copy of it) evaluated as the deployed stack."""
        return StackTemplate(template or self.template, Frame(stack_name=self.stack_name))


@pytest.fixture(scope="session")
def synthesized(deployed_synth: tuple[Any, dict[str, Any], Path]) -> Synthesized:
    stack, template, _ = deployed_synth
    return Synthesized(template=template, stack_name=stack.stack_name)


@dataclass(frozen=True)
class Recording:
    calls: list[AwsCall]
    tiers: tuple[str, ...]  # where the calls came from
    notes: tuple[str, ...]  # e.g. failures in a tier run here


@pytest.fixture(scope="session")
def recorded(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Recording:
    """Every call the integration and e2e tiers recorded: this session's, and for a tier the
    session did not include, a run of that tier in a subprocess recording to its own file."""
    config = request.config
    in_session = config.stash.get(TIERS_IN_SESSION, frozenset())
    if os.environ.get("PYTEST_XDIST_WORKER"):
        # Other workers may still be running those tiers: their calls are not all recorded yet.
        in_session = frozenset()
    # `make test` runs the tiers first (in parallel), then this tier, on the same recording.
    in_session |= {t for t in os.environ.get(RECORDED_TIERS_VARIABLE, "").split(",") if t in RECORDED_TIERS}
    missing = [tier for tier in RECORDED_TIERS if tier not in in_session]
    calls = aws_calls.read(config.stash[RECORDING]) if in_session else []
    notes: list[str] = []
    if missing:
        path = tmp_path_factory.mktemp("aws-calls") / "calls.jsonl"
        env = {**os.environ, aws_calls.ENV_VARIABLE: str(path)}
        command = [
            sys.executable,
            "-m",
            "pytest",
            *(f"tests/{tier}" for tier in missing),
            "-q",
            "-p",
            "no:cacheprovider",
        ]
        result = subprocess.run(
            command,
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=SUBPROCESS_TIMEOUT_SECONDS,
            check=False,
        )
        tail = "\n".join(result.stdout.splitlines()[-15:])
        # 1 is "some tests failed": their calls were still made and recorded, so still checked.
        assert result.returncode in (0, 1), (
            f"{' '.join(command)} exited {result.returncode}:\n{tail}\n{result.stderr[-2000:]}"
        )
        if result.returncode == 1:
            notes.append(f"{' '.join(command)} had failures:\n{tail}")
        calls += aws_calls.read(path)
    return Recording(calls=calls, tiers=tuple(sorted(in_session)) + tuple(missing), notes=tuple(notes))
