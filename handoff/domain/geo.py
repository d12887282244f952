"""Countries and regions as ISO 3166 codes, however a CRM spells them.

Fit and territory rules name countries by ISO 3166-1 alpha-2 code ("GB") and regions by the
ISO 3166-2 subdivision code without its country prefix ("CA" for California), which is what
Salesforce's StateCode and CountryCode picklists send. CRMs with free-text fields send
"United Kingdom", "germany" or "USA"; pycountry (the ISO 3166 data Debian's iso-codes keeps)
turns those into the same codes. A value it cannot place is kept as sent, so nothing a rep
would read is lost; it just matches no rule.
"""

from __future__ import annotations

from functools import lru_cache

# Everyday names ISO 3166 does not list (its name for GB is "United Kingdom", for NL
# "Netherlands", for TR "Türkiye"), as CRM users type them.
COUNTRY_ALIASES = {
    "uk": "GB",
    "u.k.": "GB",
    "great britain": "GB",
    "britain": "GB",
    "england": "GB",
    "scotland": "GB",
    "wales": "GB",
    "northern ireland": "GB",
    "u.s.": "US",
    "u.s.a.": "US",
    "america": "US",
    "the netherlands": "NL",
    "holland": "NL",
    "russia": "RU",
    "korea": "KR",
    "turkey": "TR",
    "uae": "AE",
    "deutschland": "DE",
}


@lru_cache(maxsize=1024)
def country_code(value: str) -> str:
    """ "United Kingdom", "gb", "GBR", "UK" -> "GB"; an unknown value comes back as sent."""
    cleaned = value.strip()
    alias = COUNTRY_ALIASES.get(cleaned.casefold())
    if alias:
        return alias
    if len(cleaned) == 2 and cleaned.isalpha() and cleaned.isupper():
        return cleaned  # already a code (config, Salesforce's CountryCode): no table to load
    # Imported on first use: every function validates leads, few ever see a country name.
    import pycountry

    try:
        return str(pycountry.countries.lookup(cleaned).alpha_2)
    except LookupError:
        return cleaned


def country_name(code: str) -> str:
    """ "GB" -> "United Kingdom", for what a rep reads; anything else as it is."""
    if len(code) != 2:
        return code
    import pycountry

    try:
        country = pycountry.countries.lookup(code)
    except LookupError:
        return code
    return str(getattr(country, "common_name", None) or country.name)


@lru_cache(maxsize=1024)
def region_code(country: str | None, value: str) -> str:
    """ "California" or "ca" in US -> "CA"; "Bavaria" in DE -> "BY". Kept as sent when the
    country is unknown or has no such subdivision."""
    cleaned = value.strip()
    if not country or len(country) != 2:
        return cleaned
    if len(cleaned) <= 3 and cleaned.isalnum():
        # Already a code (what Salesforce's StateCode sends): checking it against the table
        # would load all of ISO 3166-2 for nothing.
        return cleaned.upper()
    import pycountry

    wanted = cleaned.casefold().removeprefix(f"{country.casefold()}-")
    # pycountry types lookup() but not get(); get(country_code=...) is its documented per-country query.
    for subdivision in pycountry.subdivisions.get(country_code=country) or []:  # type: ignore[no-untyped-call]
        suffix = str(subdivision.code).split("-", 1)[1]
        if wanted in {suffix.casefold(), str(subdivision.name).casefold()}:
            return suffix
    return cleaned
