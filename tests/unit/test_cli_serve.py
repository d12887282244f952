"""`handoff serve` talks to the CRM endpoints the environment names, as a deployed function does."""

from __future__ import annotations

import pytest

from handoff.cli import _parser


def test_serve_uses_the_crm_endpoints_set_in_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HANDOFF_HUBSPOT_API_BASE", "https://api.hubapi.com")
    monkeypatch.setenv("HANDOFF_SALESFORCE_LOGIN_URL", "https://test.salesforce.com")
    args = _parser().parse_args(["serve"])
    assert (args.hubspot_api, args.salesforce_login) == (
        "https://api.hubapi.com",
        "https://test.salesforce.com",
    )


def test_serve_starts_local_fakes_when_nothing_is_set(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("HANDOFF_HUBSPOT_API_BASE", raising=False)
    monkeypatch.delenv("HANDOFF_SALESFORCE_LOGIN_URL", raising=False)
    args = _parser().parse_args(["serve"])
    assert (args.hubspot_api, args.salesforce_login) == ("", "")  # empty: LocalStack starts its fakes
    explicit = _parser().parse_args(["serve", "--hubspot-api", "http://127.0.0.1:9"])
    assert explicit.hubspot_api == "http://127.0.0.1:9"
