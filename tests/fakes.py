"""In-memory fakes of every port in handoff.service.ports, for the service tier.

They keep the promises the AWS adapters make (conditional writes, the sparse indexes defined
once in handoff.aws.tables, tokens that stop waiting), and tests/unit/test_port_contracts.py
runs the same checks against both, so a fake cannot drift from what DynamoDB does.
"""

from __future__ import annotations

import copy
import itertools
import json
from collections.abc import Collection, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import jmespath

from handoff.aws.dynamo import check_storable
from handoff.aws.leads import bookkeeping, crm_record, index_attributes
from handoff.aws.reps import CLOCK_TOLERANCE
from handoff.aws.tables import (
    CADENCE_INDEX,
    CONTACT_INDEX,
    CRM_RECORD_INDEX,
    MESSAGE_INDEX,
    OPEN_INDEX,
    SLA_INDEX,
    UNASSIGNED_INDEX,
    Index,
)
from handoff.config import HandoffConfig, parse_config
from handoff.crm.crm_http import CrmRecordMissing, CrmUnavailable
from handoff.crm.hubspot_api import ContactRecords, DealRecords
from handoff.crm.salesforce_api import is_record_id
from handoff.domain import pacing
from handoff.domain.account import Account, normalise_domain
from handoff.domain.record import (
    OPEN_STATUSES,
    UNASSIGNED_REP,
    Disposition,
    LeadRecord,
    LeadStatus,
    TimelineEntry,
    iso,
)
from handoff.domain.rep import Rep
from handoff.email.render import RenderedEmail
from handoff.email.send import EmailRejected, Envelope
from handoff.errors import AlreadyExists, ClaimConflict, Conflict, NotFound, StorageError

ROOT = Path(__file__).resolve().parent.parent


def _plain(value: Any) -> Any:
    """What a value looks like after a round trip through storage: JSON types only."""
    return json.loads(json.dumps(value, default=str))


def _projected(index: Index, item: dict[str, Any]) -> dict[str, Any]:
    """What a query on ``index`` returns of the item, as DynamoDB projects it."""
    if index.include is None:
        return copy.deepcopy(item)
    kept = {"lead_id", index.partition_key, index.sort_key, *index.include}
    return {k: copy.deepcopy(v) for k, v in item.items() if k in kept}


