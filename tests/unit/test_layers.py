"""The layering docs/architecture.md describes, kept true: services and the domain never touch
AWS directly (their adapters do), services reach adapters only through the ports they are
given, and the domain does no I/O and knows no other layer."""

from __future__ import annotations

import ast
from pathlib import Path

from tests.conftest import ROOT

AWS_LIBRARIES = {"boto3", "botocore"}
IO_LIBRARIES = AWS_LIBRARIES | {"urllib", "http", "socket", "requests", "aws_lambda_powertools"}


# Parsing a URL is pure: urllib.parse is the one part of urllib that does no I/O.
PURE_MODULES = {"urllib.parse"}


def imported(path: Path) -> set[str]:
    """Top-level package of every import in the module, wherever it sits (functions included)."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names |= {alias.name.split(".")[0] for alias in node.names if alias.name not in PURE_MODULES}
        elif (
            isinstance(node, ast.ImportFrom)
            and node.module
            and node.level == 0
            and node.module not in PURE_MODULES
        ):
            names.add(node.module.split(".")[0])
    return names


def test_no_service_imports_boto3_or_botocore() -> None:
    offenders = {
        path.name: sorted(imported(path) & AWS_LIBRARIES)
        for path in (ROOT / "handoff" / "service").glob("*.py")
        if imported(path) & AWS_LIBRARIES
    }
    assert offenders == {}, f"AWS belongs behind a port (handoff/service/ports.py): {offenders}"


def test_the_domain_does_no_io() -> None:
    offenders = {
        path.name: sorted(imported(path) & IO_LIBRARIES)
        for path in (ROOT / "handoff" / "domain").glob("*.py")
        if imported(path) & IO_LIBRARIES
    }
    assert offenders == {}, offenders


def modules(path: Path) -> set[str]:
    """Every handoff module the file imports, by its full name."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names |= {node.module} | {f"{node.module}.{alias.name}" for alias in node.names}
    return {name for name in names if name.startswith("handoff.")}


def test_services_reach_adapters_only_through_their_ports() -> None:
    offenders = {
        path.name: sorted(m for m in modules(path) if m.startswith(("handoff.aws", "handoff.local")))
        for path in (ROOT / "handoff" / "service").glob("*.py")
    }
    assert {k: v for k, v in offenders.items() if v} == {}, "take a Ports (handoff/service/ports.py) instead"


def test_the_domain_knows_no_other_layer() -> None:
    outer = ("handoff.aws", "handoff.service", "handoff.crm", "handoff.api", "handoff.local", "handoff.cli")
    offenders = {
        path.name: sorted(m for m in modules(path) if m.startswith(outer))
        for path in (ROOT / "handoff" / "domain").glob("*.py")
    }
    assert {k: v for k, v in offenders.items() if v} == {}
