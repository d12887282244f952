"""The leads table: the lead, every decision with its reasons, and its timeline."""

from __future__ import annotations

import functools
import operator
from collections.abc import Callable, Collection, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any, cast

from boto3.dynamodb.conditions import Attr, ConditionBase, Key

from handoff.aws.dynamo import check_storable, from_item, storage_errors, to_item, to_plain
from handoff.aws.tables import (
    CADENCE_INDEX,
    CONTACT_INDEX,
    CRM_RECORD_INDEX,
    MESSAGE_INDEX,
    OPEN_INDEX,
    SLA_INDEX,
    Index,
)
from handoff.domain.clock import utcnow
from handoff.domain.lead import is_lead_id
from handoff.domain.record import (
    INDEXED,
    OPEN_STATUSES,
    CadenceState,
    LeadRecord,
    LeadStatus,
    TimelineEntry,
    iso,
)
from handoff.errors import AlreadyExists, Conflict

# Attributes kept beside the record that the API never returns.
PRIVATE_ATTRIBUTES = (
    "task_token",
    "sla_state",
    "sla_due_at",
    "used_links",
    "contact_email",
    "crm_record",
    "brief_message_id",
    "undelivered_briefs",
    "open_status",
    "cadence_state",
    "cadence_due_at",
    "deals_version",
    "crm_task_tried",
)


def bookkeeping(
    set_fields: dict[str, Any], remove: tuple[str, ...]
) -> tuple[dict[str, Any], tuple[str, ...]]:
    """Stamp the write, and keep ``open_status`` in step with ``status`` and the by_cadence keys
    in step with ``cadence``."""
    set_fields["updated_at"] = iso(utcnow())
    if "status" in set_fields:
        if set_fields["status"] in INDEXED:
            set_fields["open_status"] = set_fields["status"]
        else:
            remove = (*remove, "open_status")
    cadence = set_fields.get("cadence")
    state = cadence.get("state") if isinstance(cadence, dict) else set_fields.get("cadence.state")
    next_at = cadence.get("next_at") if isinstance(cadence, dict) else set_fields.get("cadence.next_at")
    if state is not None and str(state) != CadenceState.RUNNING.value:
        remove = (*remove, "cadence_state", "cadence_due_at")
    elif next_at is not None:
        moment = datetime.fromisoformat(next_at) if isinstance(next_at, str) else next_at
        set_fields["cadence_state"] = CadenceState.RUNNING.value
        set_fields["cadence_due_at"] = iso(moment)
    return set_fields, remove


def crm_record(system: str, record_id: str | None, source: str) -> str:
    """The by_crm_record key: "<system>:<record id>" for a lead that system's own webhook sent,
    "<source>><system>:<record id>" for one another sender named: a lead any generic sender can
    make never shares, or crowds out, the key a CRM activity looks its handoff up by."""
    key = f"{system}:{record_id}"
    return key if source.lower() == system.lower() else f"{source.lower()}>{key}"


def index_attributes(record: LeadRecord) -> dict[str, str]:
    """What a new lead carries beside its record for the indexes in tables.py to find it."""
    attributes = {"contact_email": record.contact.email, "updated_at": iso(record.received_at)}
    if record.status.value in INDEXED:
        attributes["open_status"] = record.status.value
    if record.crm.record_id:
        attributes["crm_record"] = crm_record(record.crm.system, record.crm.record_id, record.source)
    return attributes


