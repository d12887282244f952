"""Send a rendered email through SES v2 as one MIME message (plain text + HTML)."""

from __future__ import annotations

from email.message import EmailMessage
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from handoff.email.render import RenderedEmail
from handoff.errors import HandoffError


class EmailRejected(HandoffError):
    """SES refused the message; the workflow's retry policy decides what happens next."""


def build_mime(email: RenderedEmail, sender: str, to: str) -> bytes:
    message = EmailMessage()
    message["Subject"] = email.subject
    message["From"] = sender
    message["To"] = to
    message.set_content(email.text)
    message.add_alternative(email.html, subtype="html")
    return message.as_bytes()


def send_email(ses: Any, email: RenderedEmail, *, sender: str, to: str, configuration_set: str = "") -> str:
    """Send and return the SES message id."""
    kwargs: dict[str, Any] = {
        "FromEmailAddress": sender,
        "Destination": {"ToAddresses": [to]},
        "Content": {"Raw": {"Data": build_mime(email, sender, to)}},
    }
    if configuration_set:
        kwargs["ConfigurationSetName"] = configuration_set
    try:
        response = ses.send_email(**kwargs)
    except (ClientError, BotoCoreError) as exc:
        code = exc.response.get("Error", {}).get("Code", "") if isinstance(exc, ClientError) else ""
        raise EmailRejected(f"SES {code or type(exc).__name__}") from exc
    return str(response["MessageId"])
