"""The one definition of sales-ready: ICP fit + intent + a clear next step."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, model_validator

from handoff.config.base import CountryCodes, Section

Weight = Annotated[float, Field(ge=0, le=1000)]


class ValuesCriterion(Section):
    """Matches when the lead's value is one of ``values`` (case-insensitive)."""

    values: list[str] = Field(default_factory=list)
    weight: Weight = 0


class CountriesCriterion(ValuesCriterion):
    """Matches when the lead's country (ISO 3166 alpha-2, whatever the CRM sent) is one of ``values``."""

    values: CountryCodes = Field(default_factory=list)


class RangeCriterion(Section):
    """Matches when the lead's number lies in [min, max] (either bound optional)."""

    min: float | None = Field(default=None, ge=0)
    max: float | None = Field(default=None, ge=0)
    weight: Weight = 0

    @model_validator(mode="after")
    def _ordered(self) -> RangeCriterion:
        if self.min is not None and self.max is not None and self.max < self.min:
            raise ValueError("max must be at least min")
        return self


class Persona(Section):
    """A buyer persona: a title keyword matches, or both seniority and department do."""

    name: str = Field(min_length=1)
    title_keywords: list[str] = Field(default_factory=list)
    seniorities: list[str] = Field(default_factory=list)
    departments: list[str] = Field(default_factory=list)
    weight: Weight = 0


class FitConfig(Section):
    """ICP fit, firmographic and persona. Weights are normalised to a 0-100 fit score."""

    industries: ValuesCriterion = Field(default_factory=lambda: ValuesCriterion(weight=25))
    employees: RangeCriterion = Field(default_factory=lambda: RangeCriterion(min=50, max=5000, weight=20))
    revenue: RangeCriterion = Field(default_factory=lambda: RangeCriterion(weight=10))
    countries: CountriesCriterion = Field(default_factory=lambda: CountriesCriterion(weight=10))
    regions: ValuesCriterion = Field(default_factory=ValuesCriterion)
    personas: list[Persona] = Field(default_factory=list)

    @property
    def total_weight(self) -> float:
        firmographic = sum(
            c.weight for c in (self.industries, self.employees, self.revenue, self.countries, self.regions)
        )
        # Only the best-matching persona counts, so only the largest persona weight is attainable.
        return firmographic + max((p.weight for p in self.personas), default=0)


ACTIVITY_WEIGHTS: dict[str, float] = {
    "demo_request": 40, "pricing_page": 20, "webinar": 12, "content_download": 10, "chat": 10,
    "form_submission": 8, "email_click": 4, "page_view": 2,
}  # fmt: skip
TRIGGER_WEIGHTS: dict[str, float] = {
    "meeting_booked": 70, "demo_request": 60, "contact_sales": 60, "pricing_request": 50, "chat": 25,
    "score_threshold": 20, "form_submission": 15, "content_download": 10,
}  # fmt: skip


class IntentConfig(Section):
    """Engagement: activities weighted by type and decayed by age, plus the trigger's own weight."""

    half_life_days: float = Field(default=14, gt=0)
    activity_weights: dict[str, Weight] = Field(default_factory=lambda: dict(ACTIVITY_WEIGHTS))
    trigger_weights: dict[str, Weight] = Field(default_factory=lambda: dict(TRIGGER_WEIGHTS))
    # Activity or trigger types your own senders send beyond Handoff's (docs/webhooks.md): config
    # may weight or name only Handoff's types and these, so a misspelt type is an error.
    custom_types: list[str] = Field(default_factory=list)
    # A page view whose URL or title contains one of these counts as a "pricing_page" activity.
    pricing_page_patterns: list[str] = Field(default_factory=lambda: ["pricing"])
    # A form submission whose title contains one of these counts as a "demo_request" activity.
    demo_form_patterns: list[str] = Field(default_factory=lambda: ["demo"])
    # Share of the CRM's own score (0-100) blended into intent when the lead carries one.
    crm_score_weight: float = Field(default=0.2, ge=0, le=1)


