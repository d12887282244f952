"""The leads table: the lead, every decision with its reasons, and its timeline."""

from __future__ import annotations

import functools
import operator
import time
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
    RECEIVED_INDEX,
    SLA_INDEX,
    UNASSIGNED_INDEX,
    Index,
)
from handoff.aws.throttling import through_throttling
from handoff.domain.clock import utcnow
from handoff.domain.lead import is_lead_id
from handoff.domain.record import (
    INDEXED,
    OPEN_STATUSES,
    UNASSIGNED_REP,
    CadenceState,
    LeadRecord,
    LeadStatus,
    TimelineEntry,
    iso,
)
from handoff.errors import AlreadyExists, BadRequest, Conflict

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
    "check_at",
    "owner_rep_id",
    "unassigned_queue",
    "cadence_state",
    "cadence_due_at",
    "deals_version",
    "crm_task_tried",
)


OPEN_VALUES = frozenset(s.value for s in OPEN_STATUSES)

# When sla_check looks at a lead whose status did not say when its step should end: the shipped
# [escalation] stuck_after_seconds. Steps that wait longer (the SLA, the ladder) set check_at.
DEFAULT_CHECK_SECONDS = 900


def bookkeeping(
    lead_id: str, set_fields: dict[str, Any], remove: tuple[str, ...]
) -> tuple[dict[str, Any], tuple[str, ...]]:
    """Stamp the write, and keep the index keys in step with the record: ``open_status`` and
    ``check_at`` with ``status``, ``sla_state`` sharded, the by_cadence keys with ``cadence``,
    ``owner_rep_id`` with the assignment. Each index key is written only when what it follows
    changes, so a write that changes nothing an index holds rewrites no index entry."""
    now = utcnow()
    set_fields["updated_at"] = iso(now)
    if "status" in set_fields:
        status = str(set_fields["status"])
        if status in INDEXED:
            set_fields["open_status"] = OPEN_INDEX.key_for(status, lead_id)
            set_fields.setdefault("check_at", iso(now + timedelta(seconds=DEFAULT_CHECK_SECONDS)))
        else:
            remove = (*remove, "open_status", "check_at")
    if "check_at" in set_fields:
        set_fields["check_at"] = iso(_moment(set_fields["check_at"]))
    if "sla_state" in set_fields:
        set_fields["sla_state"] = SLA_INDEX.key_for(str(set_fields["sla_state"]), lead_id)
    assignment = set_fields.get("assignment")
    if isinstance(assignment, dict) and assignment.get("rep_id"):
        owner = str(assignment["rep_id"])
        set_fields["owner_rep_id"] = owner
        if owner == UNASSIGNED_REP:
            set_fields["unassigned_queue"] = UNASSIGNED_INDEX.key_for(UNASSIGNED_REP, lead_id)
        else:
            remove = (*remove, "unassigned_queue")
    if "status" in set_fields and str(set_fields["status"]) not in OPEN_VALUES:
        remove = (*remove, "unassigned_queue")  # closed, re-nurtured or failed: out of the queue
    cadence = set_fields.get("cadence")
    state = cadence.get("state") if isinstance(cadence, dict) else set_fields.get("cadence.state")
    next_at = cadence.get("next_at") if isinstance(cadence, dict) else set_fields.get("cadence.next_at")
    if state is not None and str(state) != CadenceState.RUNNING.value:
        remove = (*remove, "cadence_state", "cadence_due_at")
    elif next_at is not None:
        set_fields["cadence_state"] = CADENCE_INDEX.key_for(CadenceState.RUNNING.value, lead_id)
        set_fields["cadence_due_at"] = iso(_moment(next_at))
    return set_fields, remove


def _moment(value: Any) -> datetime:
    return datetime.fromisoformat(value) if isinstance(value, str) else cast(datetime, value)


def crm_record(system: str, record_id: str | None, source: str) -> str:
    """The by_crm_record key: "<system>:<record id>" for a lead that system's own webhook sent,
    "<source>><system>:<record id>" for one another sender named: a lead any generic sender can
    make never shares, or crowds out, the key a CRM activity looks its handoff up by."""
    key = f"{system}:{record_id}"
    return key if source.lower() == system.lower() else f"{source.lower()}>{key}"


