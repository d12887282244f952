"""Every credential check compares in constant time: each verifier goes through
hmac.compare_digest, and no module that handles secrets compares one with == or !=."""

from __future__ import annotations

import ast
import hmac
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest

from handoff.crm import hubspot_signature, salesforce, signature
from handoff.domain.link_tokens import LinkRefused, read_token
from handoff.errors import Unauthorized
from tests.conftest import ROOT

SECRET_HANDLING = [
    ROOT / "handoff" / "crm" / "signature.py",
    ROOT / "handoff" / "crm" / "hubspot_signature.py",
    ROOT / "handoff" / "domain" / "link_tokens.py",
    ROOT / "handoff" / "local" / "gateway.py",
    ROOT / "handoff" / "crm" / "salesforce.py",
    ROOT / "handoff" / "api" / "requests.py",
]
SECRET_WORDS = ("signature", "token", "secret", "digest", "api_key", "expected")
# Timestamps are taken when each verifier runs, inside the replay window whenever that is.

VERIFIERS: dict[str, Callable[[], object]] = {
    "generic HMAC": lambda: signature.verify_generic(
        secret="s",
        body=b"{}",
        signature_header=f"t={int(time.time())},v1={'0' * 64}",
        bearer_token=None,
        expected_token=None,
        window_seconds=300,
    ),
    "generic bearer": lambda: signature.verify_generic(
        secret="s",
        body=b"{}",
        signature_header=None,
        bearer_token="wrong",
        expected_token="right",
        window_seconds=300,
    ),
    "api key": lambda: signature.verify_api_key("wrong", "right"),
    "hubspot v3": lambda: hubspot_signature.verify_hubspot(
        secret="s",
        method="POST",
        uri="https://h/x",
        body=b"{}",
        header={
            "x-hubspot-signature-v3": "AAAA",
            "x-hubspot-request-timestamp": str(int(time.time() * 1000)),
        }.get,
    ),
    "salesforce token": lambda: salesforce.check_token("wrong", "right"),
    "disposition link": lambda: read_token("key", "v1.eyJ9.AAAA", datetime.now(UTC)),
}


@pytest.mark.parametrize("name", list(VERIFIERS))
def test_each_verifier_compares_with_compare_digest(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[tuple[bytes, bytes]] = []
    real = hmac.compare_digest

    def spy(a: bytes, b: bytes) -> bool:
        calls.append((a, b))
        return real(a, b)

    monkeypatch.setattr(hmac, "compare_digest", spy)
    with pytest.raises((Unauthorized, LinkRefused)):
        VERIFIERS[name]()
    assert calls, f"{name} refused without a constant-time comparison"


def _compared_names(node: ast.Compare) -> list[str]:
    names = []
    for operand in (node.left, *node.comparators):
        if isinstance(operand, ast.Name):
            names.append(operand.id)
        elif isinstance(operand, ast.Attribute):
            names.append(operand.attr)
    return names


@pytest.mark.parametrize("path", SECRET_HANDLING, ids=lambda p: Path(p).name)
def test_no_secret_is_compared_with_equality(path: Path) -> None:
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Compare) and any(isinstance(op, ast.Eq | ast.NotEq) for op in node.ops):
            suspicious = [n for n in _compared_names(node) if any(w in n.lower() for w in SECRET_WORDS)]
            assert not suspicious, f"{path.name}:{node.lineno} compares {suspicious} with == or !="
