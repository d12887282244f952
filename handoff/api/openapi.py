"""The API's OpenAPI document: response shapes shared by the routes, and the merged spec.

The spec is generated from the Powertools Event Handler routes of every HTTP function (qualify's
webhooks, api's reads, disposition's outcomes; OpenAPIMerge), written to handoff/api/openapi.json by
`python -m handoff.api.openapi`, and served at GET /openapi.json by the api function; a test fails
when the file and the code drift apart.
"""

from __future__ import annotations

import json
import sys
from functools import cache
from importlib import resources
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel

from handoff.deploy.functions import CONSOLE, REPO_ROOT, ROUTES

if TYPE_CHECKING:  # the OpenAPI models cost cold start; only the offline build needs them
    from aws_lambda_powertools.event_handler import APIGatewayRestResolver
    from aws_lambda_powertools.event_handler.openapi.types import OpenAPIResponse

SPEC_FILE = REPO_ROOT / "handoff" / "api" / "openapi.json"
VERSION = "1.0.0"
SUMMARY = "CRM webhooks in; the lead, rep and disposition APIs"
# Routes that need the x-api-key header say so with security=API_KEY.
API_KEY: list[dict[str, list[str]]] = [{"apiKey": []}]

ERRORS = {
    400: "Malformed or invalid input; the message names what was wrong",
    401: "Missing, wrong or stale signature, token or API key",
    403: "The link was altered",
    404: "No such lead, or no such route",
    409: "The lead is not in a state that allows this",
    413: "The body is larger than the limit",
    410: "The link expired or was already used",
    503: "A dependency is unavailable; retry (nothing was lost)",
}


THROTTLED = "Too many requests for this route's throttle (answered by API Gateway); retry later"


class ErrorBody(BaseModel):
    error: str
    message: str
    details: list[Any]


def ok(description: str, content_type: str = "application/json") -> dict[int, OpenAPIResponse]:
    schema = {"type": "object"} if content_type == "application/json" else {"type": "string"}
    return {200: {"description": description, "content": {content_type: {"schema": schema}}}}


def accepted(description: str) -> dict[int, OpenAPIResponse]:
    return {
        202: {"description": description, "content": {"application/json": {"schema": {"type": "object"}}}}
    }


def errors(*codes: int, content_type: str = "application/json") -> dict[int, OpenAPIResponse]:
    """Documented refusals. Salesforce reads SOAP faults and link pages are HTML; a body the
    Event Handler cannot even read is refused in JSON on every route, so 400 always lists JSON."""
    documented: dict[int, OpenAPIResponse] = {}
    for code in codes:
        content: dict[str, Any] = {"application/json": {"model": ErrorBody}}
        if content_type != "application/json":
            content = {content_type: {"schema": {"type": "string"}}, **(content if code == 400 else {})}
        documented[code] = {"description": ERRORS[code], "content": content}
    return documented


def configure(app: APIGatewayRestResolver) -> None:
    """What the resolver says about the API as a whole; applied when the document is built."""
    from aws_lambda_powertools.event_handler.openapi.models import APIKey, APIKeyIn

    app.configure_openapi(
        title="Handoff",
        version=VERSION,
        summary=SUMMARY,
        security_schemes={"apiKey": APIKey.model_validate({"in": APIKeyIn.header, "name": "x-api-key"})},
    )


def build() -> dict[str, Any]:
    """Every HTTP function's routes (each function the route table names), merged into one document."""
    import importlib

    from aws_lambda_powertools.event_handler.openapi.merge import OpenAPIMerge

    if str(REPO_ROOT) not in sys.path:
        sys.path.insert(0, str(REPO_ROOT))
    merge = OpenAPIMerge(title="Handoff", version=VERSION, summary=SUMMARY)
    # The console is HTML pages for people behind a session, not part of the API's contract.
    for spec in dict.fromkeys(route.function for route in ROUTES if route.function != CONSOLE):
        app = importlib.import_module(spec.module).app
        configure(app)
        merge.add_schema(json.loads(app.get_openapi_json_schema()))
    document: dict[str, Any] = json.loads(merge.get_openapi_json_schema())
    # Powertools documents a 422 on every route, but Handoff answers invalid input with a 400
    # naming the field (handoff.api.responses), so the 422 and its schemas never occur.
    for operations in document["paths"].values():
        for operation in operations.values():
            operation["responses"].pop("422", None)
            # Every route has its own throttle, which API Gateway answers itself before any
            # function runs (handoff.deploy.gateway); the local front answers the same.
            operation["responses"]["429"] = {
                "description": THROTTLED,
                "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorBody"}}},
            }
    for unused in ("HTTPValidationError", "ValidationError"):
        document.get("components", {}).get("schemas", {}).pop(unused, None)
    return document


@cache
def served() -> str:
    """The checked-in spec, as GET /openapi.json answers it."""
    return resources.files("handoff.api").joinpath("openapi.json").read_text()


if __name__ == "__main__":
    SPEC_FILE.write_text(json.dumps(build(), indent=2, sort_keys=True) + "\n")
    print(f"wrote {SPEC_FILE}", file=sys.stderr)
