"""The canonical inbound lead every webhook adapter produces.

The schema is the public contract in ARCHITECTURE.md: only ``event_id``,
``contact.email`` and ``trigger.type`` are required, and unknown fields are kept.
"""

from __future__ import annotations

import hashlib
import re
from datetime import UTC, datetime
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationInfo,
    field_validator,
    model_validator,
)

from handoff.domain.clock import zone
from handoff.domain.geo import country_code, region_code

# Generous, but bounded: a CRM field longer than this is not a real value.
SHORT_TEXT = 512
LONG_TEXT = 2048
MAX_ACTIVITIES = 200

# A deliberately plain address check: the CRM already validated deliverability, and
# a full RFC parser (email-validator pulls in dnspython) costs cold start for nothing.
EmailAddress = Annotated[
    str,
    StringConstraints(
        strip_whitespace=True, max_length=254, pattern=r"^[^@\s<>\"]+@[^@\s<>\"]+\.[^@\s<>\"]+$"
    ),
    AfterValidator(str.lower),
]


# Validation context key: the zone in which a sender's offset-less times are read.
SENDER_TIMEZONE = "sender_timezone"


def _on_the_senders_clock(moment: datetime, info: ValidationInfo) -> datetime:
    """A time sent without an offset (Marketo's ``{{system.dateTime}}``, a CSV export) is read on
    the sender's clock: [adapters] sender_timezone, UTC unless configured. Compared with the
    aware times everywhere else, a naive one would otherwise fail the lead half-way."""
    if moment.utcoffset() is not None:
        return moment
    name = (info.context or {}).get(SENDER_TIMEZONE, "UTC")
    return moment.replace(tzinfo=zone(name) or UTC)


Timestamp = Annotated[datetime, AfterValidator(_on_the_senders_clock)]


def _iso_country(value: str | None) -> str | None:
    return country_code(value) if value else value


# A country as its ISO 3166-1 alpha-2 code, whichever way the sender spelt it ("United Kingdom" -> "GB").
Country = Annotated[str | None, Field(default=None, max_length=64), AfterValidator(_iso_country)]


def truthy(value: Any) -> bool:
    """A CRM checkbox or flag ("true", "Yes", "1", True) as a boolean; empty is False."""
    if isinstance(value, str):
        return value.strip().lower() in {"true", "yes", "1", "y"}
    return bool(value)


def lead_id_for(source: str, event_id: str) -> str:
    """Deterministic id: the same delivery always maps to the same lead.

    It doubles as the Step Functions execution name, a second dedupe layer.
    """
    digest = hashlib.sha256(f"{source}\x1f{event_id}".encode()).hexdigest()
    return f"ld_{digest[:24]}"


# The shape lead_id_for gives every lead id.
LEAD_ID_PATTERN = r"ld_[0-9a-f]{24}"
_LEAD_ID = re.compile(LEAD_ID_PATTERN)


def is_lead_id(value: str) -> bool:
    """Whether ``value`` has the shape every lead id has (see lead_id_for)."""
    return _LEAD_ID.fullmatch(value) is not None


class _Open(BaseModel):
    """Unknown fields are kept as extras, never rejected."""

    model_config = ConfigDict(extra="allow", str_strip_whitespace=True)

    @model_validator(mode="before")
    @classmethod
    def _blank_means_absent(cls, data: Any) -> Any:
        # Template senders (Marketo tokens, HubSpot personalisation) render a missing value
        # as "" or "  "; that means "unknown", not "invalid".
        if isinstance(data, dict):
            return {k: None if isinstance(v, str) and not v.strip() else v for k, v in data.items()}
        return data


