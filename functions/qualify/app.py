"""qualify: CRM webhooks in, sales-ready leads out to the handoff workflow."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from handoff import runtime
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
from handoff.domain.lead import Lead, utcnow
from handoff.errors import NotFound
from handoff.observability import logger, metrics, tracer
from handoff.service import crm_inbound, intake, lead_listing
from handoff.service.routing import reps_view
from handoff.store.leads import PRIVATE_ATTRIBUTES

app = APIGatewayRestResolver(enable_validation=True)
register_error_handlers(app)


@app.get("/health")
def health() -> dict[str, str]:
    return {"status": "ok"}


@app.post("/webhooks/generic")
def generic_webhook() -> Response[str]:
    body = raw_body(app.current_event)
    authenticate_generic(app.current_event, body)
    lead = parse_model(Lead, parse_json_object(body), "lead")
    result = intake.accept(lead, utcnow())
    return json_response(result.status_code, result.body)


@app.post("/webhooks/hubspot")
def hubspot_webhook() -> Response[str]:
    body = raw_body(app.current_event)
    authenticate_hubspot(app.current_event, body)
    result = crm_inbound.accept_hubspot(body, utcnow())
    return json_response(result.status_code, result.body)


@app.post("/webhooks/salesforce")
def salesforce_outbound_message() -> Response[str]:
    event = app.current_event
    token = event.get_query_string_value("token")
    # Salesforce reads SOAP, so every answer here, refusals included, is SOAP.
    return soap_answer(lambda: crm_inbound.accept_salesforce(raw_body(event), token, utcnow()))


@app.get("/leads")
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


@app.get("/leads/<lead_id>")
def get_lead(lead_id: str) -> Response[str]:
    require_api_key(app.current_event)
    item = runtime.leads().get_item(lead_id)
    if item is None:
        raise NotFound(f"lead {lead_id} not found")
    for private in PRIVATE_ATTRIBUTES:
        item.pop(private, None)
    return json_response(200, item)


@app.get("/reps")
def list_reps() -> Response[str]:
    require_api_key(app.current_event)
    return json_response(200, {"reps": reps_view(runtime.reps().list_all(), utcnow())})


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