class LeadRepository:
    def __init__(self, table: Any):
        self._table = table

    def create(self, record: LeadRecord) -> None:
        """Store a new lead; AlreadyExists when this delivery was seen before."""
        item = to_item(record, **index_attributes(record))
        check_storable(item)
        with storage_errors(lambda: AlreadyExists(record.lead_id)):
            self._table.put_item(Item=item, ConditionExpression="attribute_not_exists(lead_id)")

    def get_item(self, lead_id: str) -> dict[str, Any] | None:
        if not is_lead_id(lead_id):
            # No lead has this id; and DynamoDB refuses a key over 2 KB with an error, not a miss.
            return None
        with storage_errors():
            item = self._table.get_item(Key={"lead_id": lead_id}, ConsistentRead=True).get("Item")
        return from_item(item) if item else None

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
    ) -> None:
        """One UpdateItem: set fields, append to lists, remove attributes.

        A status change also maintains ``open_status`` (the sparse index sla_check pages
        through), and every write stamps ``updated_at``.
        ``expect_status`` guards transitions, so a late or repeated step cannot
        move a lead backwards; ``expect`` (attribute: value, None for absent) guards a
        read-modify-write, so a concurrent writer's change is never overwritten unseen.
        """
        set_fields, remove = bookkeeping(dict(set_fields or {}), tuple(remove))
        names: dict[str, str] = {}
        values: dict[str, Any] = {}
        sets: list[str] = []
        lists = dict(append or {})
        if timeline:
            lists["timeline"] = [e.model_dump(mode="json") for e in timeline]
        for i, (field, value) in enumerate((set_fields or {}).items()):
            # "sla.state" sets one member of a map; each path part gets its own name.
            path = []
            for j, part in enumerate(field.split(".")):
                names[f"#s{i}_{j}"] = part
                path.append(f"#s{i}_{j}")
            values[f":s{i}"] = to_plain(value)
            sets.append(f"{'.'.join(path)} = :s{i}")
        for i, (field, items) in enumerate(lists.items()):
            names[f"#a{i}"] = field
            values[f":a{i}"] = to_plain(items)
            sets.append(f"#a{i} = list_append(if_not_exists(#a{i}, :empty), :a{i})")
        if lists:
            values[":empty"] = []
        expression = "SET " + ", ".join(sets) if sets else ""
        if remove:
            removals = []
            for i, field in enumerate(remove):
                names[f"#r{i}"] = field
                removals.append(f"#r{i}")
            expression += " REMOVE " + ", ".join(removals)
        condition = "attribute_exists(lead_id)"
        if expect_status:
            names["#status"] = "status"
            options = []
            for i, status in enumerate(expect_status):
                values[f":st{i}"] = status.value
                options.append(f"#status = :st{i}")
            condition += " AND (" + " OR ".join(options) + ")"
        condition += _expected(expect or {}, names, values)
        kwargs: dict[str, Any] = {
            "Key": {"lead_id": lead_id},
            "UpdateExpression": expression.strip(),
            "ConditionExpression": condition,
            "ExpressionAttributeNames": names,
        }
        if values:
            kwargs["ExpressionAttributeValues"] = values
        with storage_errors(
            lambda: Conflict(f"lead {lead_id} is missing, not in {list(expect_status)} or changed since read")
        ):
            self._table.update_item(**kwargs)

    def use_link(self, lead_id: str, nonce: str) -> bool:
        """Mark a one-click link as used; False when it already was (links work once)."""
        try:
            with storage_errors(lambda: Conflict("used")):
                self._table.update_item(
                    Key={"lead_id": lead_id},
                    UpdateExpression="ADD used_links :nonce",
                    ConditionExpression="attribute_exists(lead_id) AND NOT contains(used_links, :n)",
                    ExpressionAttributeValues={":nonce": {nonce}, ":n": nonce},
                )
        except Conflict:
            return False
        return True

    def record_undelivered_brief(self, lead_id: str, message_id: str, entry: TimelineEntry) -> bool:
        """Note, with its timeline entry, that the brief sent as ``message_id`` never arrived.

        False when it was noted already (SNS and Lambda both deliver events again) or when no
        such lead exists: each bounce is written once.
        """
        try:
            with storage_errors(lambda: Conflict("noted")):
                self._table.update_item(
                    Key={"lead_id": lead_id},
                    UpdateExpression="SET #u = list_append(if_not_exists(#u, :empty), :ids), "
                    "#t = list_append(if_not_exists(#t, :empty), :entries), #w = :now",
                    ConditionExpression="attribute_exists(lead_id) AND NOT contains(#u, :id)",
                    ExpressionAttributeNames={
                        "#u": "undelivered_briefs",
                        "#t": "timeline",
                        "#w": "updated_at",
                    },
                    ExpressionAttributeValues={
                        ":empty": [],
                        ":ids": [message_id],
                        ":id": message_id,
                        ":entries": [to_plain(entry.model_dump(mode="json"))],
                        ":now": iso(utcnow()),
                    },
                )
        except Conflict:
            return False
        return True

    def clear_task_token(self, lead_id: str, token: str) -> None:
        """Forget a task token whose wait has ended, unless a newer wait has parked its own."""
        try:
            with storage_errors(lambda: Conflict("replaced")):
                self._table.update_item(
                    Key={"lead_id": lead_id},
                    UpdateExpression="SET updated_at = :now REMOVE task_token",
                    ConditionExpression="task_token = :token",
                    ExpressionAttributeValues={":token": token, ":now": iso(utcnow())},
                )
        except Conflict:
            pass

    def by_brief_message(self, message_id: str) -> dict[str, Any] | None:
        """The lead whose brief had this SES message id."""
        with storage_errors():
            page = self._table.query(
                IndexName=MESSAGE_INDEX.name,
                KeyConditionExpression=Key(MESSAGE_INDEX.partition_key).eq(message_id),
                Limit=1,
            )
        items = page.get("Items", [])
        return self.get_item(str(items[0]["lead_id"])) if items else None

    def _newest_open(
        self,
        index: Index,
        key: str,
        *,
        open_only: bool = True,
        received_within: tuple[datetime, datetime] | None = None,
    ) -> Iterator[dict[str, Any]]:
        """Open handoffs (or all leads) under ``key`` in ``index``, newest first (from the latest
        25), received within the window when one is given (``index`` sorts by received_at)."""
        open_statuses = {s.value for s in OPEN_STATUSES}
        condition: ConditionBase = Key(index.partition_key).eq(key)
        if received_within is not None:
            start, end = received_within
            # received_at is stored as pydantic writes it ("...:05Z", "...:05.250000Z"), which
            # does not sort as time within one second: the key range is widened to whole seconds
            # and the exact window checked on each item below.
            condition = condition & Key(cast(str, index.sort_key)).between(
                _second(start), _second(end + timedelta(seconds=1))
            )
        with storage_errors():
            page = self._table.query(
                IndexName=index.name, KeyConditionExpression=condition, ScanIndexForward=False, Limit=25
            )
        return (
            item
            for item in page.get("Items", [])
            if (not open_only or item.get("status") in open_statuses)
            and (received_within is None or _within(str(item["received_at"]), received_within))
        )

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
        found = [
            item
            for source in sorted(wanted)
            for item in self._newest_open(
                CRM_RECORD_INDEX,
                crm_record(system, record_id, source),
                open_only=open_only,
                received_within=received_within,
            )
            # Leads stored before keys carried their source share the CRM's key: checked here too.
            if str(item.get("source", "")).lower() in wanted
        ]
        newest = max(found, key=lambda item: str(item["received_at"]), default=None)
        return LeadRecord.model_validate(from_item(newest)) if newest else None

    def open_for_crm_record(self, system: str, record_id: str, sources: Collection[str]) -> LeadRecord | None:
        """The newest handoff for this CRM record from one of ``sources`` that a rep can still
        record an outcome on."""
        return self._for_crm_record(system, record_id, sources, open_only=True)

    def latest_for_crm_record(
        self,
        system: str,
        record_id: str,
        sources: Collection[str],
        *,
        received_within: tuple[datetime, datetime] | None = None,
    ) -> LeadRecord | None:
        """The newest lead for this CRM record from one of ``sources``, whatever its status; with
        ``received_within``, the newest received in that window (both ends included): a key
        range on the index's sort key, so an older handoff is found behind a newer one."""
        return self._for_crm_record(
            system, record_id, sources, open_only=False, received_within=received_within
        )

    def open_handoff_rep(self, email: str, exclude_lead_id: str) -> str | None:
        """The rep holding another open handoff for this contact, if any."""
        for item in self._newest_open(CONTACT_INDEX, email):
            if item["lead_id"] != exclude_lead_id and item.get("assignment"):
                return str(item["assignment"]["rep_id"])
        return None

    def in_flight(
        self, status: str, older_than: datetime, limit: int, start: Any = None
    ) -> tuple[list[dict[str, Any]], Any]:
        """One page of leads in ``status`` not written since ``older_than``, and where to go on."""
        query: dict[str, Any] = {
            "IndexName": OPEN_INDEX.name,
            "KeyConditionExpression": Key(OPEN_INDEX.partition_key).eq(status)
            & Key(cast(str, OPEN_INDEX.sort_key)).lt(iso(older_than)),
            "Limit": limit,
        }
        if start:
            query["ExclusiveStartKey"] = start
        with storage_errors():
            page = self._table.query(**query)
        return [from_item(i) for i in page.get("Items", [])], page.get("LastEvaluatedKey")

    def overdue(self, now: datetime, limit: int = 100) -> list[str]:
        """Ids of leads still waiting for a first touch whose SLA is past due."""
        with storage_errors():
            page = self._table.query(
                IndexName=SLA_INDEX.name,
                KeyConditionExpression=Key(SLA_INDEX.partition_key).eq("pending")
                & Key(cast(str, SLA_INDEX.sort_key)).lt(iso(now)),
                Limit=limit,
            )
        return [item["lead_id"] for item in page.get("Items", [])]

    def cadence_due(self, now: datetime, limit: int = 100) -> list[str]:
        """Ids of leads whose follow-up cadence has a step due, the longest due first."""
        with storage_errors():
            page = self._table.query(
                IndexName=CADENCE_INDEX.name,
                KeyConditionExpression=Key(CADENCE_INDEX.partition_key).eq(CadenceState.RUNNING.value)
                & Key(cast(str, CADENCE_INDEX.sort_key)).lte(iso(now)),
                Limit=limit,
            )
        return [item["lead_id"] for item in page.get("Items", [])]

    def for_crm_account(
        self,
        system: str,
        account_ids: Collection[str],
        domains: Collection[str],
        start: datetime,
        end: datetime,
    ) -> list[LeadRecord]:
        """Leads of one account or company domain received in [start, end), newest first.
        A filtered scan: only a deal whose contacts have no handoff comes here (a contact's is
        found by the by_crm_record index), and the window bounds what matches. An index by
        account would replace it when deals without contacts are common."""
        wanted = (
            Attr("crm.system").eq(system)
            & Attr("received_at").gte(iso(start))
            & Attr("received_at").lt(iso(end))
        )
        matches = [Attr("crm.account_id").eq(a) for a in account_ids] + [
            Attr("company.domain").eq(d) for d in domains
        ]
        if not matches:
            return []
        which = functools.reduce(operator.or_, matches)
        kwargs: dict[str, Any] = {"FilterExpression": wanted & which}
        items: list[dict[str, Any]] = []
        while True:
            with storage_errors():
                page = self._table.scan(**kwargs)
            items += page.get("Items", [])
            if "LastEvaluatedKey" not in page:
                break
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]
        items.sort(key=lambda item: str(item["received_at"]), reverse=True)
        return [LeadRecord.model_validate(from_item(item)) for item in items]

    def received_between(
        self, start: datetime, end: datetime, progress: Callable[[int], None] | None = None
    ) -> list[LeadRecord]:
        """Every lead received in [start, end): a paged scan, for the monthly tuning job only
        (it reads each lead once a month; nothing on the handoff path scans). ``progress(leads
        read)`` follows a long scan, page by page."""
        records: list[LeadRecord] = []
        kwargs: dict[str, Any] = {
            "FilterExpression": Attr("received_at").gte(iso(start)) & Attr("received_at").lt(iso(end))
        }
        while True:
            with storage_errors():
                page = self._table.scan(**kwargs)
            records += [LeadRecord.model_validate(from_item(item)) for item in page.get("Items", [])]
            if progress:
                progress(len(records))
            if "LastEvaluatedKey" not in page:
                return records
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def _expected(expect: dict[str, Any], names: dict[str, str], values: dict[str, Any]) -> str:
    """The condition that each attribute in ``expect`` holds its value (None: is absent)."""
    condition = ""
    for i, (field, value) in enumerate(expect.items()):
        names[f"#e{i}"] = field
        if value is None:
            condition += f" AND attribute_not_exists(#e{i})"
        else:
            values[f":e{i}"] = to_plain(value)
            condition += f" AND #e{i} = :e{i}"
    return condition


def _second(moment: datetime) -> str:
    """The UTC second ``moment`` falls in, as the prefix every stored received_at in it shares."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S")


def _within(received_at: str, window: tuple[datetime, datetime]) -> bool:
    return window[0] <= datetime.fromisoformat(received_at) <= window[1]
