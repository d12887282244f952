"""The one place domain exceptions become HTTP responses.

Every error body is ``{"error", "message", "details"}``. Bad input is always a
4xx; only a failing dependency gives a 503, so the sender retries and no lead is lost.
"""

from __future__ import annotations

import json
from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response, content_types
from aws_lambda_powertools.event_handler.openapi.exceptions import RequestValidationError

from handoff.crm.hubspot_api import CrmUnavailable
from handoff.errors import (
    BadRequest,
    ConfigError,
    Conflict,
    Forbidden,
    NotFound,
    PayloadTooLarge,
    RequestRejected,
    StorageError,
    Unauthorized,
)
from handoff.observability import logger


def error_response(
    status: int,
    code: str,
    message: str,
    details: list[Any] | None = None,
    headers: dict[str, str] | None = None,
) -> Response[str]:
    body = json.dumps({"error": code, "message": message, "details": details or []})
    return Response(
        status_code=status, content_type=content_types.APPLICATION_JSON, body=body, headers=headers
    )


def json_response(status: int, body: dict[str, Any]) -> Response[str]:
    return Response(
        status_code=status,
        content_type=content_types.APPLICATION_JSON,
        body=json.dumps(body, default=str),
    )


# Refusals the caller can act on: status and machine code per exception type.
REJECTIONS: dict[type[RequestRejected], tuple[int, str]] = {
    Unauthorized: (401, "unauthorized"),
    Forbidden: (403, "forbidden"),
    NotFound: (404, "not_found"),
    Conflict: (409, "conflict"),
    PayloadTooLarge: (413, "payload_too_large"),
}


def rejection_response(exc: RequestRejected) -> Response[str]:
    status, code = REJECTIONS.get(type(exc), (400, "bad_request"))
    return error_response(status, code, exc.message)


def register_error_handlers(app: APIGatewayRestResolver) -> None:
    @app.exception_handler(BadRequest)
    def _bad_request(exc: BadRequest) -> Response[str]:
        return error_response(400, exc.code, exc.message, exc.details)

    @app.exception_handler(RequestValidationError)
    def _invalid(exc: RequestValidationError) -> Response[str]:
        details = [
            {"field": ".".join(str(p) for p in e.get("loc", ()) if p != "body"), "message": e.get("msg", "")}
            for e in exc.errors()
        ]
        fields = ", ".join(d["field"] or "body" for d in details)
        return error_response(400, "invalid_request", f"invalid request: {fields}", details)

    app.exception_handler(list(REJECTIONS))(rejection_response)

    # The Event Handler reads a route's body before any route code runs. Bytes that are not
    # UTF-8, or a multipart type without its boundary, stop it there: the sender's mistake.
    @app.exception_handler(UnicodeDecodeError)
    def _not_utf8(exc: UnicodeDecodeError) -> Response[str]:
        return error_response(400, "invalid_encoding", "the body is not valid UTF-8")

    @app.exception_handler(RecursionError)
    def _too_deep(exc: RecursionError) -> Response[str]:
        return error_response(400, "bad_request", "body is nested too deeply")

    @app.exception_handler(ValueError)
    def _unreadable(exc: ValueError) -> Response[str]:
        logger.warning("unreadable request", extra={"error": type(exc).__name__})
        return error_response(400, "unreadable_body", f"the request could not be read: {str(exc)[:200]}")

    @app.exception_handler([StorageError, CrmUnavailable])
    def _unavailable(exc: StorageError | CrmUnavailable) -> Response[str]:
        logger.exception("dependency unavailable")
        return error_response(
            503, "unavailable", "a dependency is temporarily unavailable; retry", headers={"Retry-After": "5"}
        )

    @app.exception_handler(ConfigError)
    def _misconfigured(exc: ConfigError) -> Response[str]:
        logger.exception("misconfigured")
        return error_response(500, "misconfigured", "Handoff is misconfigured; see the function logs")

    @app.not_found
    def _no_route(exc: Exception) -> Response[str]:
        return error_response(404, "not_found", "no such route")
