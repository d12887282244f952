"""Domain exceptions. Storage turns ClientError into these in one place (handoff.aws),
and handoff.api.responses turns these into HTTP responses in one place."""

from __future__ import annotations

from typing import Any


class HandoffError(Exception):
    """Base for every error Handoff raises on purpose."""


class ConfigError(HandoffError):
    """The ops config or the environment is wrong; the message names what and where."""


class BadRequest(HandoffError):
    """Malformed input: 400 naming the field."""

    def __init__(self, message: str, details: list[Any] | None = None, code: str = "bad_request"):
        super().__init__(message)
        self.message = message
        self.details = details or []
        self.code = code


class RequestRejected(HandoffError):
    """A request Handoff refuses on purpose; ``message`` is safe to show the caller."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class Unauthorized(RequestRejected):
    """Bad or stale signature, wrong token or key: 401."""


class Forbidden(RequestRejected):
    """Signed in, but not allowed this lead or rep (a manager outside their team): 403."""


class PayloadTooLarge(RequestRejected):
    """Body over the size limit: 413."""


class NotFound(RequestRejected):
    """No such lead or route: 404."""


class Conflict(RequestRejected):
    """The request is valid but the lead is in a state that does not allow it: 409."""


class AlreadyExists(HandoffError):
    """A conditional create found the item already there (a duplicate delivery)."""


class CapacityExhausted(HandoffError):
    """A rep's capacity claim lost the race or the rep is inactive."""


class ClaimConflict(HandoffError):
    """A capacity claim did not land: the rep filled up, went away, or another router
    took the same turn. The router re-plans from the rep as the refusal found it
    (``as_found``, None for a rep no longer there) when the store ``reported`` it, and
    otherwise reads the rep again."""

    def __init__(self, message: str, *, as_found: Any = None, reported: bool = False) -> None:
        super().__init__(message)
        self.as_found = as_found
        self.reported = reported


class NoRepAvailable(HandoffError):
    """Every rep in the pool was skipped; the reasons are in the message."""


class StorageError(HandoffError):
    """DynamoDB or another store failed after retries."""

    @property
    def cause_name(self) -> str:
        """The underlying error's type (ClientError, EndpointConnectionError...): safe to log."""
        return type(self.__cause__ or self).__name__


# AWS's error codes for a request refused on a rate or a quota, not on its content.
THROTTLING_CODES = frozenset(
    {
        "ThrottlingException",
        "Throttling",
        "ProvisionedThroughputExceededException",
        "RequestLimitExceeded",
        "TooManyRequestsException",
        "LimitExceededException",
    }
)


class StorageUnanswered(StorageError):
    """The call got no answer (a timeout, a dropped connection): it may or may not have been
    applied. Only an idempotent call is tried again on it, such as starting a named execution
    (a second start of the same name is refused, never run twice)."""


class StorageThrottled(StorageError):
    """The store refused on a rate or a quota: a later try succeeds. The workflow retries it
    with back-off, and a lead that fails on it alone is redriven by sla_check."""