class FakeLeads:
    def __init__(self) -> None:
        self.items: dict[str, dict[str, Any]] = {}

    def create(self, record: LeadRecord) -> None:
        if record.lead_id in self.items:
            raise AlreadyExists(record.lead_id)
        item = json.loads(record.model_dump_json(exclude_none=True)) | index_attributes(record)
        check_storable(item)
        self.items[record.lead_id] = item

    def get_item(self, lead_id: str) -> dict[str, Any] | None:
        item = self.items.get(lead_id)
        return copy.deepcopy(item) if item else None

    def get(self, lead_id: str) -> LeadRecord | None:
        item = self.get_item(lead_id)
        return LeadRecord.model_validate(item) if item else None

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
        item = self.items.get(lead_id)
        if item is None or (expect_status and item.get("status") not in {s.value for s in expect_status}):
            raise Conflict(f"lead {lead_id} is missing or not in {list(expect_status)}")
        if any(
            item.get(name) != (None if value is None else _plain(value))
            for name, value in (expect or {}).items()
        ):
            raise Conflict(f"lead {lead_id} changed since read")
        fields, removed = bookkeeping(lead_id, dict(set_fields or {}), tuple(remove))
        lists = dict(append or {})
        if timeline:
            lists["timeline"] = [e.model_dump(mode="json") for e in timeline]
        for dotted, value in fields.items():
            *parents, last = dotted.split(".")
            node = item
            for part in parents:
                node = node[part]
            node[last] = _plain(value)
        for name, values in lists.items():
            item[name] = [*item.get(name, []), *_plain(values)]
        for name in removed:
            item.pop(name, None)
        return copy.deepcopy(item) if read_back else None

    def use_link(self, lead_id: str, nonce: str) -> bool:
        item = self.items.get(lead_id)
        if item is None or nonce in item.get("used_links", []):
            return False
        item["used_links"] = [*item.get("used_links", []), nonce]
        return True

    def record_undelivered_brief(self, lead_id: str, message_id: str, entry: TimelineEntry) -> bool:
        item = self.items.get(lead_id)
        if item is None or message_id in item.get("undelivered_briefs", []):
            return False
        item["undelivered_briefs"] = [*item.get("undelivered_briefs", []), message_id]
        item["timeline"] = [*item.get("timeline", []), entry.model_dump(mode="json")]
        return True

    def clear_task_token(self, lead_id: str, token: str) -> None:
        item = self.items.get(lead_id)
        if item is not None and item.get("task_token") == token:
            del item["task_token"]

    def _query(self, index: Index, key: str, *, newest_first: bool = False) -> list[dict[str, Any]]:
        """Items under ``key`` in ``index``, by its sort key: a sparse index holds only items
        that carry its keys."""
        found = [
            i
            for i in self.items.values()
            if i.get(index.partition_key) == key and (not index.sort_key or index.sort_key in i)
        ]
        if index.sort_key:
            found.sort(key=lambda i: str(i[index.sort_key]), reverse=newest_first)
        return [_projected(index, i) for i in found]

    def by_brief_message(self, message_id: str) -> dict[str, Any] | None:
        found = self._query(MESSAGE_INDEX, message_id)
        return self.get_item(found[0]["lead_id"]) if found else None

    def _newest_open(self, index: Index, key: str) -> list[dict[str, Any]]:
        statuses = {s.value for s in OPEN_STATUSES}
        return [i for i in self._query(index, key, newest_first=True)[:25] if i.get("status") in statuses]

    def _for_crm_record(
        self,
        system: str,
        record_id: str,
        sources: Collection[str],
        *,
        open_only: bool,
        received_within: tuple[datetime, datetime] | None = None,
    ) -> LeadRecord | None:
        wanted = {s.lower() for s in sources}
        statuses = {s.value for s in OPEN_STATUSES}
        found = [
            item
            for source in wanted
            for item in [
                i
                for i in self._query(
                    CRM_RECORD_INDEX, crm_record(system, record_id, source), newest_first=True
                )
                # A key range on the sort key, as the adapter queries it.
                if received_within is None
                or received_within[0] <= datetime.fromisoformat(i["received_at"]) <= received_within[1]
            ][:25]
            if (not open_only or item.get("status") in statuses) and item["source"].lower() in wanted
        ]
        newest = max(found, key=lambda item: str(item["received_at"]), default=None)
        return self.get(newest["lead_id"]) if newest else None

    def open_for_crm_record(self, system: str, record_id: str, sources: Collection[str]) -> LeadRecord | None:
        return self._for_crm_record(system, record_id, sources, open_only=True)

    def latest_for_crm_record(
        self,
        system: str,
        record_id: str,
        sources: Collection[str],
        *,
        received_within: tuple[datetime, datetime] | None = None,
    ) -> LeadRecord | None:
        return self._for_crm_record(
            system, record_id, sources, open_only=False, received_within=received_within
        )

    def open_handoff_rep(self, email: str, exclude_lead_id: str) -> str | None:
        for item in self._newest_open(CONTACT_INDEX, email):
            if item["lead_id"] != exclude_lead_id and item.get("owner_rep_id"):
                return str(item["owner_rep_id"])
        return None

    def _sharded(self, index: Index, value: str) -> list[dict[str, Any]]:
        return [i for key in index.keys(value) for i in self._query(index, key)]

    def late(self, status: str, now: datetime) -> Iterator[dict[str, Any]]:
        return iter([i for i in self._sharded(OPEN_INDEX, status) if i["check_at"] <= iso(now)])

    def in_status(self, status: str, limit: int, start: Any = None) -> tuple[list[dict[str, Any]], Any]:
        found = sorted(self._sharded(OPEN_INDEX, status), key=lambda i: (i["check_at"], i["lead_id"]))
        if start:
            after = (start["key"]["check_at"], start["key"]["lead_id"])
            found = [i for i in found if (i["check_at"], i["lead_id"]) > after]
        page = found[:limit]
        more = len(found) > limit
        last = {k: page[-1][k] for k in ("lead_id", "check_at", "open_status")} if more else None
        return page, ({"shard": 0, "key": last} if last else None)

    def unassigned(self) -> Iterator[str]:
        return iter([i["lead_id"] for i in self._sharded(UNASSIGNED_INDEX, UNASSIGNED_REP)])

    def overdue(self, now: datetime) -> Iterator[str]:
        return iter([i["lead_id"] for i in self._sharded(SLA_INDEX, "pending") if i["sla_due_at"] < iso(now)])

    def cadence_due(self, now: datetime) -> Iterator[str]:
        found = [i for i in self._sharded(CADENCE_INDEX, "running") if i["cadence_due_at"] <= iso(now)]
        return iter([i["lead_id"] for i in sorted(found, key=lambda i: i["cadence_due_at"])])

    def for_crm_account(
        self,
        system: str,
        account_ids: Collection[str],
        domains: Collection[str],
        start: datetime,
        end: datetime,
    ) -> list[LeadRecord]:
        found = [
            i
            for i in self.items.values()
            if i["crm"].get("system") == system
            and iso(start) <= i["received_at"] < iso(end)
            and (
                i["crm"].get("account_id") in account_ids or (i.get("company") or {}).get("domain") in domains
            )
        ]
        found.sort(key=lambda i: str(i["received_at"]), reverse=True)
        return [LeadRecord.model_validate(i) for i in found]

    def received_between(self, start: datetime, end: datetime) -> Iterator[LeadRecord]:
        return (
            LeadRecord.model_validate(i)
            for i in self.items.values()
            if iso(start) <= i["received_at"] < iso(end)
        )


