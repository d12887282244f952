"""One synthesized stack shared by every infra test (a synth takes several seconds)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from aws_cdk.assertions import Template

from infra.app import build_app
from infra.stack import HandoffStack


@pytest.fixture(scope="session")
def synthesized(tmp_path_factory: pytest.TempPathFactory) -> tuple[HandoffStack, Template, Path]:
    outdir = tmp_path_factory.mktemp("cdk.out")
    app, stack = build_app(outdir=str(outdir))
    assembly = app.synth()
    template_path = Path(assembly.directory) / stack.template_file
    return stack, Template.from_json(json.loads(template_path.read_text())), template_path


@pytest.fixture(scope="session")
def template(synthesized: tuple[HandoffStack, Template, Path]) -> Template:
    return synthesized[1]


def resources(template: Template, kind: str) -> dict[str, Any]:
    found: dict[str, Any] = template.find_resources(kind)
    return found


def cfn_lint(template_path: Path) -> subprocess.CompletedProcess[str]:
    """cfn-lint with the project's settings (.cfnlintrc.yaml) on one template file."""
    root = Path(__file__).resolve().parents[2]
    return subprocess.run(
        [
            str(Path(sys.executable).parent / "cfn-lint"),
            "--config-file",
            str(root / ".cfnlintrc.yaml"),
            str(template_path),
        ],
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