def index_attributes(record: LeadRecord) -> dict[str, str]:
    """What a new lead carries beside its record for the indexes in tables.py to find it."""
    attributes = {
        "contact_email": record.contact.email,
        "updated_at": iso(record.received_at),
        # by_received: written here only, so no later write rewrites the index entry.
        "received_month": RECEIVED_INDEX.key_for(
            f"{record.received_at.astimezone(UTC):%Y-%m}", record.lead_id
        ),
    }
    if record.status.value in INDEXED:
        attributes["open_status"] = OPEN_INDEX.key_for(record.status.value, record.lead_id)
        attributes["check_at"] = iso(record.received_at + timedelta(seconds=DEFAULT_CHECK_SECONDS))
    if (
        record.status.value in OPEN_VALUES
        and record.assignment
        and record.assignment.rep_id == UNASSIGNED_REP
    ):
        attributes["unassigned_queue"] = UNASSIGNED_INDEX.key_for(UNASSIGNED_REP, record.lead_id)
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
        # Throttled, it is tried again for a few seconds before the sender is told to retry (a
        # 503): a burst that meets a table still scaling loses no lead, even from a sender that
        # does not retry (Marketo's webhooks). A refused put was not applied, so it lands once.
        through_throttling(lambda: self._put_new(item, record.lead_id))

    def _put_new(self, item: dict[str, Any], lead_id: str) -> None:
        with storage_errors(lambda: AlreadyExists(lead_id)):
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
        read_back: bool = False,
    ) -> dict[str, Any] | None:
        """One UpdateItem: set fields, append to lists, remove attributes; with ``read_back``, the
        item as it left it (ReturnValues ALL_NEW: no read of its own, and no write between).

        A status change also maintains ``open_status`` (the sparse index sla_check pages
        through), and every write stamps ``updated_at``.
        ``expect_status`` guards transitions, so a late or repeated step cannot
        move a lead backwards; ``expect`` (attribute: value, None for absent) guards a
        read-modify-write, so a concurrent writer's change is never overwritten unseen.
        """
        set_fields, remove = bookkeeping(lead_id, dict(set_fields or {}), tuple(remove))
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
        if read_back:
            kwargs["ReturnValues"] = "ALL_NEW"
        # Throttled, it is tried again in the step (handoff.aws.throttling) before the step fails.
        answer = through_throttling(lambda: self._update(kwargs, lead_id, expect_status))
        return from_item(answer["Attributes"]) if read_back else None

    def _update(
        self, kwargs: dict[str, Any], lead_id: str, expect_status: tuple[LeadStatus, ...]
    ) -> dict[str, Any]:
        with storage_errors(
            lambda: Conflict(f"lead {lead_id} is missing, not in {list(expect_status)} or changed since read")
        ):
            answer: dict[str, Any] = self._table.update_item(**kwargs)
        return answer

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

        def newest() -> dict[str, Any]:
            with storage_errors():
                answer: dict[str, Any] = self._table.query(
                    IndexName=index.name, KeyConditionExpression=condition, ScanIndexForward=False, Limit=25
                )
            return answer

        # Routing reads this first: a step failed on its throttle would redo every read before it.
        page = through_throttling(newest)
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
        # The index projects what picks the lead (status, source); the lead itself is read.
        return self.get(str(newest["lead_id"])) if newest else None

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
            if item["lead_id"] == exclude_lead_id:
                continue
            if item.get("owner_rep_id"):
                return str(item["owner_rep_id"])
            # Stored before owner_rep_id was kept: the lead itself says.
            record = self.get(str(item["lead_id"]))
            if record is not None and record.assignment is not None:
                return record.assignment.rep_id
        return None

    def _pages(self, query: dict[str, Any]) -> Iterator[dict[str, Any]]:
        """Every item a query matches, page by page."""
        while True:
            with storage_errors():
                page = self._table.query(**query)
            yield from (from_item(i) for i in page.get("Items", []))
            if "LastEvaluatedKey" not in page:
                return
            query = {**query, "ExclusiveStartKey": page["LastEvaluatedKey"]}

    def _sharded(
        self, index: Index, value: str, sort_condition: ConditionBase | None
    ) -> Iterator[dict[str, Any]]:
        """Every item under ``value`` in a sharded index whose sort key meets the condition (if any)."""
        for key in index.keys(value):
            condition = Key(index.partition_key).eq(key)
            yield from self._pages(
                {
                    "IndexName": index.name,
                    "KeyConditionExpression": condition & sort_condition if sort_condition else condition,
                }
            )

    def late(self, status: str, now: datetime) -> Iterator[dict[str, Any]]:
        """Leads in ``status`` whose step should have ended by now (check_at passed), with what
        the index projects: every one, page by page, whatever their number."""
        return self._sharded(OPEN_INDEX, status, Key(cast(str, OPEN_INDEX.sort_key)).lte(iso(now)))

    def in_status(self, status: str, limit: int, start: Any = None) -> tuple[list[dict[str, Any]], Any]:
        """One page of the leads in ``status`` (shard by shard, each by check_at), and where to
        go on: {"shard": n, "key": the last key read} or None at the end."""
        keys = OPEN_INDEX.keys(status)
        shard = int(start["shard"]) if start else 0
        exclusive = start.get("key") if start else None
        if shard >= len(keys) or (exclusive and exclusive.get(OPEN_INDEX.partition_key) != keys[shard]):
            raise BadRequest("next: not a cursor from a previous page", [{"field": "next"}])
        items: list[dict[str, Any]] = []
        while shard < len(keys) and len(items) < limit:
            query: dict[str, Any] = {
                "IndexName": OPEN_INDEX.name,
                "KeyConditionExpression": Key(OPEN_INDEX.partition_key).eq(keys[shard]),
                "Limit": limit - len(items),
            }
            if exclusive:
                query["ExclusiveStartKey"] = exclusive
            with storage_errors():
                page = self._table.query(**query)
            items += [from_item(i) for i in page.get("Items", [])]
            exclusive = page.get("LastEvaluatedKey")
            if exclusive:
                return items, {"shard": shard, "key": exclusive}
            shard += 1
        return items, ({"shard": shard, "key": None} if shard < len(keys) else None)

    def unassigned(self) -> Iterator[str]:
        """Ids of the open leads nobody could take (the unassigned queue), oldest first by shard."""
        return (str(i["lead_id"]) for i in self._sharded(UNASSIGNED_INDEX, UNASSIGNED_REP, None))

    def overdue(self, now: datetime) -> Iterator[str]:
        """Ids of leads still waiting for a first touch whose SLA is past due: all of them."""
        due = Key(cast(str, SLA_INDEX.sort_key)).lt(iso(now))
        return (str(i["lead_id"]) for i in self._sharded(SLA_INDEX, "pending", due))

    def cadence_due(self, now: datetime) -> Iterator[str]:
        """Ids of leads whose follow-up cadence has a step due: all of them."""
        due = Key(cast(str, CADENCE_INDEX.sort_key)).lte(iso(now))
        return (str(i["lead_id"]) for i in self._sharded(CADENCE_INDEX, CadenceState.RUNNING.value, due))

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
        self,
        start: datetime,
        end: datetime,
        progress: Callable[[int], None] | None = None,
        *,
        legacy_scan: bool = False,
    ) -> Iterator[LeadRecord]:
        """Every lead received in [start, end), one at a time, for the monthly tuning job: a
        time-ranged Query on the keys-only by_received index (each month in the window, each
        shard), then the leads themselves 100 per BatchGetItem. Memory holds one page.
        ``progress(leads read)`` follows a long read. ``legacy_scan``: the old filtered Scan
        of the whole table, for leads stored before ``received_month`` was written (see
        docs/deploy.md: backfill them once instead)."""
        if legacy_scan:
            yield from self._scan_received(start, end, progress)
            return
        read = 0
        keys: list[dict[str, str]] = []
        for key in self._received_keys(start, end):
            keys.append(key)
            if len(keys) == BATCH_GET_LIMIT:
                for record in self._batch_get(keys):
                    read += 1
                    yield record
                keys = []
                if progress:
                    progress(read)
        for record in self._batch_get(keys):
            read += 1
            yield record
        if progress:
            progress(read)

    def _received_keys(self, start: datetime, end: datetime) -> Iterator[dict[str, str]]:
        """Lead ids received in [start, end), from by_received. received_at is stored as pydantic
        writes it, which sorts as time only to the second: the key range is widened to whole
        seconds and the exact window checked on each key (both are in the index's keys)."""
        month = datetime(start.year, start.month, 1, tzinfo=UTC)
        while month < end:
            for partition in RECEIVED_INDEX.keys(f"{month:%Y-%m}"):
                condition = Key(RECEIVED_INDEX.partition_key).eq(partition) & Key(
                    cast(str, RECEIVED_INDEX.sort_key)
                ).between(_second(start), _second(end + timedelta(seconds=1)))
                query: dict[str, Any] = {
                    "IndexName": RECEIVED_INDEX.name,
                    "KeyConditionExpression": condition,
                }
                while True:
                    with storage_errors():
                        page = self._table.query(**query)
                    for item in page.get("Items", []):
                        if start <= datetime.fromisoformat(str(item["received_at"])) < end:
                            yield {"lead_id": str(item["lead_id"])}
                    if "LastEvaluatedKey" not in page:
                        break
                    query["ExclusiveStartKey"] = page["LastEvaluatedKey"]
            month = datetime(month.year + month.month // 12, month.month % 12 + 1, 1, tzinfo=UTC)

    def _batch_get(self, keys: list[dict[str, str]]) -> Iterator[LeadRecord]:
        """The leads for up to 100 keys (eventually consistent), retrying UnprocessedKeys with
        backoff, as DynamoDB asks when a batch meets its throughput."""
        pending: dict[str, Any] = {self._table.name: {"Keys": keys}} if keys else {}
        attempt = 0
        while pending:
            with storage_errors():
                answer = self._table.meta.client.batch_get_item(RequestItems=pending)
            for item in answer.get("Responses", {}).get(self._table.name, []):
                yield LeadRecord.model_validate(from_item(item))
            pending = answer.get("UnprocessedKeys") or {}
            if pending:
                attempt += 1
                time.sleep(min(2.0, 0.05 * 2**attempt))

    def _scan_received(
        self, start: datetime, end: datetime, progress: Callable[[int], None] | None
    ) -> Iterator[LeadRecord]:
        read = 0
        kwargs: dict[str, Any] = {
            "FilterExpression": Attr("received_at").gte(iso(start)) & Attr("received_at").lt(iso(end))
        }
        while True:
            with storage_errors():
                page = self._table.scan(**kwargs)
            for item in page.get("Items", []):
                read += 1
                yield LeadRecord.model_validate(from_item(item))
            if progress:
                progress(read)
            if "LastEvaluatedKey" not in page:
                return
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]


BATCH_GET_LIMIT = 100  # keys per BatchGetItem, DynamoDB's limit


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