class FakeReps:
    def __init__(self, *reps: Rep) -> None:
        self.items: dict[str, dict[str, Any]] = {}
        for rep in reps:
            self.put(rep)

    def put(self, rep: Rep) -> None:
        self.items[rep.rep_id] = json.loads(rep.model_dump_json(exclude_none=True))

    def get(self, rep_id: str) -> Rep | None:
        item = self.items.get(rep_id)
        return Rep.model_validate(item) if item else None

    def list_all(self) -> list[Rep]:
        return [Rep.model_validate(self.items[k]) for k in sorted(self.items)]

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
        item = self.items.get(rep.rep_id)
        today = rep.today(now)
        # As the adapter does: a refusal reports the rep as it stood.
        refused = ClaimConflict(
            rep.rep_id, as_found=Rep.model_validate(item) if item else None, reported=True
        )
        if item is not None and lead_id in item.get("holds", set()):
            return Rep.model_validate(item)  # this lead's earlier try claimed it
        if (
            item is None
            or not item.get("active")
            or (not over_capacity and item.get("open_count", 0) >= item["capacity"])
            or (rep.day == today and item.get("day") != today)
            or (rep.day != today and item.get("day") == today)
        ):
            raise refused
        day_count = item.get("day_count", 0) + 1 if rep.day == today else 1
        if not over_capacity and "daily_cap" in item and day_count > item["daily_cap"]:
            raise refused
        if next_vtime is not None and exact_turn and item.get("vtime") != rep.vtime:
            raise refused
        item |= {
            "holds": item.get("holds", set()) | {lead_id},
            "open_count": item.get("open_count", 0) + 1,
            "assigned_total": item.get("assigned_total", 0) + 1,
            "last_assigned_at": iso(now),
            "day": today,
            "day_count": day_count,
        }
        if next_vtime is not None:
            item["vtime"] = _clock_after(item.get("vtime"), rep, next_vtime, exact_turn=exact_turn)
            if exact_turn:
                item["vstart"] = next_vtime - 1 / rep.weight
        return Rep.model_validate(item)

    def update(self, rep_id: str, **fields: Any) -> Rep:
        item = self.items.get(rep_id)
        if item is None:
            raise NotFound(f"no rep {rep_id}")
        for name, value in fields.items():
            if value is None:
                item.pop(name, None)
            else:
                item[name] = _plain(value)
        return Rep.model_validate(item)

    def release(self, rep_id: str, lead_id: str) -> None:
        item = self.items.get(rep_id)
        if item is None:
            return
        holds = item.get("holds", set())
        # As the adapter: the lead's own slot, else a slot counted before the ledger existed.
        if lead_id in holds or item.get("open_count", 0) > len(holds):
            item["holds"] = holds - {lead_id}
            item["open_count"] -= 1


