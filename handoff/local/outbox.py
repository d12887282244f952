"""Every email the local SES sends is also written to the outbox as .eml and .html."""

from __future__ import annotations

import email
import re
from datetime import UTC, datetime
from email.message import Message
from pathlib import Path
from typing import Any

# Where the patched SES send writes; set by install(), read on every send.
_target: dict[str, Path] = {}


def _html_part(message: Message) -> str | None:
    for part in message.walk():
        if part.get_content_type() == "text/html":
            payload = part.get_payload(decode=True)
            if isinstance(payload, bytes):
                return payload.decode(part.get_content_charset() or "utf-8")
    return None


def write(outbox: Path, message_id: str, raw: str) -> Path:
    outbox.mkdir(parents=True, exist_ok=True)
    message = email.message_from_string(raw)
    to = re.sub(r"[^A-Za-z0-9._-]", "_", str(message.get("To", "unknown")))[:60]
    # The whole message id: no two sends share a file, however close in time.
    stem = f"{datetime.now(UTC).strftime('%Y%m%dT%H%M%S%f')}-{to}-{message_id}"
    eml = outbox / f"{stem}.eml"
    eml.write_text(raw, encoding="utf-8")
    html = _html_part(message)
    if html is not None:
        (outbox / f"{stem}.html").write_text(html, encoding="utf-8")
    return eml


def install(outbox: Path) -> None:
    """Wrap moto's SES raw send so each accepted message lands in ``outbox``."""
    from moto.ses.models import SESBackend

    first_install = not _target
    _target["outbox"] = outbox
    if not first_install:
        return
    original = SESBackend.send_raw_email

    def send_and_keep(self: Any, source: str, destinations: list[str], raw_data: str) -> Any:
        sent = original(self, source, destinations, raw_data)
        write(_target["outbox"], sent.id, raw_data)
        return sent

    SESBackend.send_raw_email = send_and_keep  # type: ignore[method-assign]
