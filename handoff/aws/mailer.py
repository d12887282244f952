"""Email through SES v2 (the Mailer port)."""

from __future__ import annotations

from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from handoff.email.render import RenderedEmail
from handoff.email.send import EmailRejected, EmailThrottled, Envelope, build_mime
from handoff.errors import THROTTLING_CODES


class SesMailer:
    def __init__(self, client: Any):
        self._client = client

    def send(self, email: RenderedEmail, envelope: Envelope) -> str:
        """Send and return the SES message id; EmailRejected when SES refuses it."""

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
            response = self._client.send_email(**kwargs)
        except (ClientError, BotoCoreError) as exc:
            code = exc.response.get("Error", {}).get("Code", "") if isinstance(exc, ClientError) else ""
            if code in THROTTLING_CODES:
                raise EmailThrottled(f"SES {code}") from exc
            raise EmailRejected(f"SES {code or type(exc).__name__}") from exc
        return str(response["MessageId"])
