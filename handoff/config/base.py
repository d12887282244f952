"""Shared building blocks for the config schema."""

from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict

from handoff.domain.geo import country_code


def _iso_countries(values: list[str]) -> list[str]:
    codes = [country_code(v) for v in values]
    unknown = [sent for sent, code in zip(values, codes, strict=True) if len(code) != 2 or not code.isupper()]
    if unknown:
        raise ValueError(f"not ISO 3166 countries: {', '.join(unknown)} (use codes such as GB, DE, US)")
    return codes


# Countries in config, as leads carry them: "United Kingdom" or "GB" both mean GB; a typo is an error.
CountryCodes = Annotated[list[str], AfterValidator(_iso_countries)]


class Section(BaseModel):
    """Every section forbids unknown keys: a typo is an error, never a silently ignored setting."""

    model_config = ConfigDict(extra="forbid", frozen=True)
