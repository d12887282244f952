"""The brief as a Slack Block Kit message, posted to an incoming webhook.

The same essentials as the email; the disposition buttons are links to the same
signed pages, so Slack needs no app, no interactivity endpoint and no extra auth.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from typing import Any

from handoff.email.brief import BriefView
from handoff.errors import HandoffError

TIMEOUT_SECONDS = 3


class SlackFailed(HandoffError):
    """Slack refused or did not answer; the email already went, so the handoff carries on."""


def _text(value: str) -> str:
    # Slack's mrkdwn treats <, > and & as control characters.
    return value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def blocks(brief: BriefView) -> dict[str, Any]:
    # Every text field is escaped, plain_text included: Slack decodes the entities on display,
    # and the top-level fallback text would otherwise turn "<!channel>" into a mention.
    headline = _text(f"{brief.tier.upper()} lead: {brief.name}" + (f", {brief.title}" if brief.title else ""))
    facts = [
        f"*Company*\n{_text(brief.company)}"
        + (f"\n{_text(brief.company_line)}" if brief.company_line else ""),
        f"*Respond by*\n{_text(brief.respond_by)} ({_text(brief.respond_in)})",
        f"*Why now*\n{_text(brief.trigger)}",
        f"*Contact*\n{_text(brief.email)}" + (f"\n{_text(brief.phone)}" if brief.phone else ""),
    ]
    body: list[dict[str, Any]] = [
        {"type": "header", "text": {"type": "plain_text", "text": headline[:150]}},
        *(
            {"type": "section", "text": {"type": "mrkdwn", "text": f":no_entry: *{_text(notice)}*"}}
            for notice in brief.consent
        ),
        *(
            {"type": "section", "text": {"type": "mrkdwn", "text": f":information_source: {_text(notice)}"}}
            for notice in brief.ownership
        ),
        {"type": "section", "fields": [{"type": "mrkdwn", "text": f[:2000]} for f in facts]},
        {
            "type": "section",
            "text": {
                "type": "mrkdwn",
                "text": "*Why this lead qualified*"
                + (f" (as scored {_text(brief.reasons_as_of)})" if brief.reasons_as_of else "")
                + "\n"
                + "\n".join(
                    f"• {_text(r)}" for r in [*([brief.fast_lane] if brief.fast_lane else []), *brief.reasons]
                ),
            },
        },
        {
            "type": "section",
            "text": {"type": "mrkdwn", "text": f"*Talk track*\n{_text(brief.talk_track)}"[:3000]},
        },
        {
            "type": "context",
            "elements": [{"type": "mrkdwn", "text": f"Why you: {_text(brief.why_you)}"[:3000]}],
        },
    ]
    buttons = [
        {"type": "button", "text": {"type": "plain_text", "text": link.label}, "url": link.url}
        for link in brief.links
    ]
    if brief.crm_url:
        buttons.insert(
            0,
            {
                "type": "button",
                "text": {"type": "plain_text", "text": f"Open in {brief.crm_name}"},
                "url": brief.crm_url,
                "style": "primary",
            },
        )
    if buttons:
        body.append({"type": "actions", "elements": buttons[:25]})
    return {"text": f"{headline} - respond by {_text(brief.respond_by)}", "blocks": body}


def post(webhook_url: str, message: dict[str, Any]) -> None:
    if not webhook_url.startswith(("https://", "http://")):
        raise SlackFailed("the Slack webhook URL is not http(s)")
    request = urllib.request.Request(  # noqa: S310 - scheme checked above
        webhook_url,
        data=json.dumps(message).encode(),
        method="POST",
        headers={"Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as response:  # noqa: S310
            if response.status != 200:
                raise SlackFailed(f"Slack answered {response.status}")
    except urllib.error.HTTPError as exc:
        raise SlackFailed(f"Slack answered {exc.code}") from exc
    except (urllib.error.URLError, TimeoutError) as exc:
        raise SlackFailed(f"Slack unreachable: {type(exc).__name__}") from exc
