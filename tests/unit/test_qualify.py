from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from handoff.config import QualifyConfig, load_config, parse_config
from handoff.domain.lead import Lead
from handoff.domain.qualify import activity_kind, matched_keyword, qualify, score_intent
from handoff.domain.record import Qualification
from tests.conftest import ROOT

NOW = datetime(2026, 11, 2, 16, 0, tzinfo=UTC)
CONFIG = load_config(ROOT / "config" / "handoff.toml").qualify


def lead(**overrides: Any) -> Lead:
    body: dict[str, Any] = {
        "event_id": "e1",
        "contact": {"email": "jo@northwind.example", "title": "VP of Sales", "country": "US"},
        "company": {"name": "Northwind", "industry": "SaaS", "employees": 450, "annual_revenue": 25_000_000},
        "trigger": {"type": "demo_request"},
    }
    for key, value in overrides.items():
        if isinstance(value, dict) and isinstance(body.get(key), dict):
            body[key] = {**body[key], **value}
        else:
            body[key] = value
    return Lead.model_validate(body)


def codes(result: Qualification) -> list[str]:
    return [r.code for r in result.reasons]


def reason(result: Qualification, code: str) -> str:
    return next(r.text for r in result.reasons if r.code == code)


def test_ideal_demo_request_is_ready_hot_via_the_fast_lane() -> None:
    result = qualify(lead(), CONFIG, NOW)
    assert (result.ready, result.tier, result.next_step) == (True, "hot", "demo_request")
    assert result.fit == 100
    assert "tier.fast_lane" in codes(result)
    assert result.excluded is None and result.missing == []


def test_reasons_read_like_sentences_with_points() -> None:
    result = qualify(lead(), CONFIG, NOW)
    assert reason(result, "fit.persona") == 'Title "VP of Sales" matches persona Sales Leader (+35)'
    assert reason(result, "fit.industry") == "Industry SaaS is in the ICP (+25)"
    assert reason(result, "fit.employees") == "450 employees is in the ICP range (+20)"
    assert reason(result, "intent.trigger") == "Demo request (+60)"
    assert sum(r.points for r in result.reasons if r.code.startswith("fit.")) == result.fit


def test_persona_matches_on_seniority_and_department_when_the_title_says_nothing() -> None:
    result = qualify(lead(contact={"title": "Leader", "seniority": "VP", "department": "Sales"}), CONFIG, NOW)
    assert reason(result, "fit.persona") == "Seniority VP in Sales matches persona Sales Leader (+35)"


def test_keywords_match_whole_words_only() -> None:
    assert matched_keyword("CRO", ["cro"]) == "CRO"
    assert matched_keyword("Microsoft evangelist", ["cro"]) is None
    assert matched_keyword("Intern (summer)", ["intern"]) == "Intern"
    assert matched_keyword("International sales", ["intern"]) is None


def test_only_the_best_persona_counts() -> None:
    result = qualify(lead(contact={"title": "Founder and Head of Sales"}), CONFIG, NOW)
    assert [r.points for r in result.reasons if r.code == "fit.persona"] == [35]


def test_non_bofu_next_step_is_tiered_by_score() -> None:
    strong = qualify(lead(trigger={"type": "pricing_request"}), CONFIG, NOW)
    assert (strong.ready, strong.next_step) == (True, "pricing_request")
    assert strong.score == 0.5 * 100 + 0.5 * 50
    assert strong.tier == "hot"
    weaker = qualify(lead(trigger={"type": "pricing_request"}, company={"industry": "Retail"}), CONFIG, NOW)
    assert weaker.tier == "warm"


def test_intent_decays_with_age() -> None:
    intent = CONFIG.intent
    fresh = lead(
        trigger={"type": "content_download"}, activities=[{"type": "webinar", "at": NOW.isoformat()}]
    )
    old = lead(
        trigger={"type": "content_download"},
        activities=[{"type": "webinar", "at": (NOW - timedelta(days=14)).isoformat()}],
    )
    fresh_score, _ = score_intent(fresh, intent, NOW)
    old_score, reasons = score_intent(old, intent, NOW)
    assert fresh_score == 10 + 12
    assert old_score == 10 + 6  # one half-life
    assert "1 webinar, latest 14 days ago (+6)" in [r.text for r in reasons]


def test_pricing_pages_and_demo_forms_count_for_more() -> None:
    intent = CONFIG.intent
    from handoff.domain.lead import Activity

    assert (
        activity_kind(Activity(type="page_view", url="https://x.example/pricing"), intent) == "pricing_page"
    )
    assert activity_kind(Activity(type="page_view", title="Blog"), intent) == "page_view"
    assert activity_kind(Activity(type="form_submission", title="Request a demo"), intent) == "demo_request"


def test_high_intent_without_a_sales_trigger_is_a_next_step() -> None:
    activities = [
        {"type": "page_view", "url": "/pricing", "at": NOW.isoformat()},
        {"type": "page_view", "title": "Pricing FAQ", "at": NOW.isoformat()},
        {"type": "webinar", "at": NOW.isoformat()},
    ]
    result = qualify(lead(trigger={"type": "content_download"}, activities=activities), CONFIG, NOW)
    assert result.intent == 10 + 20 + 20 + 12
    assert (result.ready, result.next_step) == (True, "high_intent")
    assert reason(result, "intent.activity.pricing_page") == "2 pricing pages, latest today (+40)"


