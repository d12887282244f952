"""What services need from the world, as small protocols.

handoff.aws implements them on AWS (handoff.aws.container builds them once per cold start, and
each handler passes them in); tests/fakes.py implements them in memory for the service tier.
Every failure crosses a port as a domain exception from handoff.errors, never as an AWS one.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Iterator
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol

from handoff.domain.pacing import WAIT_IN_STEP_SECONDS

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.idempotency import IdempotencyConfig

    from handoff.config import HandoffConfig
    from handoff.crm.hubspot_api import ContactRecords, DealRecords
    from handoff.domain.pacing import Slots, Turn
    from handoff.domain.record import Disposition, LeadRecord, LeadStatus, TimelineEntry
    from handoff.domain.rep import Rep
    from handoff.email.render import RenderedEmail
    from handoff.email.send import Envelope


class Leads(Protocol):
    """The leads: each lead's record, every decision with its reasons, and its timeline."""

    def create(self, record: LeadRecord) -> None:
        """Store a new lead; AlreadyExists when this delivery was seen before."""
        ...

    def get_item(self, lead_id: str) -> dict[str, Any] | None:
        """The stored lead with its bookkeeping (task token, open status...), or None."""
        ...

    def get(self, lead_id: str) -> LeadRecord | None: ...

    def update(
        self,
        lead_id: str,
        *,
        set_fields: dict[str, Any] | None = None,
        append: dict[str, list[Any]] | None = None,
        remove: tuple[str, ...] = (),
        timeline: list[TimelineEntry] | None = None,
        expect_status: tuple[LeadStatus, ...] = (),
        expect: dict[str, Any] | None = None,
        read_back: bool = False,
    ) -> dict[str, Any] | None:
        """One atomic write; Conflict when the lead is missing, not in ``expect_status``, or an
        attribute named in ``expect`` does not hold its value (None: the attribute is absent),
        which is how a read-modify-write knows nobody wrote in between. With ``read_back``, the
        item as this write left it (its answer: no write can land between them); else None."""
        ...

    def use_link(self, lead_id: str, nonce: str) -> bool:
        """Mark a one-click link used; False when it already was."""
        ...

    def record_undelivered_brief(self, lead_id: str, message_id: str, entry: TimelineEntry) -> bool:
        """Note a bounced brief once; False when already noted or no such lead."""
        ...

    def clear_task_token(self, lead_id: str, token: str) -> None:
        """Forget ``token`` unless a newer wait has parked its own."""
        ...

    def by_brief_message(self, message_id: str) -> dict[str, Any] | None: ...

    def open_for_crm_record(self, system: str, record_id: str, sources: Collection[str]) -> LeadRecord | None:
        """The newest open handoff for this CRM record among leads from ``sources``: the record's
        own CRM, plus any source trusted to name it (handoff.domain.provenance)."""
        ...

    def latest_for_crm_record(
        self,
        system: str,
        record_id: str,
        sources: Collection[str],
        *,
        received_within: tuple[datetime, datetime] | None = None,
    ) -> LeadRecord | None:
        """The newest lead for this CRM record from ``sources``, whatever its status; with
        ``received_within`` (start, end), the newest received in that window, both ends included
        (a query bounded by time on the by_crm_record index, never a scan)."""
        ...

    def open_handoff_rep(self, email: str, exclude_lead_id: str) -> str | None: ...

    def late(self, status: str, now: datetime) -> Iterator[dict[str, Any]]:
        """Every lead in ``status`` (in flight, or failed) whose step should have ended by ``now``
        (its check_at passed), with status, source, received_at, failure, failure_escalated,
        recoveries and check_at; page by page, uncapped."""
        ...

    def in_status(self, status: str, limit: int, start: Any = None) -> tuple[list[dict[str, Any]], Any]:
        """One page of the leads in ``status`` (the same fields), and where to go on (None: done)."""
        ...

    def unassigned(self) -> Iterator[str]:
        """Ids of the open leads in the unassigned queue (nobody could take them)."""
        ...

    def overdue(self, now: datetime) -> Iterator[str]:
        """Ids of every lead still waiting for a first touch whose SLA is past due."""
        ...

    def cadence_due(self, now: datetime) -> Iterator[str]:
        """Ids of every lead whose follow-up cadence has a step due by ``now``."""
        ...

    def received_between(self, start: datetime, end: datetime) -> Iterable[LeadRecord]:
        """Leads received in [start, end), one at a time (a time-ranged index query, then the
        leads page by page): memory never holds the period."""
        ...

    def for_crm_account(
        self,
        system: str,
        account_ids: Collection[str],
        domains: Collection[str],
        start: datetime,
        end: datetime,
    ) -> list[LeadRecord]:
        """Leads from ``system`` received in [start, end) whose crm.account_id is one of
        ``account_ids`` or whose company domain is one of ``domains``, newest first."""
        ...


class Reps(Protocol):
    """The roster, with each rep's open load and fairness clock."""

    def put(self, rep: Rep) -> None: ...

    def get(self, rep_id: str) -> Rep | None: ...

    def list_all(self) -> list[Rep]: ...

    def claim(
        self,
        rep: Rep,
        lead_id: str,
        now: datetime,
        *,
        next_vtime: float | None = None,
        exact_turn: bool = True,
        over_capacity: bool = False,
    ) -> Rep:
        """Take one slot for ``lead_id`` atomically; CapacityExhausted or ClaimConflict when it
        cannot. ``over_capacity``: an owner keeping their lead past capacity and daily cap (still
        counted). A lead the rep holds already is not counted again (a step tried again)."""
        ...

    def update(self, rep_id: str, **fields: Any) -> Rep: ...

    def release(self, rep_id: str, lead_id: str) -> None:
        """Give back the slot ``lead_id`` holds; a lead holding none changes nothing."""
        ...


