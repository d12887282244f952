"""JSON over HTTPS to a CRM, with the retry rules every CRM call follows.

429 and 5xx are retried with exponential backoff and full jitter, honouring Retry-After;
404 means the record is gone; anything else, or running out of attempts, is CrmUnavailable.
A 401 gets one chance to re-authenticate (``on_unauthorized``), for expired OAuth tokens.
"""

from __future__ import annotations

import json
import random
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from typing import Any

from handoff.errors import HandoffError

RETRYABLE = {429, 500, 502, 503, 504}
MAX_DELAY_SECONDS = 5.0


class CrmUnavailable(HandoffError):
    """The CRM could not be reached, or refused, after retries."""


class CrmRecordMissing(HandoffError):
    """The CRM says the record does not exist (deleted or merged since the event)."""


class CrmUnauthorized(CrmUnavailable):
    """The CRM refused the credentials, even after re-authenticating (fix the secret; retries wait)."""


class CrmHttp:
    def __init__(
        self,
        name: str,
        base_url: str,
        auth_header: Callable[[], str],
        *,
        timeout: float = 3.0,
        attempts: int = 3,
        backoff: float = 0.2,
        max_delay: float = MAX_DELAY_SECONDS,
        sleep: Callable[[float], None] = time.sleep,
        on_unauthorized: Callable[[], None] | None = None,
    ):
        self.name = name
        self.base_url = base_url.rstrip("/")
        self._auth_header = auth_header
        self.timeout = timeout
        self.attempts = attempts
        self.backoff = backoff
        self.max_delay = max_delay
        self._sleep = sleep
        self._on_unauthorized = on_unauthorized

    def request(
        self,
        method: str,
        path: str,
        *,
        query: dict[str, str] | None = None,
        body: dict[str, Any] | None = None,
        form: dict[str, str] | None = None,
        idempotent: bool = True,
    ) -> dict[str, Any] | None:
        """The decoded JSON answer (None for an empty one, e.g. 204). ``form`` sends the body
        form-encoded (OAuth token requests), ``body`` as JSON. ``idempotent=False`` (a create):
        only a 429 is sent again, refused before the CRM acted; a timeout or a 5xx may follow a
        create that happened, so it is CrmUnavailable at once and the caller looks before retrying."""
        url = f"{self.base_url}{path}" + (f"?{urllib.parse.urlencode(query)}" if query else "")
        data = json.dumps(body).encode() if body is not None else None
        content_type = "application/json"
        if form is not None:
            data, content_type = urllib.parse.urlencode(form).encode(), "application/x-www-form-urlencoded"
        last = "no attempt"
        reauthenticated = False
        attempt = 0
        while attempt < self.attempts:
            headers = {"Accept": "application/json"}
            if authorization := self._auth_header():
                headers["Authorization"] = authorization
            if data is not None:
                headers["Content-Type"] = content_type
            request = urllib.request.Request(url, data=data, method=method, headers=headers)  # noqa: S310
            delay: float | None = None
            try:
                with urllib.request.urlopen(request, timeout=self.timeout) as response:  # noqa: S310
                    raw = response.read()
                    answer: dict[str, Any] | None = json.loads(raw) if raw else None
                    return answer
            except urllib.error.HTTPError as error:
                if error.code == 401 and self._on_unauthorized and not reauthenticated:
                    reauthenticated = True
                    self._on_unauthorized()  # an expired token: get a new one and try again, once
                    continue
                if error.code in (401, 403):
                    raise CrmUnauthorized(
                        f"{self.name} refused the credentials ({error.code}) for {path}"
                    ) from error
                if error.code == 404:
                    raise CrmRecordMissing(f"{self.name}: {path} not found") from error
                if error.code not in RETRYABLE or (not idempotent and error.code != 429):
                    raise CrmUnavailable(f"{self.name} answered {error.code} for {path}") from error
                last = f"HTTP {error.code}"
                retry_after = error.headers.get("Retry-After") if error.headers else None
                delay = float(retry_after) if retry_after and retry_after.isdigit() else None
            except (urllib.error.URLError, TimeoutError, json.JSONDecodeError) as error:
                if not idempotent:
                    raise CrmUnavailable(
                        f"{self.name} gave no answer for {path} ({type(error).__name__}); it may have acted"
                    ) from error
                last = type(error).__name__
            attempt += 1
            if attempt < self.attempts:
                # Full jitter keeps many containers from retrying in lockstep; Retry-After wins.
                jittered = self.backoff * 2 ** (attempt - 1) * (0.5 + random.random())  # noqa: S311
                self._sleep(min(delay if delay is not None else jittered, self.max_delay))
        raise CrmUnavailable(f"{self.name} unavailable for {path} after {self.attempts} attempts ({last})")
