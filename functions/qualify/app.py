"""qualify: CRM webhooks in, sales-ready leads out to the handoff workflow."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from handoff.api.openapi import accepted, errors, ok
from handoff.api.requests import (
    authenticate_generic,
    authenticate_hubspot,
    parse_generic_lead,
    parse_json_object,
    raw_body,
)
from handoff.api.responses import json_response, register_error_handlers
from handoff.api.soap import soap_answer
from handoff.aws.container import ports
from handoff.deploy.functions import QUALIFY
from handoff.deploy.settings import require
from handoff.domain.clock import utcnow
from handoff.observability import logger, metrics, traced
from handoff.service import crm_inbound, intake
from handoff.service.intake import IntakeResult
from handoff.service.ports import Ports

require(QUALIFY)  # cold start: stop here, naming any setting this function lacks

app = APIGatewayRestResolver(enable_validation=True)
register_error_handlers(app)


WEBHOOK = {
    **ok("Recorded, not sales-ready (nurture), or a repeat delivery"),
    **accepted("Sales-ready: the handoff started"),
}


@app.post(
    "/webhooks/generic",
    summary="A canonical lead, signed with X-Handoff-Signature or a bearer token",
    tags=["webhooks"],
    responses={**WEBHOOK, **errors(400, 401, 413, 503)},
)
def generic_webhook() -> Response[str]:
    body = raw_body(app.current_event)
    authenticate_generic(ports(), app.current_event, body)
    lead = parse_generic_lead(parse_json_object(body), ports().config)
    result = intake.accept(ports(), lead, utcnow())
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


def _from_hubspot(accept: Callable[[Ports, bytes, datetime], IntakeResult]) -> Response[str]:
    """A HubSpot request: the signed bytes, verified, then handed to ``accept``."""
    body = raw_body(app.current_event)
    authenticate_hubspot(ports(), app.current_event, body)
    result = accept(ports(), body, utcnow())
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
    return soap_answer(lambda: crm_inbound.accept_salesforce(ports(), raw_body(event), token, utcnow()))


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
@traced
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
