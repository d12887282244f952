"""One synthesized stack shared by every infra test (a synth takes several seconds)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from aws_cdk.assertions import Template

from infra.stack import HandoffStack


@pytest.fixture(scope="session")
def synthesized(
    deployed_synth: tuple[HandoffStack, dict[str, Any], Path],
) -> tuple[HandoffStack, Template, Path]:
    stack, template, template_path = deployed_synth
    return stack, Template.from_json(template), template_path


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


def policy_statements(template: Template, function_key: str) -> list[dict[str, Any]]:
    """Every statement of the policies on one function's role."""
    prefix = f"Functions{function_key.replace('_', '')}ServiceRole"
    return [
        statement
        for logical_id, policy in resources(template, "AWS::IAM::Policy").items()
        if logical_id.startswith(prefix)
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]
    ]


def statement_actions(statement: dict[str, Any]) -> set[str]:
    named = statement["Action"]
    return set(named if isinstance(named, list) else [named])
