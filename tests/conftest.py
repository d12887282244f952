"""Shared test fixtures: sample leads and a clean, offline AWS environment."""

from __future__ import annotations

import copy
import json
import os
from pathlib import Path
from typing import Any

import pytest

# Powertools reads these when handoff.observability is first imported, which can be
# at collection time; a Lambda always has them set before its handler module loads.
os.environ.setdefault("POWERTOOLS_SERVICE_NAME", "handoff-test")
os.environ.setdefault("POWERTOOLS_METRICS_NAMESPACE", "HandoffTest")
os.environ.setdefault("POWERTOOLS_TRACE_DISABLED", "true")

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
SAMPLE_WEBHOOKS = sorted((EXAMPLES / "webhooks" / "generic").glob("*.json"))


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
