"""Table keys and indexes, defined once for CDK, the Lambdas and the local stack."""

from __future__ import annotations

import zlib
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Index:
    """A global secondary index. ``include``: the non-key attributes it projects (its queries
    read only those; () keeps the keys alone, None projects the whole item). ``shards``: a
    sparse index whose partition key every lead would otherwise share ("pending") spreads its
    writes over that many keys, "<value>#<n>" (shard_key), so no one key takes every write."""

    name: str
    partition_key: str
    sort_key: str | None = None
    include: tuple[str, ...] | None = ()
    shards: int = 1

    def key_for(self, value: str, item_key: str) -> str:
        """The partition key an item (by its table key) is written under."""
        if self.shards == 1:
            return value
        return f"{value}#{zlib.crc32(item_key.encode()) % self.shards}"

    def keys(self, value: str) -> list[str]:
        """Every partition key ``value`` is written under: a query reads each."""
        return [value] if self.shards == 1 else [f"{value}#{n}" for n in range(self.shards)]

    def value_of(self, key: str) -> str:
        """The value a (possibly sharded) partition key stands for."""
        return key if self.shards == 1 else key.rsplit("#", 1)[0]


@dataclass(frozen=True)
class TableSpec:
    logical_name: str
    partition_key: str
    sort_key: str | None = None
    indexes: tuple[Index, ...] = field(default_factory=tuple)
    ttl_attribute: str | None = None

    def key_attributes(self) -> dict[str, str]:
        """Every key attribute (table and indexes); all are strings."""
        names = [self.partition_key, self.sort_key]
        for index in self.indexes:
            names += [index.partition_key, index.sort_key]
        return {n: "S" for n in names if n}


# Every lead is written about 15 times on its way to the brief. An index entry is rewritten only
# when a write changes its keys or what it projects, so each index keeps keys that change with the
# step (never with every write, as updated_at does) and projects only what its queries read.
# The sparse state indexes are sharded (Index.shards): at one key, their writes would meet
# DynamoDB's per-partition limit (1,000 writes/s) at a few hundred leads a second.
STATE_SHARDS = 16

# The SLA sweep reads this sparse index: only leads still waiting for a first touch carry
# ``sla_state``, so the sweep never scans closed leads. It reads ids, then each lead.
SLA_INDEX = Index(name="by_sla", partition_key="sla_state", sort_key="sla_due_at", shards=STATE_SHARDS)

# The follow-up sweep reads this sparse index: only leads whose "attempted" cadence runs carry
# ``cadence_state``, with the next step's time (leads.bookkeeping keeps both in step with the record).
CADENCE_INDEX = Index(
    name="by_cadence", partition_key="cadence_state", sort_key="cadence_due_at", shards=STATE_SHARDS
)

# Finds a contact's other handoffs, so one person never gets two reps: their status and owner.
CONTACT_INDEX = Index(
    name="by_contact",
    partition_key="contact_email",
    sort_key="received_at",
    include=("status", "owner_rep_id"),
)

# Finds the lead an SES bounce or complaint is about (its id; the lead is then read).
MESSAGE_INDEX = Index(name="by_message", partition_key="brief_message_id")

# Leads a workflow should be carrying (and failed ones), by when sla_check should look at them if
# nothing happens first (``check_at``, set with each status: the step's expected end). Recovery
# reads only the late ones; GET /leads?status= lists one status with what it shows.
OPEN_INDEX = Index(
    name="by_open_status",
    partition_key="open_status",
    sort_key="check_at",
    include=("status", "source", "received_at", "failure", "failure_escalated", "recoveries"),
    shards=STATE_SHARDS,
)

# Finds the handoff a CRM activity (a logged call, email or meeting) is about: "<system>:<record id>"
# for a lead that CRM sent, "<source>><system>:<record id>" for one another sender named (leads.crm_record).
CRM_RECORD_INDEX = Index(
    name="by_crm_record", partition_key="crm_record", sort_key="received_at", include=("status", "source")
)

# The monthly tuning job reads a time range: keys only (KEYS_ONLY: lead id and these two), by the
# month a lead arrived ("2026-11", sharded so one month's arrivals spread their index writes) and
# received_at; it then reads the leads 100 at a time (BatchGetItem). Both keys are written when a
# lead is created and never change, so no later write of the lead rewrites its entry here.
RECEIVED_INDEX = Index(
    name="by_received", partition_key="received_month", sort_key="received_at", shards=STATE_SHARDS
)

# The console's now-queue lists every lead nobody could take (the unassigned queue): only those
# carry ``unassigned_queue``, which leads.bookkeeping keeps in step with the assignment and status.
UNASSIGNED_INDEX = Index(
    name="by_unassigned", partition_key="unassigned_queue", sort_key="received_at", shards=STATE_SHARDS
)

LEADS = TableSpec(
    logical_name="Leads",
    partition_key="lead_id",
    indexes=(
        SLA_INDEX, CONTACT_INDEX, MESSAGE_INDEX, OPEN_INDEX, CRM_RECORD_INDEX, CADENCE_INDEX, RECEIVED_INDEX,
        UNASSIGNED_INDEX,
    ),
)  # fmt: skip
REPS = TableSpec(logical_name="Reps", partition_key="rep_id")
# Known accounts ops load (company domain -> owner), for ownership routing.
ACCOUNTS = TableSpec(logical_name="Accounts", partition_key="domain")

# Every disposition, by month then time, so the tuning job reads a time range with one query.
DISPOSITIONS = TableSpec(logical_name="Dispositions", partition_key="month", sort_key="at_lead")

# Powertools idempotency records for CRM write-back (its default key and expiry attributes);
# DynamoDB's TTL deletes them once they expire.
IDEMPOTENCY = TableSpec(logical_name="Idempotency", partition_key="id", ttl_attribute="expiration")

# The account's email pace: one item per schedule (SEND_SCHEDULE_KEY), the moment the next email
# may go out at SES's sending rate. Every sender takes its moments from it (handoff/aws/pacing.py).
SEND_SCHEDULE = TableSpec(logical_name="SendSchedule", partition_key="schedule")

ALL_TABLES = (LEADS, REPS, ACCOUNTS, DISPOSITIONS, IDEMPOTENCY, SEND_SCHEDULE)
