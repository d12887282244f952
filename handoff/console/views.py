"""Console pages' plumbing: forms, flash messages and redirects after a POST."""

from __future__ import annotations

from urllib.parse import parse_qs, quote, urlencode

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response
from aws_lambda_powertools.utilities.data_classes import APIGatewayProxyEvent

from handoff.api.requests import sized_body
from handoff.api.responses import REJECTIONS
from handoff.console.render import html_page
from handoff.console.session import CONSOLE_HEADERS, Viewer, console_base, viewer
from handoff.crm.hubspot_api import CrmUnavailable
from handoff.errors import BadRequest, ConfigError, RequestRejected, StorageError, Unauthorized
from handoff.observability import logger

# A form has at most this many fields; more is a 400, not work.
MAX_FIELDS = 8
# What a finished action says on the page it lands on: a fixed set, so a link cannot put words
# of its own on a Handoff page.
FLASHES = {
    "redriven": "Redrive started: the lead resumes from where it failed.",
    "reassigned": "Reassignment requested: the workflow moves the lead and briefs its new owner.",
    "outcome": "Outcome recorded.",
    "rep_saved": "Rep saved.",
}


def redirect(event: APIGatewayProxyEvent, path: str, done: str) -> Response[str]:
    """303 See Other back to a page (on the same stage), which shows the flash ``done``."""
    location = console_base(event) + quote(path) + "?" + urlencode({"done": done})
    return Response(status_code=303, headers={**CONSOLE_HEADERS, "Location": location})


def flash(event: APIGatewayProxyEvent) -> str | None:
    return FLASHES.get(event.get_query_string_value("done", "") or "")


def form(event: APIGatewayProxyEvent, *, strip: bool = True) -> dict[str, str]:
    """A urlencoded form's fields (the first value of each, stripped unless ``strip`` is off, as
    for a password), size-checked first."""
    text = sized_body(event).decode("utf-8")
    fields = parse_qs(text, max_num_fields=MAX_FIELDS, keep_blank_values=True)
    return {name: values[0].strip() if strip else values[0] for name, values in fields.items()}


TITLES = {401: "Sign in", 403: "Not yours to see", 404: "Not found", 409: "Not now", 413: "Too large"}


def register_error_pages(app: APIGatewayRestResolver) -> None:
    """Every console failure as a page that says what was wrong: bad input is a 4xx, only a
    failing dependency a 503 (handoff.api.responses does the same for the JSON API)."""

    def page(status: int, message: str) -> Response[str]:
        event = app.current_event
        return html_page(
            status,
            "console_error.html",
            base=console_base(event),
            viewer=_viewer_or_none(event),
            title=TITLES.get(status, "That did not work"),
            message=message,
            code=status,
        )

    def _bad_request(exc: BadRequest) -> Response[str]:
        return page(400, exc.message)

    def _rejected(exc: RequestRejected) -> Response[str]:
        return page(REJECTIONS.get(type(exc), (400, ""))[0], exc.message)

    def _unreadable(exc: Exception) -> Response[str]:
        logger.warning("unreadable console request", extra={"error": type(exc).__name__})
        return page(400, "the form could not be read: send it from the console's page")

    def _unavailable(exc: Exception) -> Response[str]:
        logger.exception("dependency unavailable")
        return page(503, "a dependency is temporarily unavailable; try again in a moment")

    def _misconfigured(exc: ConfigError) -> Response[str]:
        logger.exception("misconfigured")
        return page(500, "Handoff is misconfigured; see the function logs")

    app.exception_handler(BadRequest)(_bad_request)
    app.exception_handler(RequestRejected)(_rejected)
    app.exception_handler([UnicodeDecodeError, ValueError])(_unreadable)
    app.exception_handler([StorageError, CrmUnavailable])(_unavailable)
    app.exception_handler(ConfigError)(_misconfigured)

    @app.not_found
    def _no_route(exc: Exception) -> Response[str]:
        return page(404, "no such console page")


def _viewer_or_none(event: APIGatewayProxyEvent) -> Viewer | None:
    """The viewer, for the error page's navigation, when the request has one."""
    try:
        return viewer(event)
    except Unauthorized:
        return None