def _clock_after(clock: float | None, rep: Rep, next_vtime: float, *, exact_turn: bool) -> float:
    """Where a claim leaves the rep's fairness clock, as the adapter's write does (handoff.aws.reps):
    on the exact turn at ``next_vtime``; off it one turn on from the clock as it stands, or from
    the pool's clock for a rep behind it."""
    turn = 1 / rep.weight
    if exact_turn or clock is None or clock < next_vtime - turn - CLOCK_TOLERANCE:
        return next_vtime
    return clock + turn


class FakeAccounts:
    def __init__(self, *accounts: Account) -> None:
        self.owners = {normalise_domain(a.domain): a.owner for a in accounts}

    def owner_for(self, *domains: str | None) -> str | None:
        for domain in filter(None, map(normalise_domain, domains)):
            if domain in self.owners:
                return self.owners[domain]
        return None


class FakeDispositions:
    def __init__(self) -> None:
        self.items: list[dict[str, Any]] = []

    def put(self, lead_id: str, disposition: Disposition, *, tier: str | None, source: str) -> None:
        item = disposition.model_dump(mode="json", exclude_none=True)
        self.items.append(item | {"lead_id": lead_id, "tier": tier or "", "source": source})

    def between(self, start: datetime, end: datetime) -> list[dict[str, Any]]:
        found = [i for i in self.items if iso(start) <= i["at"] <= iso(end)]
        return sorted(found, key=lambda i: (i["at"], i["lead_id"]))


@dataclass
class FakeWorkflow:
    """Executions by name; a parked wait is a task token until something ends it."""

    started: dict[str, dict[str, Any]] = field(default_factory=dict)
    running_names: set[str] = field(default_factory=set)
    waiting: set[str] = field(default_factory=set)
    ended: list[tuple[str, str, Any]] = field(default_factory=list)  # (token, "succeed"|"fail", what)
    refuse_starts: StorageError | None = None

    def start(self, name: str, payload: dict[str, Any]) -> bool:
        if self.refuse_starts:
            raise self.refuse_starts
        if name in self.started:
            return False
        self.started[name] = payload
        self.running_names.add(name)
        return True

    def running(self, name: str) -> bool:
        return name in self.running_names

    def park(self, token: str) -> str:
        self.waiting.add(token)
        return token

    def succeed(self, token: str, output: dict[str, Any]) -> bool:
        return self._end(token, "succeed", output)

    def fail(self, token: str, error: str, cause: str) -> bool:
        return self._end(token, "fail", (error, cause))

    def _end(self, token: str, how: str, what: Any) -> bool:
        if token not in self.waiting:
            return False
        self.waiting.discard(token)
        self.ended.append((token, how, what))
        return True


@dataclass
class FakeMailer:
    sent: list[tuple[RenderedEmail, Envelope]] = field(default_factory=list)
    moments: list[float | None] = field(default_factory=list)  # each send's moment on the schedule
    reject: str | None = None  # every send is refused with this reason
    _ids: itertools.count[int] = field(default_factory=itertools.count)

    def send(self, email: RenderedEmail, envelope: Envelope, at: float | None = None) -> str:
        if self.reject:
            raise EmailRejected(self.reject)
        self.sent.append((email, envelope))
        self.moments.append(at)
        return f"msg-{next(self._ids)}"

    def to(self, address: str) -> list[RenderedEmail]:
        return [email for email, envelope in self.sent if envelope.to == address]


