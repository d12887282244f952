"""Which function serves which route: qualify is the webhook intake and nothing else; the api
function serves the read routes; each resolver serves exactly the routes the table gives it."""

from __future__ import annotations

import importlib
import json

import pytest

from handoff.api.openapi import configure
from handoff.deploy.functions import API, CONSOLE, DISPOSITION, QUALIFY, ROUTES, FunctionSpec

READ_ROUTES = {
    ("GET", "/health"),
    ("GET", "/openapi.json"),
    ("GET", "/leads"),
    ("GET", "/leads/{lead_id}"),
    ("GET", "/reps"),
}


def table_routes(spec: FunctionSpec) -> set[tuple[str, str]]:
    return {(route.method, route.path) for route in ROUTES if route.function == spec}


def served(spec: FunctionSpec) -> set[tuple[str, str]]:
    """The (method, path) pairs the function's own Event Handler resolver answers."""
    app = importlib.import_module(spec.module).app
    configure(app)  # the security scheme the x-api-key routes name
    paths = json.loads(app.get_openapi_json_schema())["paths"]
    return {(method.upper(), path) for path, operations in paths.items() for method in operations}


def test_qualify_serves_only_the_webhooks() -> None:
    routes = table_routes(QUALIFY)
    assert routes and all(path.startswith("/webhooks/") for _, path in routes)
    assert all(path.startswith("/webhooks/") for _, path in served(QUALIFY))


def test_the_api_function_serves_the_read_routes() -> None:
    assert table_routes(API) == READ_ROUTES
    assert all(method == "GET" for method, _ in table_routes(API))


def test_every_webhook_route_goes_to_qualify() -> None:
    assert {r.function for r in ROUTES if r.path.startswith("/webhooks/")} == {QUALIFY}


@pytest.mark.parametrize("spec", [QUALIFY, API, DISPOSITION, CONSOLE], ids=lambda s: s.key)
def test_each_http_function_serves_exactly_its_routes_in_the_table(spec: FunctionSpec) -> None:
    """The gateway sends a route to the function the table names; that function must answer it,
    and answer nothing the gateway never sends it."""
    assert served(spec) == table_routes(spec)


def test_the_table_names_no_other_http_function() -> None:
    assert {route.function for route in ROUTES} == {QUALIFY, API, DISPOSITION, CONSOLE}


def test_only_the_console_sign_in_is_open_under_console() -> None:
    """Every console page but sign-in sits behind the session authorizer; nothing else does."""
    console = {(r.method, r.path) for r in ROUTES if r.function == CONSOLE and not r.session}
    assert console == {("GET", "/console/login"), ("POST", "/console/login")}
    assert all(r.function == CONSOLE and not r.api_key for r in ROUTES if r.session)