class Contact(_Open):
    id: str | None = Field(default=None, max_length=SHORT_TEXT)
    email: EmailAddress
    first_name: str | None = Field(default=None, max_length=SHORT_TEXT)
    last_name: str | None = Field(default=None, max_length=SHORT_TEXT)
    title: str | None = Field(default=None, max_length=SHORT_TEXT)
    phone: str | None = Field(default=None, max_length=64)
    seniority: str | None = Field(default=None, max_length=SHORT_TEXT)
    department: str | None = Field(default=None, max_length=SHORT_TEXT)
    country: Country = None
    region: str | None = Field(default=None, max_length=64)
    # Consent, as the CRM holds it (Salesforce DoNotCall / HasOptedOutOfEmail, HubSpot's opt-out).
    do_not_call: bool = False
    email_opt_out: bool = False

    @model_validator(mode="after")
    def _iso_region(self) -> Contact:
        # A region is only a code within its country ("CA" is California in US, a province in ES).
        if self.region:
            self.region = region_code(self.country, self.region)
        return self

    @property
    def full_name(self) -> str:
        parts = [p for p in (self.first_name, self.last_name) if p]
        return " ".join(parts) or self.email


class Company(_Open):
    name: str | None = Field(default=None, max_length=SHORT_TEXT)
    domain: str | None = Field(default=None, max_length=253)
    industry: str | None = Field(default=None, max_length=SHORT_TEXT)
    # Bounds well past any real company: anything beyond is a data error, not a customer.
    employees: int | None = Field(default=None, ge=0, le=10_000_000)
    annual_revenue: float | None = Field(default=None, ge=0, le=1e14, allow_inf_nan=False)
    country: Country = None


# How a rep knows each CRM; a sender Handoff has no adapter for shows [email] crm_name.
CRM_NAMES = {"hubspot": "HubSpot", "salesforce": "Salesforce", "marketo": "Marketo"}


class CrmRef(_Open):
    system: str = Field(default="other", max_length=32)
    record_id: str | None = Field(default=None, max_length=SHORT_TEXT)
    record_url: str | None = Field(default=None, max_length=LONG_TEXT)
    owner_id: str | None = Field(default=None, max_length=SHORT_TEXT)
    account_id: str | None = Field(default=None, max_length=SHORT_TEXT)
    account_owner_id: str | None = Field(default=None, max_length=SHORT_TEXT)
    open_opportunity: bool = False
    customer: bool = False

    def name(self, otherwise: str) -> str:
        """The CRM's name on a "Open in ..." button: this record's own CRM when Handoff knows it."""
        return CRM_NAMES.get(self.system.lower(), otherwise)


class Trigger(_Open):
    type: str = Field(min_length=1, max_length=64)
    name: str | None = Field(default=None, max_length=SHORT_TEXT)
    url: str | None = Field(default=None, max_length=LONG_TEXT)
    at: Timestamp | None = None


class Activity(_Open):
    type: str = Field(min_length=1, max_length=64)
    title: str | None = Field(default=None, max_length=SHORT_TEXT)
    url: str | None = Field(default=None, max_length=LONG_TEXT)
    at: Timestamp | None = None


class Lead(_Open):
    """One inbound lead, in the canonical shape."""

    event_id: str = Field(min_length=1, max_length=256)
    occurred_at: Timestamp | None = None
    source: str = Field(default="other", max_length=64)
    contact: Contact
    company: Company = Field(default_factory=Company)
    crm: CrmRef = Field(default_factory=CrmRef)
    trigger: Trigger
    score: float | None = Field(default=None, ge=0, le=1000)
    activities: list[Activity] = Field(default_factory=list, max_length=MAX_ACTIVITIES)

    @field_validator("trigger", mode="before")
    @classmethod
    def _normalise_trigger_type(cls, value: Any) -> Any:
        if isinstance(value, dict) and isinstance(value.get("type"), str):
            return {**value, "type": value["type"].strip().lower()}
        return value

    @property
    def lead_id(self) -> str:
        return lead_id_for(self.source, self.event_id)


TRIGGER_LABELS = {
    "demo_request": "Demo request",
    "pricing_request": "Pricing request",
    "contact_sales": "Contact sales",
    "meeting_booked": "Meeting booked",
    "form_submission": "Form submission",
    "content_download": "Content download",
    "score_threshold": "Lead score threshold",
    "chat": "Chat",
}


def label_for_trigger(trigger_type: str) -> str:
    """How a rep reads a trigger type: "demo_request" -> "Demo request"."""
    return TRIGGER_LABELS.get(trigger_type, trigger_type.replace("_", " ").capitalize())
