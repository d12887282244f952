"""Shared building blocks for the config schema."""

from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict

from handoff.domain.clock import zone
from handoff.domain.geo import country_code
from handoff.domain.lead import email_address


def _iso_countries(values: list[str]) -> list[str]:
    codes = [country_code(v) for v in values]
    unknown = [sent for sent, code in zip(values, codes, strict=True) if len(code) != 2 or not code.isupper()]
    if unknown:
        raise ValueError(f"not ISO 3166 countries: {', '.join(unknown)} (use codes such as GB, DE, US)")
    return codes


# Countries in config, as leads carry them: "United Kingdom" or "GB" both mean GB; a typo is an error.
CountryCodes = Annotated[list[str], AfterValidator(_iso_countries)]


def _a_zone(name: str) -> str:
    # Checked here because clock.zone() reads an unknown name as UTC rather than stop a handoff.
    if zone(name) is None:
        raise ValueError(f"{name!r} is not an IANA time zone (e.g. UTC, America/Chicago, Europe/Berlin)")
    return name


# An IANA time-zone name; a typo is an error, never a silent UTC.
TimeZoneName = Annotated[str, AfterValidator(_a_zone)]


# An address checked as a lead's contact.email is (email-validator, no DNS), or empty for "none".
OptionalEmail = Annotated[str, AfterValidator(lambda value: email_address(value) if value else value)]


class Section(BaseModel):
    """Every section forbids unknown keys: a typo is an error, never a silently ignored setting."""

    model_config = ConfigDict(extra="forbid", frozen=True)
