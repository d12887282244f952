"""The OpenAPI document is generated from the Event Handler routes and kept in step with them."""

from __future__ import annotations

import json

from handoff.api.openapi import SPEC_FILE, build
from handoff.deploy.functions import CONSOLE, ROUTES


def test_the_checked_in_spec_is_what_the_routes_generate() -> None:
    assert json.loads(SPEC_FILE.read_text()) == build(), "run: python -m handoff.api.openapi"


def test_every_route_is_documented_with_its_errors_and_auth() -> None:
    paths = json.loads(SPEC_FILE.read_text())["paths"]
    for route in (r for r in ROUTES if r.function != CONSOLE):  # the console's pages are no API
        operation = paths[route.path][route.method.lower()]
        assert "200" in operation["responses"], route
        assert "422" not in operation["responses"]  # invalid input is a 400 here
        assert bool(operation.get("security")) == route.api_key, route
        if route.path.startswith("/webhooks/"):
            assert {"400", "401", "413", "503"} <= set(operation["responses"]), route


def test_the_console_pages_are_not_in_the_api_document() -> None:
    paths = json.loads(SPEC_FILE.read_text())["paths"]
    assert not [path for path in paths if path.startswith("/console")]
