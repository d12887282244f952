"""disposition: a rep's outcome for a lead; the first one completes the SLA wait."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any
from urllib.parse import parse_qs

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response
from aws_lambda_powertools.event_handler.openapi.params import Body
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import BaseModel, ConfigDict, Field

from handoff.api.openapi import API_KEY, errors, ok
from handoff.api.requests import checked_json_body, require_api_key, sized_body
from handoff.api.responses import json_response, register_error_handlers
from handoff.aws.container import ports
from handoff.deploy.functions import DISPOSITION
from handoff.deploy.settings import require
from handoff.domain.clock import utcnow
from handoff.email.render import render_page
from handoff.observability import logger, metrics, traced
from handoff.service import links, reassign, touch

require(DISPOSITION)  # cold start: stop here, naming any setting this function lacks

app = APIGatewayRestResolver(enable_validation=True)
register_error_handlers(app)


class DispositionRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    outcome: str = Field(
        min_length=1,
        max_length=64,
        description="One of [dispositions.reasons]: attempted (tried, not reached: starts the follow-up "
        "cadence), connected, sales_accepted (MQL -> SQL; not final), meeting_set, recycle, disqualify",
        examples=["attempted", "connected", "sales_accepted", "meeting_set"],
    )
    reason: str | None = Field(default=None, max_length=64)
    note: str | None = Field(default=None, max_length=2000)
    by: str = Field(default="api", max_length=256)
    # The rep recording it; one who no longer owns the lead is recorded but changes nothing.
    rep_id: str | None = Field(default=None, max_length=64)
    # Recycle only: the day the lead may come back to sales (tomorrow to a year out, the rep's calendar).
    recycle_until: date | None = None
    # wrong_owner only: the right owner, as a rep id or email; left out, routing picks the next rep.
    owner: str | None = Field(default=None, max_length=256)


class ReassignRequestBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    to_rep_id: str | None = Field(
        default=None,
        max_length=256,
        description="The rep to move the lead to (a rep id or email); left out, routing picks the next rep",
    )
    note: str | None = Field(default=None, max_length=2000)
    by: str = Field(default="api", max_length=256, description="Who moved it, for the lead's timeline")


@app.post(
    "/leads/<lead_id>/disposition",
    summary="Record a rep's outcome; the first touch completes the SLA wait",
    tags=["leads"],
    security=API_KEY,
    responses={**ok("Recorded (a repeat is a no-op)"), **errors(400, 401, 404, 409, 503)},
)
def post_disposition(lead_id: str, request: Annotated[DispositionRequest, Body()]) -> Response[str]:
    require_api_key(ports(), app.current_event)
    checked_json_body(app.current_event)
    result = touch.record_disposition(
        ports(),
        lead_id,
        outcome=request.outcome,
        reason=request.reason,
        note=request.note,
        by=request.by,
        now=utcnow(),
        rep_id=request.rep_id,
        recycle_until=request.recycle_until,
        named_owner=request.owner,
    )
    return json_response(200, result)


@app.post(
    "/leads/<lead_id>/reassign",
    summary="Move an assigned lead to another rep (manual reassignment); the new owner gets a brief",
    tags=["leads"],
    security=API_KEY,
    responses={**ok("Reassignment under way"), **errors(400, 401, 404, 409, 503)},
)
def post_reassign(lead_id: str, request: Annotated[ReassignRequestBody, Body()]) -> Response[str]:
    require_api_key(ports(), app.current_event)
    checked_json_body(app.current_event)
    result = reassign.request(
        ports(),
        lead_id,
        because=reassign.MANUAL,
        to_rep_id=reassign.named_rep(ports(), request.to_rep_id, "to_rep_id"),
        by=request.by,
        note=request.note,
        now=utcnow(),
    )
    return json_response(202, result)


# The token is in the URL: never send it on as a referrer, never cache the page.
PAGE_HEADERS = {
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'",
}


def _html(page: links.Page) -> Response[str]:
    return Response(
        status_code=page.status,
        content_type="text/html; charset=utf-8",
        body=render_page(page),
        headers=PAGE_HEADERS,
    )


@app.get(
    "/d/<token>",
    summary="A one-click link from the brief: a confirmation page (mail scanners only look)",
    tags=["links"],
    responses={
        **ok("The confirmation page", "text/html"),
        **errors(400, 403, 404, 409, 410, 503, content_type="text/html"),
    },
)
def confirm_link(token: str) -> Response[str]:
    return _html(links.confirm(ports(), token, utcnow()))


@app.post(
    "/d/<token>",
    summary="Record the link's outcome (form-encoded reason, note and, for recycle, recycle_until)",
    tags=["links"],
    responses={
        **ok("The result page", "text/html"),
        **errors(400, 403, 404, 409, 410, 503, content_type="text/html"),
    },
)
def use_link(token: str) -> Response[str]:
    sized_body(app.current_event)  # the size limit, before the form is read
    form = parse_qs(app.current_event.decoded_body or "", max_num_fields=6)
    reason = next(iter(form.get("reason", [])), None)
    note = next(iter(form.get("note", [])), None)
    until = next(iter(form.get("recycle_until", [])), None)
    owner = next(iter(form.get("owner", [])), None)
    return _html(
        links.record(
            ports(),
            token,
            reason,
            note[:500] if note else None,
            utcnow(),
            recycle_until=until,
            owner=owner[:256] if owner else None,
        )
    )


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
@traced
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
