"""api: the read side of the HTTP API: liveness, the OpenAPI document, leads and reps."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from handoff.api.openapi import API_KEY, errors, ok, served
from handoff.api.requests import require_api_key
from handoff.api.responses import json_response, register_error_handlers
from handoff.aws.container import ports
from handoff.aws.leads import PRIVATE_ATTRIBUTES
from handoff.deploy.functions import API
from handoff.deploy.settings import require
from handoff.domain.clock import utcnow
from handoff.errors import NotFound
from handoff.observability import logger, metrics, traced
from handoff.service import lead_listing
from handoff.service.routing import reps_view

require(API)  # cold start: stop here, naming any setting this function lacks

app = APIGatewayRestResolver(enable_validation=True)
register_error_handlers(app)


@app.get("/health", summary="Liveness", tags=["operations"], responses=ok("Up"))
def health() -> dict[str, str]:
    return {"status": "ok"}


@app.get(
    "/openapi.json", summary="This API's OpenAPI document", tags=["operations"], responses=ok("OpenAPI 3")
)
def openapi_document() -> Response[str]:
    return Response(status_code=200, content_type="application/json", body=served())


@app.get(
    "/leads",
    summary="Leads in one status (default failed), a page at a time",
    tags=["leads"],
    security=API_KEY,
    responses={**ok("One page: leads and the next cursor"), **errors(400, 401, 503)},
)
def list_leads() -> Response[str]:
    """Leads in one in-flight status, or failed (the default): what ops redrive."""
    require_api_key(ports(), app.current_event)
    page = lead_listing.list_by_status(
        ports().leads,
        app.current_event.get_query_string_value("status", "failed") or "failed",
        app.current_event.get_query_string_value("limit", None),
        app.current_event.get_query_string_value("next", None),
    )
    return json_response(200, page)


@app.get(
    "/leads/<lead_id>",
    summary="The lead with every decision and its reasons",
    tags=["leads"],
    security=API_KEY,
    responses={**ok("The lead record"), **errors(400, 401, 404, 503)},
)
def get_lead(lead_id: str) -> Response[str]:
    require_api_key(ports(), app.current_event)
    item = ports().leads.get_item(lead_id)
    if item is None:
        raise NotFound(f"lead {lead_id} not found")
    for private in PRIVATE_ATTRIBUTES:
        item.pop(private, None)
    return json_response(200, item)


@app.get(
    "/reps",
    summary="Reps with capacity, open leads, weight and availability",
    tags=["reps"],
    security=API_KEY,
    responses={**ok("The reps"), **errors(401, 503)},
)
def list_reps() -> Response[str]:
    require_api_key(ports(), app.current_event)
    return json_response(200, {"reps": reps_view(ports().reps.list_all(), utcnow())})


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
@traced
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
