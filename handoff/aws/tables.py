"""Table keys and indexes, defined once for CDK, the Lambdas and the local stack."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Index:
    name: str
    partition_key: str
    sort_key: str | None = None


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


# The SLA sweep reads this sparse index: only leads still waiting for a first
# touch carry ``sla_state``, so the sweep never scans closed leads.
SLA_INDEX = Index(name="by_sla", partition_key="sla_state", sort_key="sla_due_at")

# The follow-up sweep reads this sparse index: only leads whose "attempted" cadence runs carry
# ``cadence_state``, with the next step's time (leads.bookkeeping keeps both in step with the record).
CADENCE_INDEX = Index(name="by_cadence", partition_key="cadence_state", sort_key="cadence_due_at")

# Finds a contact's other handoffs, so one person never gets two reps.
CONTACT_INDEX = Index(name="by_contact", partition_key="contact_email", sort_key="received_at")

# Finds the lead an SES bounce or complaint is about.
MESSAGE_INDEX = Index(name="by_message", partition_key="brief_message_id")

# Leads a workflow should be carrying, by last write: sla_check's recovery sweep.
OPEN_INDEX = Index(name="by_open_status", partition_key="open_status", sort_key="updated_at")

# Finds the handoff a CRM activity (a logged call, email or meeting) is about: "<system>:<record id>"
# for a lead that CRM sent, "<source>><system>:<record id>" for one another sender named (leads.crm_record).
CRM_RECORD_INDEX = Index(name="by_crm_record", partition_key="crm_record", sort_key="received_at")

LEADS = TableSpec(
    logical_name="Leads",
    partition_key="lead_id",
    indexes=(SLA_INDEX, CONTACT_INDEX, MESSAGE_INDEX, OPEN_INDEX, CRM_RECORD_INDEX, CADENCE_INDEX),
)
REPS = TableSpec(logical_name="Reps", partition_key="rep_id")
# Known accounts ops load (company domain -> owner), for ownership routing.
ACCOUNTS = TableSpec(logical_name="Accounts", partition_key="domain")

# Every disposition, by month then time, so the tuning job reads a time range with one query.
DISPOSITIONS = TableSpec(logical_name="Dispositions", partition_key="month", sort_key="at_lead")

# Powertools idempotency records for CRM write-back (its default key and expiry attributes);
# DynamoDB's TTL deletes them once they expire.
IDEMPOTENCY = TableSpec(logical_name="Idempotency", partition_key="id", ttl_attribute="expiration")

ALL_TABLES = (LEADS, REPS, ACCOUNTS, DISPOSITIONS, IDEMPOTENCY)
