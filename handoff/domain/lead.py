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
    BeforeValidator,
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

# CR, LF and the other control characters (C0, DEL, C1, and the Unicode line and paragraph
# separators): in a name or title they would break a subject header or forge a line in a brief.
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]+")


def one_line(value: str) -> str:
    """``value`` with each run of control characters turned into one space."""
    return _CONTROL.sub(" ", value)


def _one_address(value: Any) -> Any:
    # Refused, not mended: stripping would otherwise quietly drop a trailing CR/LF.
    if isinstance(value, str) and _CONTROL.search(value):
        raise ValueError("an email address is one line: CR, LF and other control characters are not allowed")
    return value


def _valid_address(value: str) -> str:
    """email-validator's syntax check (the one pydantic's EmailStr uses), without DNS: one plain
    address, so a query (?bcc=), a display name, angle brackets or quotes are refused."""
    # Imported on first use: it compiles its grammar at import (about 20 ms of cold start).
    from email_validator import EmailNotValidError, validate_email

    try:
        checked = validate_email(value, check_deliverability=False)
    except EmailNotValidError as exc:
        raise ValueError(str(exc)) from None
    return checked.normalized.lower()


EmailAddress = Annotated[
    str,
    BeforeValidator(_one_address),
    StringConstraints(strip_whitespace=True, max_length=254),
    AfterValidator(_valid_address),
]


def email_address(value: str) -> str:
    """``value`` checked (and normalised) as EmailAddress checks contact.email: for the
    addresses in config and in the reps CSV. A ValueError says what is wrong."""
    return _valid_address(_one_address(value).strip())


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


MAX_EVENT_ID_PARTS = 8


def _joined_parts(value: Any) -> Any:
    """["marketo", "88213", "4127", "2026-11-02 16:05:00"] -> "marketo:88213:4127:2026-11-02 16:05:00".
    A template sender that cannot build a string from its tokens (Marketo quotes every string token
    itself) sends the parts that identify the delivery instead."""
    if not isinstance(value, list):
        return value
    if not 1 <= len(value) <= MAX_EVENT_ID_PARTS or not all(
        isinstance(part, str | int) and not isinstance(part, bool) for part in value
    ):
        raise ValueError(f"as a list, event_id holds 1 to {MAX_EVENT_ID_PARTS} strings or whole numbers")
    return ":".join(str(part).strip() for part in value)


# The delivery's own id: a string, or the list of parts that make it.
EventId = Annotated[str, BeforeValidator(_joined_parts), Field(min_length=1, max_length=256)]


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


# Judged by their own validators, exactly as sent.
_AS_SENT = frozenset({"email"})


def _tidy(name: Any, value: Any) -> Any:
    if not isinstance(value, str):
        return value
    if not value.strip():
        return None
    return value if name in _AS_SENT else one_line(value)


class _Open(BaseModel):
    """Unknown fields are kept as extras, never rejected."""

    model_config = ConfigDict(extra="allow", str_strip_whitespace=True)

    @model_validator(mode="before")
    @classmethod
    def _blank_means_absent(cls, data: Any) -> Any:
        # Template senders (Marketo tokens, HubSpot personalisation) render a missing value
        # as "" or "  "; that means "unknown", not "invalid". Every other text is made one line
        # here, so no adapter can bring a line break into what a rep reads.
        if isinstance(data, dict):
            return {k: _tidy(k, v) for k, v in data.items()}
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


# Salesforce ids name their object by prefix: 00G is a queue (a group), 005 a user.
SALESFORCE_QUEUE_PREFIX = "00G"

# How a rep knows each CRM; a sender Handoff has no adapter for shows [email] crm_name.
CRM_NAMES = {"hubspot": "HubSpot", "salesforce": "Salesforce", "marketo": "Marketo"}


class CrmRef(_Open):
    system: str = Field(default="other", max_length=32)
    record_id: str | None = Field(default=None, max_length=SHORT_TEXT)
    record_url: str | None = Field(default=None, max_length=LONG_TEXT)
    owner_id: str | None = Field(default=None, max_length=SHORT_TEXT)
    account_id: str | None = Field(default=None, max_length=SHORT_TEXT)
    account_owner_id: str | None = Field(default=None, max_length=SHORT_TEXT)
    # An open deal or opportunity on the contact or its account, and whose it is (the CRM's user id).
    open_opportunity: bool = False
    opportunity_owner_id: str | None = Field(default=None, max_length=SHORT_TEXT)
    customer: bool = False

    @property
    def user_owner_id(self) -> str | None:
        """The record's owner when it is a person: a Salesforce queue (00G...) holds a lead for
        someone to pick up, which is exactly what routing decides."""
        if self.system == "salesforce" and (self.owner_id or "").startswith(SALESFORCE_QUEUE_PREFIX):
            return None
        return self.owner_id

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

    event_id: EventId
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


# The types Handoff's own adapters and qualify know: config may weight only these (plus
# [qualify.intent] custom_types and the types [adapters] trigger maps produce), so a typo in a
# weight is an error rather than a weight that never counts.
TRIGGER_TYPES = frozenset({*TRIGGER_LABELS, "webinar"})
# "pricing_page" and "demo_request" are what qualify makes of a pricing page view and a demo form.
ACTIVITY_TYPES = frozenset(
    {"page_view", "pricing_page", "form_submission", "demo_request", "content_download", "email_click",
     "webinar", "chat"}
)  # fmt: skip


def label_for_trigger(trigger_type: str) -> str:
    """How a rep reads a trigger type: "demo_request" -> "Demo request"."""
    return TRIGGER_LABELS.get(trigger_type, trigger_type.replace("_", " ").capitalize())
