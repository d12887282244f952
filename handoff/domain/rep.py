"""A sales rep as routing sees them: pools, weight, capacity, hours and fair-queue state."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field, StringConstraints, ValidationError, ValidationInfo, field_validator

from handoff.domain.clock import local
from handoff.domain.geo import country_code, region_code
from handoff.domain.sla import HOURS_PATTERN
from handoff.errors import BadRequest

# Pool names match whatever their case ("EMEA" is "emea"): config and reps both read them in lower case.
PoolName = Annotated[str, StringConstraints(strip_whitespace=True, to_lower=True, min_length=1)]


class Rep(BaseModel):
    rep_id: str = Field(min_length=1, max_length=64)
    email: str
    name: str | None = None
    manager_email: str | None = None
    pools: list[PoolName] = Field(default_factory=list)
    weight: float = Field(default=1.0, gt=0, le=100)
    capacity: int = Field(default=10, ge=0)
    open_count: int = Field(default=0, ge=0)
    active: bool = True
    ooo_until: datetime | None = None
    timezone: str = "UTC"
    working_hours: str | None = Field(default=None, pattern=HOURS_PATTERN)
    # Whose public holidays are days off (ISO 3166: "US", "GB"; region "CA", or "BY" for Bavaria,
    # where holidays differ by region). Without a country only weekends are off.
    country: str | None = None
    region: str | None = None
    daily_cap: int | None = Field(default=None, ge=0)
    day: str | None = None  # the rep's local date that day_count belongs to
    day_count: int = Field(default=0, ge=0)
    crm_owner_ids: list[str] = Field(default_factory=list)
    # Name of the secret holding this rep's own Slack incoming-webhook URL (else the team's).
    slack_secret: str | None = Field(default=None, pattern=r"^slack-[A-Za-z0-9_-]+$")
    vtime: float | None = None  # the rep's fairness clock: where their next turn starts
    vstart: float | None = None  # where their last turn taken in the exact fair order started
    last_assigned_at: datetime | None = None
    assigned_total: int = 0

    @field_validator("ooo_until", "last_assigned_at")
    @classmethod
    def _aware(cls, value: datetime | None) -> datetime | None:
        # A bare date in a CSV means midnight UTC.
        return value.replace(tzinfo=UTC) if value and value.tzinfo is None else value

    @field_validator("country")
    @classmethod
    def _country(cls, value: str | None) -> str | None:
        if not value:
            return None
        code = country_code(value)
        if len(code) != 2 or not code.isalpha() or not code.isupper():
            raise ValueError(f"{value!r} is not an ISO 3166 country (use a code such as US, GB, DE)")
        return code

    @field_validator("region")
    @classmethod
    def _region(cls, value: str | None, info: ValidationInfo) -> str | None:
        return region_code(info.data.get("country"), value) if value else None

    def local_now(self, now: datetime) -> datetime:
        return local(now, self.timezone)

    def today(self, now: datetime) -> str:
        return self.local_now(now).date().isoformat()

    def owns(self, crm_owner_id: str | None) -> bool:
        return bool(crm_owner_id) and (crm_owner_id == self.rep_id or crm_owner_id in self.crm_owner_ids)


# What `handoff reps set --status` and the console's rep form may set.
REP_STATUSES = ("active", "inactive", "ooo")


class RepChanges(BaseModel):
    """A person's change to one rep, checked as the Rep model checks the same fields."""

    status: Literal["active", "inactive", "ooo"] | None = None
    # With status ooo: the first day back (midnight UTC).
    until: date | None = None
    capacity: int | None = Field(default=None, ge=0)
    weight: float | None = Field(default=None, gt=0, le=100)
    daily_cap: int | None = Field(default=None, ge=0)


def rep_changes(**given: object) -> dict[str, Any]:
    """The fields to write for ``handoff reps set`` and the console's rep form: status (active,
    inactive, ooo with ``until``), capacity, weight, daily_cap. Blank or None values are left
    out; a bad one is a BadRequest naming the field."""
    values = {k: v for k, v in given.items() if v is not None and v != ""}
    try:
        change = RepChanges.model_validate(values)
    except ValidationError as exc:
        first = exc.errors(include_url=False, include_input=False)[0]
        field = ".".join(str(p) for p in first["loc"]) or "form"
        raise BadRequest(f"{field}: {first['msg']}", details=[{"field": field}]) from exc
    changes: dict[str, Any] = {}
    if change.status == "active":
        changes.update(active=True, ooo_until=None)
    elif change.status == "inactive":
        changes.update(active=False)
    elif change.status == "ooo":
        if change.until is None:
            raise BadRequest(
                "until: out of office needs the first day back (YYYY-MM-DD)", [{"field": "until"}]
            )
        back = datetime(change.until.year, change.until.month, change.until.day, tzinfo=UTC)
        changes.update(active=True, ooo_until=back.isoformat())
    for name in ("capacity", "weight", "daily_cap"):
        if getattr(change, name) is not None:
            changes[name] = getattr(change, name)
    if not changes:
        raise BadRequest(
            "nothing to change: give a status, capacity, weight or daily cap", [{"field": "form"}]
        )
    return changes
