"""Answers for Salesforce, which reads SOAP: the Ack, or a fault with the right status."""

from __future__ import annotations

from collections.abc import Callable

from aws_lambda_powertools.event_handler import Response

from handoff.api.responses import REJECTIONS
from handoff.crm.hubspot_api import CrmUnavailable
from handoff.crm.salesforce import fault
from handoff.errors import BadRequest, RequestRejected, StorageError
from handoff.observability import logger

SOAP_CONTENT_TYPE = "text/xml; charset=utf-8"


def soap_response(status: int, xml: str) -> Response[str]:
    return Response(status_code=status, content_type=SOAP_CONTENT_TYPE, body=xml)


def soap_answer(produce: Callable[[], str]) -> Response[str]:
    """Run the handler; turn each refusal into a SOAP fault (4xx: fix it; 503: Salesforce retries)."""
    try:
        return soap_response(200, produce())
    except BadRequest as exc:
        return soap_response(400, fault(exc.message))
    except RequestRejected as exc:
        status, _ = REJECTIONS.get(type(exc), (400, "bad_request"))
        return soap_response(status, fault(exc.message))
    except (StorageError, CrmUnavailable):
        logger.exception("dependency unavailable")
        return soap_response(503, fault("temporarily unavailable; retry", client=False))