@dataclass
class FakeSendSchedule:
    """The send schedule in memory, at ``rate`` emails a second (None: not paced, as when SES
    cannot say its rate)."""

    rate: float | None = None
    share: float = 1.0
    free_at: float | None = None
    turns: list[float] = field(default_factory=list)
    # The sends' own clock, when a test sets it: a turn further off than a step waits (from the
    # moment, or from ``wall``, the wall clock's now, if later) is not taken.
    sends_free_at: float | None = None
    wall: float = 0.0

    def take(self, now: float, emails: int = 1, within: float | None = None) -> pacing.Slots | None:
        if self.rate is None:
            return pacing.unpaced(now, emails)
        slots = pacing.take(self.free_at, now, pacing.gap(self.rate, self.share), emails, within)
        if slots is not None:
            self.free_at = slots.free_at
        return slots

    def turn(self, at: float, within: float | None = pacing.WAIT_IN_STEP_SECONDS) -> pacing.Turn:
        """Sends come at their moments here, each at its own, unless the sends' clock is set."""
        if self.sends_free_at is None:
            self.turns.append(at)
            return pacing.Turn(at)
        spacing = pacing.gap(self.rate or 1.0, self.share)
        slots = pacing.take(self.sends_free_at, max(at, self.wall), spacing, 1, within)
        if slots is None:
            return pacing.Turn(self.sends_free_at, taken=False)
        self.sends_free_at = slots.free_at
        self.turns.append(slots.moments[0])
        return pacing.Turn(slots.moments[0])


@dataclass
class FakeQueue:
    messages: list[str] = field(default_factory=list)

    def send(self, body: str) -> None:
        self.messages.append(body)


@dataclass
class FakeReports:
    files: dict[str, tuple[str, str]] = field(default_factory=dict)

    def publish(self, prefix: str, files: dict[str, tuple[str, str]]) -> None:
        self.files |= {f"{prefix}/{name}": body for name, body in files.items()}


@dataclass
class FakeCrm:
    """HubSpot and Salesforce at once: records to read, and every read and write they received."""

    # HubSpot: contact id -> (contact, company); contact id -> its most recent open deal.
    contacts: dict[str, tuple[dict[str, Any], dict[str, Any] | None]] = field(default_factory=dict)
    deals: dict[str, dict[str, Any]] = field(default_factory=dict)
    # HubSpot: deal id -> (the deal, its contacts' ids, its company); one not here is gone.
    deal_reads: dict[str, tuple[dict[str, Any], list[str], dict[str, Any] | None]] = field(
        default_factory=dict
    )
    # Salesforce: Opportunity id -> (its fields, its contact roles' Contact ids).
    opportunities: dict[str, tuple[dict[str, Any], list[str]]] = field(default_factory=dict)
    # Salesforce: Account id -> (its fields, its open Opportunity); one not here is gone.
    accounts: dict[str, tuple[dict[str, Any], dict[str, Any] | None]] = field(default_factory=dict)
    account_reads: list[tuple[str, list[str]]] = field(default_factory=list)
    writes: list[tuple[str, str, dict[str, str]]] = field(default_factory=list)
    # Records created (tasks): (kind, the new id, its fields).
    created: list[tuple[str, str, dict[str, str]]] = field(default_factory=list)
    # True: every read fails as a CRM still down after its retries does.
    unavailable: bool = False
    # Creates that succeed in the CRM whose answer is then lost (a timeout after the save).
    lost_answers: int = 0
    task_lookups: list[tuple[str, str]] = field(default_factory=list)

    def _reachable(self) -> None:
        if self.unavailable:
            raise CrmUnavailable("the CRM is unavailable after 3 attempts (HTTP 503)")

    def contact_records(self, contact_id: str, properties: list[str]) -> ContactRecords:
        self._reachable()
        if contact_id not in self.contacts:
            raise CrmRecordMissing(f"contacts/{contact_id} not found")
        contact, company = self.contacts[contact_id]
        return ContactRecords(contact, company, self.deals.get(contact_id))

    def account_with_open_opportunity(
        self, account_id: str, fields: list[str]
    ) -> tuple[dict[str, Any] | None, dict[str, Any] | None]:
        assert is_record_id(account_id), account_id  # the service checks ids before they reach a CRM
        self._reachable()
        self.account_reads.append((account_id, fields))
        account, opportunity = self.accounts.get(account_id, (None, None))
        return (
            {k: v for k, v in account.items() if k in fields} if account is not None else None
        ), opportunity

    def deal_records(self, deal_id: str) -> DealRecords:
        self._reachable()
        if deal_id not in self.deal_reads:
            raise CrmRecordMissing(f"deals/{deal_id} not found")
        return DealRecords(*self.deal_reads[deal_id])

    def opportunity_records(self, opportunity_id: str) -> tuple[dict[str, Any] | None, list[str]]:
        assert is_record_id(opportunity_id), opportunity_id  # checked before it reaches a CRM
        self._reachable()
        opportunity, contacts = self.opportunities.get(opportunity_id, (None, []))
        return opportunity, list(contacts)

    def update_contact(self, contact_id: str, properties: dict[str, str]) -> None:
        self.writes.append(("contacts", contact_id, properties))

    def update(self, sobject: str, record_id: str, fields: dict[str, str]) -> None:
        self.writes.append((sobject, record_id, fields))

    def create_task(self, contact_id: str, properties: dict[str, str], association_type: int) -> str:
        self._reachable()
        task_id = str(len(self.created) + 1)
        self.created.append(
            ("tasks", task_id, {**properties, "contact": contact_id, "type": str(association_type)})
        )
        return self._answer(task_id)

    def create(self, sobject: str, fields: dict[str, str]) -> str:
        self._reachable()
        record_id = f"00T5g00000TASK{len(self.created) + 1:04d}"
        self.created.append((sobject, record_id, fields))
        return self._answer(record_id)

    def _answer(self, created_id: str) -> str:
        if self.lost_answers:
            self.lost_answers -= 1
            raise CrmUnavailable(
                "HubSpot gave no answer for /crm/v3/objects/tasks (TimeoutError); it may have acted"
            )
        return created_id

    def find_task(self, record_id: str, marker: str) -> str | None:
        """HubSpot's task on the contact, or Salesforce's Task on the Lead or Contact, by marker."""
        self._reachable()
        self.task_lookups.append((record_id, marker))
        for kind, task_id, fields in reversed(self.created):
            on = fields.get("contact") if kind == "tasks" else fields.get("WhoId")
            body = fields.get("hs_task_body") if kind == "tasks" else fields.get("Description")
            if on == record_id and marker in str(body or ""):
                return task_id
        return None