def test_low_intent_without_a_sales_trigger_stays_in_nurture() -> None:
    result = qualify(lead(trigger={"type": "content_download"}), CONFIG, NOW)
    assert (result.ready, result.tier, result.next_step) == (False, None, None)
    assert reason(result, "next_step.missing").startswith("No clear next step: content_download")


def test_crm_score_is_blended_into_intent() -> None:
    without, _ = score_intent(lead(trigger={"type": "form_submission"}), CONFIG.intent, NOW)
    blended, reasons = score_intent(lead(trigger={"type": "form_submission"}, score=95), CONFIG.intent, NOW)
    assert without == 15
    assert blended == pytest.approx(0.8 * 15 + 0.2 * 95)
    assert "CRM score 95 blended in at 20% (+16)" in [r.text for r in reasons]


def test_poor_fit_is_not_ready_even_with_a_demo_request() -> None:
    result = qualify(
        lead(
            contact={"title": "Owner", "country": "BR"},
            company={"industry": "Bakery", "employees": 4, "annual_revenue": 0},
        ),
        CONFIG,
        NOW,
    )
    assert result.ready is False
    assert result.fit == 0
    assert "fit.below_threshold" in codes(result)


@pytest.mark.parametrize(
    ("overrides", "code"),
    [
        ({"contact": {"email": "spy@rivalsoft.example"}}, "excluded.competitor"),
        ({"company": {"domain": "eu.rivalsoft.example"}}, "excluded.competitor"),
        ({"contact": {"title": "MBA Student"}}, "excluded.student"),
        ({"contact": {"title": "Open to work - sales leader"}}, "excluded.job_seeker"),
        ({"do_not_route": True}, "excluded.do_not_route"),
        ({"contact": {"do_not_contact": "true"}}, "excluded.do_not_route"),
        (
            {"contact": {"email": "jo@gmail.com"}, "company": {"name": None, "domain": None}},
            "excluded.free_mail",
        ),
    ],
)
def test_exclusions_keep_a_lead_from_sales_with_a_reason(overrides: dict[str, Any], code: str) -> None:
    result = qualify(lead(**overrides), CONFIG, NOW)
    assert result.ready is False
    assert result.excluded == code
    assert code in codes(result)


def test_free_mail_policy() -> None:
    gmail_with_company = lead(contact={"email": "jo@gmail.com"})
    assert qualify(gmail_with_company, CONFIG, NOW).ready is True  # require_company: has a company
    strict = CONFIG.model_copy(
        update={"exclusions": CONFIG.exclusions.model_copy(update={"free_mail": "exclude"})}
    )
    assert qualify(gmail_with_company, strict, NOW).excluded == "excluded.free_mail"
    lenient = CONFIG.model_copy(
        update={"exclusions": CONFIG.exclusions.model_copy(update={"free_mail": "allow"})}
    )
    no_company = lead(contact={"email": "jo@gmail.com"}, company={"name": None, "domain": None})
    assert qualify(no_company, lenient, NOW).excluded is None


def test_missing_required_information_is_explicit() -> None:
    result = qualify(lead(company={"employees": None}, contact={"country": None}), CONFIG, NOW)
    assert result.ready is False
    assert result.missing == ["company.employees", "contact.country|company.country"]
    assert (
        reason(result, "missing.company.employees")
        == "Company size is missing; routing needs it before sales can act"
    )
    assert reason(result, "missing.contact.country|company.country").startswith(
        "Country or Company country is missing"
    )
    with_company_country = qualify(lead(company={"country": "US"}, contact={"country": None}), CONFIG, NOW)
    assert with_company_country.missing == []


def test_defaults_work_without_any_config() -> None:
    config = parse_config("", "empty.toml").qualify
    result = qualify(lead(), config, NOW)
    assert result.next_step == "demo_request"
    assert isinstance(config, QualifyConfig)


def test_activity_age_counts_from_the_conversion_not_the_delivery() -> None:
    conversion = NOW - timedelta(days=3)  # a CRM retried the webhook three days later
    body = {
        "occurred_at": conversion.isoformat(),
        "activities": [{"type": "webinar", "at": conversion.isoformat()}],
    }
    late, _ = score_intent(lead(trigger={"type": "content_download"}, **body), CONFIG.intent, NOW)
    assert late == 10 + 12


def test_a_stale_trigger_is_neither_a_next_step_nor_a_fast_lane() -> None:
    fresh = qualify(
        lead(trigger={"type": "demo_request", "at": (NOW - timedelta(hours=3)).isoformat()}), CONFIG, NOW
    )
    assert (fresh.next_step, fresh.tier) == ("demo_request", "hot")
    old = qualify(
        lead(trigger={"type": "demo_request", "at": (NOW - timedelta(days=60)).isoformat()}), CONFIG, NOW
    )
    assert old.next_step is None and not old.ready
    assert "Demo request was 60 days ago" in reason(old, "next_step.missing")
    trigger = next(r for r in old.reasons if r.code == "intent.trigger")
    assert trigger.points < 4 and "60 days ago" in trigger.text  # 60 points, four half-lives on