FREE_MAIL_DOMAINS = [
    "gmail.com", "googlemail.com", "yahoo.com", "hotmail.com", "outlook.com", "live.com", "aol.com",
    "icloud.com", "me.com", "proton.me", "protonmail.com", "gmx.com", "gmx.de", "mail.com", "yandex.com",
    "web.de", "qq.com", "163.com",
]  # fmt: skip


class ExclusionsConfig(Section):
    competitor_domains: list[str] = Field(default_factory=list)
    # allow: free-mail addresses qualify like any other; require_company: only with a company name
    # or domain; exclude: never route free-mail addresses to sales.
    free_mail: Literal["allow", "require_company", "exclude"] = "require_company"
    free_mail_domains: list[str] = Field(default_factory=lambda: list(FREE_MAIL_DOMAINS))
    student_keywords: list[str] = Field(
        default_factory=lambda: ["student", "intern", "phd candidate", "undergraduate"]
    )
    job_seeker_keywords: list[str] = Field(
        default_factory=lambda: [
            "job seeker",
            "seeking new opportunities",
            "open to work",
            "looking for work",
            "unemployed",
        ]
    )
    # Fields (on the lead, contact or crm object) that, when true, keep a lead away from sales.
    do_not_route_flags: list[str] = Field(default_factory=lambda: ["do_not_route", "do_not_contact"])
    # A contact marked Do Not Call: hold (kept from sales, with the reason) or route (the brief then
    # says "Do not call" at the top).
    do_not_call: Literal["hold", "route"] = "hold"


class Tier(Section):
    name: str = Field(min_length=1, pattern=r"^[a-z][a-z0-9_]*$")
    min_score: float = Field(ge=0, le=100)


class QualifyConfig(Section):
    min_fit: float = Field(default=50, ge=0, le=100)
    # Intent a lead needs when its trigger is not a next step by itself.
    intent_threshold: float = Field(default=60, ge=0, le=100)
    # Combined score = fit_share * fit + (1 - fit_share) * intent.
    fit_share: float = Field(default=0.5, ge=0, le=1)
    next_step_triggers: list[str] = Field(
        default_factory=lambda: ["demo_request", "pricing_request", "contact_sales", "meeting_booked"]
    )
    # A trigger older than this (a workflow re-sending an old form) is no longer a next step by
    # itself, nor a fast lane; its points decay with intent's half-life either way.
    next_step_max_age_days: float = Field(default=30, gt=0)
    # Bottom-of-funnel triggers take the fast lane: the top tier, whatever the score.
    bofu_triggers: list[str] = Field(
        default_factory=lambda: ["demo_request", "contact_sales", "meeting_booked"]
    )
    # Fields segmentation needs; "a|b" means either will do.
    required_fields: list[str] = Field(default_factory=list)
    # First match wins, so list them from the fastest SLA down; each needs an entry in [sla].
    tiers: list[Tier] = Field(
        default_factory=lambda: [Tier(name="hot", min_score=75), Tier(name="warm", min_score=0)], min_length=1
    )
    fit: FitConfig = Field(default_factory=FitConfig)
    intent: IntentConfig = Field(default_factory=IntentConfig)
    exclusions: ExclusionsConfig = Field(default_factory=ExclusionsConfig)

    @model_validator(mode="after")
    def _sane(self) -> QualifyConfig:
        names = [t.name for t in self.tiers]
        if len(set(names)) != len(names):
            raise ValueError(f"tiers: duplicate tier names in {names}")
        scores = [t.min_score for t in self.tiers]
        if scores != sorted(scores, reverse=True):
            raise ValueError("tiers: list them from the highest min_score down")
        if self.fit.total_weight <= 0:
            raise ValueError("fit: at least one criterion needs a weight above 0")
        for path in (p for alternatives in self.required_fields for p in alternatives.split("|")):
            if path.split(".")[0] not in {"contact", "company", "crm", "trigger"} or path.count(".") != 1:
                raise ValueError(
                    f"required_fields: {path!r} must look like contact.country or company.employees"
                )
        return self
