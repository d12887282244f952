from __future__ import annotations

from typing import Any

from handoff.config import QualifyConfig, parse_config
from handoff.domain.lead import Lead
from handoff.domain.qualify import qualify

CONFIG = parse_config(
    """
[qualify]
min_fit = 50
next_step_triggers = ["demo_request", "pricing_request"]
hot_triggers = ["demo_request"]
[qualify.fit]
industries = ["SaaS"]
min_employees = 50
max_employees = 5000
title_keywords = ["vp", "director"]
""",
    "test.toml",
).qualify


def lead(**overrides: Any) -> Lead:
    body: dict[str, Any] = {
        "event_id": "e1",
        "contact": {"email": "a@b.co", "title": "VP Sales"},
        "company": {"industry": "saas", "employees": 450},
        "trigger": {"type": "demo_request"},
    }
    body.update(overrides)
    return Lead.model_validate(body)


def codes(result: Any) -> list[str]:
    return [r.code for r in result.reasons]


def test_fit_plus_bofu_trigger_is_sales_ready_and_hot() -> None:
    result = qualify(lead(), CONFIG)
    assert result.ready is True
    assert result.tier == "hot"
    assert result.fit == 100
    assert result.next_step == "demo_request"
    assert codes(result) == ["fit.industry", "fit.employees", "fit.title", "next_step.trigger"]


def test_reasons_read_like_sentences_with_points() -> None:
    result = qualify(lead(), CONFIG)
    title = next(r for r in result.reasons if r.code == "fit.title")
    assert title.text == 'Title "VP Sales" matches persona keyword "vp" (+30)'
    assert title.points == 30


def test_non_hot_next_step_is_warm() -> None:
    result = qualify(lead(trigger={"type": "pricing_request"}), CONFIG)
    assert (result.ready, result.tier) == (True, "warm")


def test_good_fit_without_next_step_stays_in_nurture() -> None:
    result = qualify(lead(trigger={"type": "content_download"}), CONFIG)
    assert result.ready is False
    assert result.tier is None
    assert "next_step.missing" in codes(result)


def test_bofu_trigger_with_poor_fit_stays_in_nurture() -> None:
    result = qualify(
        lead(
            company={"industry": "bakery", "employees": 4},
            contact={"email": "a@b.co", "title": "Owner"},
        ),
        CONFIG,
    )
    assert result.ready is False
    assert result.fit == 0
    assert "fit.below_threshold" in codes(result)


def test_employee_range_bounds_are_inclusive_and_missing_data_scores_nothing() -> None:
    at_bounds = qualify(lead(company={"industry": "saas", "employees": 5000}), CONFIG)
    assert "fit.employees" in codes(at_bounds)
    above = qualify(lead(company={"industry": "saas", "employees": 5001}), CONFIG)
    assert "fit.employees" not in codes(above)
    unknown = qualify(lead(company={}), CONFIG)
    assert unknown.fit == 30  # only the title matched


def test_default_config_still_qualifies() -> None:
    result = qualify(lead(), QualifyConfig())
    assert result.next_step == "demo_request"
