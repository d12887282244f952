"""What services need from the world, as small protocols; handoff.aws implements them on AWS."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from handoff.email.render import RenderedEmail
    from handoff.email.send import Envelope


class Workflow(Protocol):
    """The handoff state machine: one execution per lead (and per recovery)."""

    def start(self, name: str, payload: dict[str, Any]) -> bool:
        """Start execution ``name``; False when it already exists (a repeat is not an error)."""
        ...

    def running(self, name: str) -> bool:
        """Whether execution ``name`` exists and is still running."""
        ...

    def succeed(self, token: str, output: dict[str, Any]) -> bool:
        """End a parked wait with success; False when the token no longer waits."""
        ...

    def fail(self, token: str, error: str, cause: str) -> bool:
        """End a parked wait with an error; False when the token no longer waits."""
        ...


class WriteBackQueue(Protocol):
    """Where write-backs to the CRM wait for the crm_sync step."""

    def send(self, body: str) -> None:
        """Queue one message; StorageError when the queue cannot take it."""
        ...


class Mailer(Protocol):
    """Sends one rendered email."""

    def send(self, email: RenderedEmail, envelope: Envelope) -> str:
        """The message id; EmailRejected when the mail service refuses it."""
        ...
