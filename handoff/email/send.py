"""Send a rendered email through SES v2 as one MIME message (plain text + HTML)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formataddr
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from handoff.email.render import RenderedEmail
from handoff.errors import HandoffError


class EmailRejected(HandoffError):
    """SES refused the message; the workflow's retry policy decides what happens next."""


# SES's rule for a message tag's name and value; SES refuses the whole send otherwise.
_TAG_TEXT = re.compile(r"[A-Za-z0-9_-]{1,256}")


@dataclass(frozen=True)
class Envelope:
    sender: str
    to: str
    from_name: str = ""
    reply_to: str = ""
    configuration_set: str = ""
    # Message tags (name, value): SES copies them into the events it publishes for this email.
    tags: tuple[tuple[str, str], ...] = ()

    def __post_init__(self) -> None:
        # Fail here, naming the tag, rather than as an SES rejection the workflow retries.
        for name, value in self.tags:
            if not (_TAG_TEXT.fullmatch(name) and _TAG_TEXT.fullmatch(value)):
                raise ValueError(f"SES message tag {name!r}: only A-Z, a-z, 0-9, _ and -, 1 to 256 of them")


def build_mime(email: RenderedEmail, envelope: Envelope) -> bytes:
    message = EmailMessage()
    message["Subject"] = email.subject
    message["From"] = (
        formataddr((envelope.from_name, envelope.sender)) if envelope.from_name else envelope.sender
    )
    message["To"] = envelope.to
    if envelope.reply_to:
        message["Reply-To"] = envelope.reply_to
    message.set_content(email.text)
    message.add_alternative(email.html, subtype="html")
    return message.as_bytes()


def send_email(ses: Any, email: RenderedEmail, envelope: Envelope) -> str:
    """Send and return the SES message id."""
    kwargs: dict[str, Any] = {
        "FromEmailAddress": envelope.sender,
        "Destination": {"ToAddresses": [envelope.to]},
        "Content": {"Raw": {"Data": build_mime(email, envelope)}},
    }
    if envelope.configuration_set:
        kwargs["ConfigurationSetName"] = envelope.configuration_set
    if envelope.tags:
        kwargs["EmailTags"] = [{"Name": name, "Value": value} for name, value in envelope.tags]
    try:
        response = ses.send_email(**kwargs)
    except (ClientError, BotoCoreError) as exc:
        code = exc.response.get("Error", {}).get("Code", "") if isinstance(exc, ClientError) else ""
        raise EmailRejected(f"SES {code or type(exc).__name__}") from exc
    return str(response["MessageId"])
