"""Email through SES v2 (the Mailer port)."""

from __future__ import annotations

import random
import time
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from handoff.email.render import RenderedEmail
from handoff.email.send import EmailRejected, EmailThrottled, Envelope, build_mime
from handoff.errors import THROTTLING_CODES

# A step waits in place only for a moment due within a couple of seconds (handoff.domain.pacing),
# timed here, just before the call, so the time the step took to get here is not added to it.
MAX_DELAY_SECONDS = 3.0


# The SES client makes one attempt (handoff.aws.container): a throttled send is tried again at
# its next turn on the send schedule (handoff.service.notify.send_paced), never at a random
# moment that would take the turn of the send after it. An outage (5xx, a dropped connection)
# is tried again here, as the SDK would.
TRANSIENT_PAUSES = (0.5, 1.0)


def _transient(exc: ClientError | BotoCoreError) -> bool:
    if isinstance(exc, BotoCoreError):
        return True
    return int(exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0)) >= 500


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
        for pause in (*TRANSIENT_PAUSES, None):
            try:
                return str(self._client.send_email(**kwargs)["MessageId"])
            except (ClientError, BotoCoreError) as exc:
                code = exc.response.get("Error", {}).get("Code", "") if isinstance(exc, ClientError) else ""
                if code in THROTTLING_CODES:
                    raise EmailThrottled(f"SES {code}") from exc
                if pause is None or not _transient(exc):
                    raise EmailRejected(f"SES {code or type(exc).__name__}") from exc
                time.sleep(pause * random.uniform(0.5, 1.0))  # noqa: S311 - jitter, not a secret
        raise AssertionError("unreachable")  # pragma: no cover
