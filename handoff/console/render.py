"""The console's templates (handoff/console/templates), rendered as the emails are: autoescaped,
strict about undefined names, and sent with the console's security headers."""

from __future__ import annotations

from functools import cache
from typing import Any

from aws_lambda_powertools.event_handler import Response
from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

HTML = "text/html; charset=utf-8"


@cache
def environment() -> Environment:
    return Environment(
        loader=PackageLoader("handoff", "console/templates"),
        autoescape=select_autoescape(enabled_extensions=("html",), default_for_string=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def render(template: str, **context: Any) -> str:
    return environment().get_template(template).render(**context)


def html_page(
    status: int, template: str, *, headers: dict[str, str] | None = None, **context: Any
) -> Response[str]:
    """A console page with the console's headers (no-store, CSP, no framing) and any others."""
    from handoff.console.session import CONSOLE_HEADERS

    return Response(
        status_code=status,
        content_type=HTML,
        body=render(template, **context),
        headers={**CONSOLE_HEADERS, **(headers or {})},
    )
