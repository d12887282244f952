"""qualify: CRM webhooks in, sales-ready leads out to the handoff workflow."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from handoff import runtime
from handoff.api.openapi import API_KEY, accepted, errors, ok, served
from handoff.api.requests import (
    authenticate_generic,
    authenticate_hubspot,
    parse_json_object,
    parse_model,
    raw_body,
    require_api_key,
)
from handoff.api.responses import json_response, register_error_handlers
from handoff.api.soap import soap_answer
from handoff.aws.leads import PRIVATE_ATTRIBUTES
from handoff.deploy.functions import QUALIFY
from handoff.deploy.settings import require
from handoff.domain.clock import utcnow
from handoff.domain.lead import Lead
from handoff.errors import NotFound
from handoff.observability import logger, metrics, traced
from handoff.service import crm_inbound, intake, lead_listing
from handoff.service.intake import IntakeResult
from handoff.service.routing import reps_view

require(QUALIFY)  # cold start: stop here, naming any setting this function lacks

app = APIGatewayRestResolver(enable_validation=True)
register_error_handlers(app)


WEBHOOK = {
    **ok("Recorded, not sales-ready (nurture), or a repeat delivery"),
    **accepted("Sales-ready: the handoff started"),
}


@app.get("/health", summary="Liveness", tags=["operations"], responses=ok("Up"))
def health() -> dict[str, str]:
    return {"status": "ok"}


@app.get(
    "/openapi.json", summary="This API's OpenAPI document", tags=["operations"], responses=ok("OpenAPI 3")
)
def openapi_document() -> Response[str]:
    return Response(status_code=200, content_type="application/json", body=served())


@app.post(
    "/webhooks/generic",
    summary="A canonical lead, signed with X-Handoff-Signature or a bearer token",
    tags=["webhooks"],
    responses={**WEBHOOK, **errors(400, 401, 413, 503)},
)
def generic_webhook() -> Response[str]:
    body = raw_body(app.current_event)
    authenticate_generic(app.current_event, body)
    lead = parse_model(Lead, parse_json_object(body), "lead")
    result = intake.accept(lead, utcnow())
    return json_response(result.status_code, result.body)


@app.post(
    "/webhooks/hubspot",
    summary="A HubSpot workflow webhook or Webhooks-API events (signature v1, v2 or v3)",
    tags=["webhooks"],
    responses={**WEBHOOK, **errors(400, 401, 413, 503)},
)
def hubspot_webhook() -> Response[str]:
    return _from_hubspot(crm_inbound.accept_hubspot)


@app.post(
    "/webhooks/hubspot/activity",
    summary="A HubSpot workflow webhook sent when a call, email or meeting is logged: the first touch",
    tags=["webhooks"],
    responses={
        **ok("Recorded as a disposition, or ignored with the reason"),
        **errors(400, 401, 409, 413, 503),
    },
)
def hubspot_activity_webhook() -> Response[str]:
    return _from_hubspot(crm_inbound.accept_hubspot_activity)


def _from_hubspot(accept: Callable[[bytes, datetime], IntakeResult]) -> Response[str]:
    """A HubSpot request: the signed bytes, verified, then handed to ``accept``."""
    body = raw_body(app.current_event)
    authenticate_hubspot(app.current_event, body)
    result = accept(body, utcnow())
    return json_response(result.status_code, result.body)


@app.post(
    "/webhooks/salesforce",
    summary="A Salesforce Outbound Message; the answer is a SOAP Ack or fault",
    tags=["webhooks"],
    responses={
        **ok("Ack: every notification is recorded", "text/xml"),
        **errors(400, 401, 413, 503, content_type="text/xml"),
    },
)
def salesforce_outbound_message() -> Response[str]:
    event = app.current_event
    token = event.get_query_string_value("token")
    # Salesforce reads SOAP, so every answer here, refusals included, is SOAP.
    return soap_answer(lambda: crm_inbound.accept_salesforce(raw_body(event), token, utcnow()))


@app.get(
    "/leads",
    summary="Leads in one status (default failed), a page at a time",
    tags=["leads"],
    security=API_KEY,
    responses={**ok("One page: leads and the next cursor"), **errors(400, 401, 503)},
)
def list_leads() -> Response[str]:
    """Leads in one in-flight status, or failed (the default): what ops redrive."""
    require_api_key(app.current_event)
    page = lead_listing.list_by_status(
        runtime.leads(),
        app.current_event.get_query_string_value("status", "failed") or "failed",
        app.current_event.get_query_string_value("limit", None),
        app.current_event.get_query_string_value("next", None),
        utcnow(),
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
    require_api_key(app.current_event)
    item = runtime.leads().get_item(lead_id)
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
    require_api_key(app.current_event)
    return json_response(200, {"reps": reps_view(runtime.reps().list_all(), utcnow())})


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
@traced
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
