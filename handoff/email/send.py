"""An email ready to send: its envelope (sender, recipient, configuration set, tags) and the one
MIME message (plain text + HTML) built from a rendered email. The SES call is handoff.aws.mailer."""

from __future__ import annotations

import re
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formataddr

from handoff.email.render import RenderedEmail
from handoff.errors import HandoffError


class EmailRejected(HandoffError):
    """SES refused the message; the workflow's retry policy decides what happens next."""


class EmailThrottled(EmailRejected):
    """SES refused on its sending rate or daily quota: the send waits (the workflow retries with
    jittered back-off for the best part of an hour), it does not fail the lead."""


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
