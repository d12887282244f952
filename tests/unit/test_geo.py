"""Countries and regions as ISO 3166 codes, from every sender, for fit and territory rules."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from handoff.config import load_config
from handoff.domain.geo import country_code, country_name, region_code
from handoff.domain.lead import Lead
from handoff.domain.qualify import qualify
from handoff.domain.record import LeadRecord
from handoff.domain.route import territory
from tests.conftest import ROOT

NOW = datetime(2026, 11, 3, 11, 0, tzinfo=UTC)
CONFIG = load_config(ROOT / "config" / "handoff.toml")


@pytest.mark.parametrize(
    ("sent", "code"),
    [
        ("United Kingdom", "GB"),
        ("united kingdom", "GB"),
        ("UK", "GB"),
        ("Great Britain", "GB"),
        ("GBR", "GB"),
        ("gb", "GB"),
        ("Germany", "DE"),
        ("Deutschland", "DE"),
        ("USA", "US"),
        ("United States of America", "US"),
        ("The Netherlands", "NL"),
        ("Czechia", "CZ"),
    ],
)
def test_country_names_and_codes_become_alpha_2(sent: str, code: str) -> None:
    assert country_code(sent) == code


def test_an_unknown_country_is_kept_as_sent() -> None:
    assert country_code("Atlantis") == "Atlantis"
    assert country_name("Atlantis") == "Atlantis"
    assert country_name("GB") == "United Kingdom"


def test_regions_become_subdivision_codes_within_their_country() -> None:
    assert region_code("US", "California") == "CA"
    assert region_code("US", "ca") == "CA"
    assert region_code("US", "US-NY") == "NY"
    assert region_code("CA", "Ontario") == "ON"
    # Without a country a region name is ambiguous, so it stays as sent.
    assert region_code(None, "California") == "California"
    assert region_code("US", "Narnia") == "Narnia"


def _lead(country: str, **contact: Any) -> Lead:
    return Lead.model_validate(
        {
            "event_id": "geo-1",
            "contact": {
                "email": "ana@brightwave.example",
                "title": "VP of Sales",
                "country": country,
                **contact,
            },
            "company": {"name": "Brightwave", "industry": "SaaS", "employees": 400, "country": country},
            "trigger": {"type": "demo_request"},
        }
    )


def test_every_sender_s_lead_carries_codes() -> None:
    lead = _lead("United States", region="Texas")
    assert (lead.contact.country, lead.contact.region, lead.company.country) == ("US", "TX", "US")


@pytest.mark.parametrize("spelt", ["United Kingdom", "Germany", "germany", "UK"])
def test_a_country_name_earns_the_target_market_points(spelt: str) -> None:
    reasons = {r.code for r in qualify(_lead(spelt), CONFIG.qualify, NOW).reasons}
    assert "fit.country" in reasons


@pytest.mark.parametrize(
    ("spelt", "pool"), [("United Kingdom", "emea"), ("Germany", "emea"), ("USA", "sales")]
)
def test_a_country_name_meets_the_territory_rule(spelt: str, pool: str) -> None:
    lead = _lead(spelt)
    record = LeadRecord.from_lead(lead, qualify(lead, CONFIG.qualify, NOW), NOW)
    assert territory(record, CONFIG.routing)[0] == pool


def test_config_countries_are_read_the_same_way_and_typos_are_errors() -> None:
    from handoff.config import parse_config
    from handoff.errors import ConfigError

    config = parse_config(
        '[[routing.rules]]\nname = "UK"\npool = "uk"\ncountries = ["United Kingdom"]\n', "t.toml"
    )
    assert config.routing.rules[0].countries == ["GB"]
    with pytest.raises(ConfigError, match="GER"):
        parse_config('[qualify.fit.countries]\nvalues = ["GER"]\n', "t.toml")
