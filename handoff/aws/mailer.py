"""Email through SES v2 (the Mailer port)."""

from __future__ import annotations

import time
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from handoff.aws.throttling import tried_again
from handoff.domain import pacing
from handoff.email.render import RenderedEmail
from handoff.email.send import EmailRejected, EmailThrottled, Envelope, build_mime
from handoff.errors import THROTTLING_CODES

# A step waits in place only for a moment due within seconds (handoff.domain.pacing), timed
# here, just before the call, so the time the step took to get here is not added to it.
MAX_DELAY_SECONDS = pacing.LONGEST_SLEEP_SECONDS


# The SES client makes one attempt (handoff.aws.container). A paced send that SES throttles is
# tried again within its own gap (pacing.SHORT_REFUSAL_PAUSES), then handed back, to be tried at
# its next turn on the send schedule (handoff.service.notify), never at a random moment that
# would take the turn of the send after it. An outage (5xx, a dropped connection), or a throttle
# of a send not on the schedule (tuning's monthly report), is tried again here, as the SDK would.
TRANSIENT_PAUSES = (0.5, 1.0)


class _Unavailable(Exception):
    """An attempt worth making again; ``final`` once the pauses run out."""

    def __init__(self, final: EmailRejected):
        super().__init__(str(final))
        self.final = final


class SesMailer:
    def __init__(self, client: Any):
        self._client = client

    def send(self, email: RenderedEmail, envelope: Envelope, at: float | None = None) -> str:
        """Send at moment ``at`` (epoch seconds: its moment on the send schedule), and return the
        SES message id; EmailRejected when SES refuses it."""

        kwargs: dict[str, Any] = {
            "FromEmailAddress": envelope.sender,
            "Destination": {"ToAddresses": [envelope.to]},
            "Content": {"Raw": {"Data": build_mime(email, envelope)}},
        }
        if envelope.configuration_set:
            kwargs["ConfigurationSetName"] = envelope.configuration_set
        if envelope.tags:
            kwargs["EmailTags"] = [{"Name": name, "Value": value} for name, value in envelope.tags]
        delay = 0.0 if at is None else at - time.time()
        if 0 < delay <= MAX_DELAY_SECONDS:  # a moment further off means clocks that disagree
            time.sleep(delay)

        def attempt() -> str:
            return tried_again(
                lambda: self._send_once(kwargs, paced=at is not None),
                on=_Unavailable,
                pauses=TRANSIENT_PAUSES,
            )

        try:
            if at is None:
                return attempt()
            return tried_again(attempt, on=EmailThrottled, pauses=pacing.SHORT_REFUSAL_PAUSES)
        except _Unavailable as exc:
            raise exc.final from exc.__cause__

    def _send_once(self, kwargs: dict[str, Any], *, paced: bool) -> str:
        try:
            return str(self._client.send_email(**kwargs)["MessageId"])
        except (ClientError, BotoCoreError) as exc:
            code = exc.response.get("Error", {}).get("Code", "") if isinstance(exc, ClientError) else ""
            if code in THROTTLING_CODES:
                throttled = EmailThrottled(f"SES {code}")
                if paced:  # its next turn on the schedule is the caller's to take
                    raise throttled from exc
                raise _Unavailable(throttled) from exc
            rejected = EmailRejected(f"SES {code or type(exc).__name__}")
            if _transient(exc):
                raise _Unavailable(rejected) from exc
            raise rejected from exc


def _transient(exc: ClientError | BotoCoreError) -> bool:
    if isinstance(exc, BotoCoreError):
        return True
    return int(exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0)) >= 500