SHIPPED_CONFIG = (ROOT / "config" / "handoff.toml").read_text()


@dataclass
class FakePorts:
    """Every port in memory; ``config_text`` is the shipped config unless a test edits it."""

    leads: FakeLeads = field(default_factory=FakeLeads)
    reps: FakeReps = field(default_factory=FakeReps)
    accounts: FakeAccounts | None = None
    dispositions: FakeDispositions = field(default_factory=FakeDispositions)
    workflow: FakeWorkflow = field(default_factory=FakeWorkflow)
    mailer: FakeMailer = field(default_factory=FakeMailer)
    send_schedule: FakeSendSchedule = field(default_factory=FakeSendSchedule)
    write_back: FakeQueue | None = field(default_factory=FakeQueue)
    reports: FakeReports | None = field(default_factory=FakeReports)
    crm: FakeCrm = field(default_factory=FakeCrm)
    config_text: str = SHIPPED_CONFIG
    secrets: dict[str, str] = field(default_factory=dict)
    _config: tuple[str, HandoffConfig] | None = None
    _done: dict[Any, Any] = field(default_factory=dict)

    @property
    def hubspot(self) -> FakeCrm:
        return self.crm

    @property
    def salesforce(self) -> FakeCrm:
        return self.crm

    @property
    def config(self) -> HandoffConfig:
        if self._config is None or self._config[0] != self.config_text:
            self._config = (self.config_text, parse_config(self.config_text, "config"))
        return self._config[1]

    def edit_config(self, **replacements: str) -> None:
        """Change the config text: each ``old=new`` replacement must apply."""
        for old, new in replacements.items():
            assert old in self.config_text, old
            self.config_text = self.config_text.replace(old, new)

    def secret(self, name: str) -> str:
        return self.secrets.get(name, f"test-{name}")

    def idempotent(self, function: Any, config: Any) -> Any:
        """Each key's first result is the answer to every repeat, as the idempotency table keeps it."""

        def once(*, message: dict[str, Any], **kwargs: Any) -> Any:
            key = (function, json.dumps(jmespath.search(config.event_key_jmespath, message)))
            if key not in self._done:
                self._done[key] = function(message=message, **kwargs)
            return self._done[key]

        return once