class Accounts(Protocol):
    """Known accounts and their owners, for ownership routing."""

    def owner_for(self, *domains: str | None) -> str | None: ...


class Dispositions(Protocol):
    """Outcomes as the monthly job reads them, by month."""

    def put(self, lead_id: str, disposition: Disposition, *, tier: str | None, source: str) -> None: ...

    def between(self, start: datetime, end: datetime) -> list[dict[str, Any]]: ...


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

    def send(self, email: RenderedEmail, envelope: Envelope, at: float | None = None) -> str:
        """Send at moment ``at`` (epoch seconds; its moment on the send schedule, at most 2 s
        or so away): the message id; EmailRejected when the mail service refuses it."""
        ...


class SendSchedule(Protocol):
    """The account's email pace, shared by every function that sends (handoff.domain.pacing)."""

    def take(self, now: float, emails: int = 1, within: float | None = None) -> Slots | None:
        """The moments (epoch seconds, no earlier than ``now`` or the schedule's own clock) for
        the next ``emails`` sends, held for the caller; None, holding nothing, when the first is
        more than ``within`` seconds away."""
        ...

    def turn(self, at: float, within: float | None = WAIT_IN_STEP_SECONDS) -> Turn:
        """The moment an email due at ``at`` may actually go: the sends' own clock, taken just
        before the call, so one step late to its moment does not land on the heels of the send
        before it. Not taken, holding nothing, when that is more than ``within`` seconds off
        (None: taken however far): the turn then says when the clock is next free."""
        ...


class Reports(Protocol):
    """Where the monthly job keeps its files for people to review."""

    def publish(self, prefix: str, files: dict[str, tuple[str, str]]) -> None:
        """Write each ``name: (body, content type)`` under ``prefix``."""
        ...


class HubSpotApi(Protocol):
    def contact_records(self, contact_id: str, properties: list[str]) -> ContactRecords:
        """The contact (CrmRecordMissing when it is gone), its company and its most recent open
        deal (None when there is none); CrmUnavailable when HubSpot cannot answer."""
        ...

    def update_contact(self, contact_id: str, properties: dict[str, str]) -> None: ...

    def create_task(self, contact_id: str, properties: dict[str, str], association_type: int) -> str:
        """A new task associated with the contact: its id. Sent once: CrmUnavailable when the
        answer is lost, the task perhaps created (``find_task`` then tells)."""
        ...

    def find_task(self, contact_id: str, marker: str) -> str | None:
        """The id of a task on the contact whose body carries ``marker``, or None."""
        ...

    def deal_records(self, deal_id: str) -> DealRecords:
        """The deal (CrmRecordMissing when it is gone), its contacts' ids and its primary company;
        CrmUnavailable when HubSpot cannot answer."""
        ...


class SalesforceApi(Protocol):
    def update(self, sobject: str, record_id: str, fields: dict[str, str]) -> None: ...

    def create(self, sobject: str, fields: dict[str, str]) -> str:
        """A new record (a Task): its id. Sent once, as HubSpotApi.create_task."""
        ...

    def find_task(self, who_id: str, marker: str) -> str | None:
        """The id of a Task on the Lead or Contact whose Description carries ``marker``, or None."""
        ...

    def opportunity_records(self, opportunity_id: str) -> tuple[dict[str, Any] | None, list[str]]:
        """The Opportunity's fields and its contact roles' Contact ids; (None, []) when it is gone."""
        ...

    def account_with_open_opportunity(
        self, account_id: str, fields: list[str]
    ) -> tuple[dict[str, Any] | None, dict[str, Any] | None]:
        """The Account's ``fields`` and its most recent open Opportunity (Id, OwnerId); (None, None)
        when the Account is gone; CrmUnavailable when Salesforce cannot answer."""
        ...


class Ports(Protocol):
    """Everything a service reaches outside itself. A function builds only what it touches,
    so nothing here may be read eagerly."""

    @property
    def leads(self) -> Leads: ...

    @property
    def reps(self) -> Reps: ...

    @property
    def accounts(self) -> Accounts | None:
        """None when the stack keeps no accounts."""
        ...

    @property
    def dispositions(self) -> Dispositions: ...

    @property
    def workflow(self) -> Workflow: ...

    @property
    def mailer(self) -> Mailer: ...

    @property
    def send_schedule(self) -> SendSchedule: ...

    @property
    def write_back(self) -> WriteBackQueue | None:
        """None where no queue is configured (the CLI, or a stack without write-back)."""
        ...

    @property
    def reports(self) -> Reports | None:
        """None when the stack keeps no reports."""
        ...

    @property
    def hubspot(self) -> HubSpotApi: ...

    @property
    def salesforce(self) -> SalesforceApi: ...

    @property
    def config(self) -> HandoffConfig:
        """The deployed ops config, validated."""
        ...

    @property
    def config_text(self) -> str:
        """The deployed config file as written (the tuning job proposes edits to it)."""
        ...

    def secret(self, name: str) -> str:
        """A secret's current value, by its short name (handoff.deploy.credentials)."""
        ...

    def idempotent(self, function: Any, config: IdempotencyConfig) -> Any:
        """``function`` made idempotent on ``config``'s key of its ``message`` argument, or
        ``function`` itself where the stack keeps no idempotency records."""
        ...
