"""Shared test fixtures: sample leads and a clean, offline AWS environment."""

from __future__ import annotations

import copy
import json
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

import pytest

from handoff.domain.rep import Rep
from handoff.local import aws_calls

# Powertools reads these when handoff.observability is first imported, which can be
# at collection time; a Lambda always has them set before its handler module loads.
os.environ.setdefault("POWERTOOLS_SERVICE_NAME", "handoff-test")
os.environ.setdefault("POWERTOOLS_METRICS_NAMESPACE", "HandoffTest")
os.environ.setdefault("POWERTOOLS_TRACE_DISABLED", "true")

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
SAMPLE_WEBHOOKS = sorted((EXAMPLES / "webhooks" / "generic").glob("*.json"))

# tests/grants checks the AWS calls the handlers made in these tiers against their IAM roles.
RECORDED_TIERS = ("integration", "e2e")
GRANTS = ROOT / "tests" / "grants"
RECORDING = pytest.StashKey[Path]()
TIERS_IN_SESSION = pytest.StashKey[frozenset[str]]()
_CREATED_RECORDING_DIR = pytest.StashKey[Path]()


def pytest_configure(config: pytest.Config) -> None:
    """Record every AWS call an in-process handler makes, to one file for the whole session:
    the variable also reaches `handoff serve` (tests/e2e), which records into the same file.
    A path already set (tests/grants running the tiers in a subprocess) is used as it is."""
    path = os.environ.get(aws_calls.ENV_VARIABLE, "")
    if path in ("", "1"):
        directory = Path(tempfile.mkdtemp(prefix="handoff-aws-calls-"))
        config.stash[_CREATED_RECORDING_DIR] = directory
        path = str(directory / "calls.jsonl")
        os.environ[aws_calls.ENV_VARIABLE] = path
    config.stash[RECORDING] = Path(path)
    aws_calls.enable(path)


def pytest_unconfigure(config: pytest.Config) -> None:
    directory = config.stash.get(_CREATED_RECORDING_DIR, None)
    if directory is not None:
        shutil.rmtree(directory, ignore_errors=True)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The grant tests go last: they check the calls every other tier recorded."""
    items.sort(key=lambda item: GRANTS in item.path.parents)


def pytest_collection_finish(session: pytest.Session) -> None:
    # After deselection (-k, -m): the tiers whose calls this session will really record.
    session.config.stash[TIERS_IN_SESSION] = frozenset(
        tier
        for tier in RECORDED_TIERS
        if any(ROOT / "tests" / tier in item.path.parents for item in session.items)
    )


def rep(rep_id: str, **kw: Any) -> Rep:
    """A rep in the sales pool, managed by boss@example.com; ``kw`` overrides any field."""
    return Rep.model_validate(
        {
            "rep_id": rep_id,
            "email": f"{rep_id}@example.com",
            "manager_email": "boss@example.com",
            "pools": ["sales"],
            **kw,
        }
    )


def sample(name_prefix: str) -> dict[str, Any]:
    """A sample webhook body from examples/, by file-name prefix (e.g. "01")."""
    path = next(p for p in SAMPLE_WEBHOOKS if p.name.startswith(name_prefix))
    data: dict[str, Any] = json.loads(path.read_text())
    return copy.deepcopy(data)


@pytest.fixture
def hot_lead() -> dict[str, Any]:
    return sample("01")


@pytest.fixture
def nurture_lead() -> dict[str, Any]:
    return sample("03")


@pytest.fixture(scope="session")
def deployed_synth(tmp_path_factory: pytest.TempPathFactory) -> tuple[Any, dict[str, Any], Path]:
    """One synth per session, as `npx cdk synth` makes it: cdk.json's context (its feature flags
    change what is deployed) and each resource's construct path in its metadata, which is how
    the grant checker finds resources. (stack, template, template path)"""
    os.environ.setdefault("JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION", "1")
    from infra.app import build_app

    context = {**json.loads((ROOT / "cdk.json").read_text())["context"], "aws:cdk:enable-path-metadata": True}
    app, stack = build_app(outdir=str(tmp_path_factory.mktemp("cdk.out")), context=context)
    assembly = app.synth()
    template_path = Path(assembly.directory) / stack.template_file
    return stack, json.loads(template_path.read_text()), template_path
