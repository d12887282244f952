"""What the rep's brief says beyond the facts: pain themes, talk tracks, links and senders."""

from __future__ import annotations

from pydantic import Field

from handoff.config.base import OptionalEmail, Section


class Theme(Section):
    """A pain theme, inferred when an activity title, URL or the trigger mentions a keyword."""

    label: str = Field(min_length=1)
    keywords: list[str] = Field(default_factory=list)
    url_patterns: list[str] = Field(default_factory=list)


class EmailConfig(Section):
    crm_name: str = "CRM"
    from_name: str = "Handoff"
    # Where a rep's reply goes; empty keeps replies with the sender.
    reply_to: OptionalEmail = ""
    # The part of the account's SES sending rate Handoff's email may use: lower it when other
    # systems send from the same account and Region.
    send_rate_share: float = Field(default=1.0, gt=0, le=1)


class BriefConfig(Section):
    themes: dict[str, Theme] = Field(default_factory=dict)
    # Keyed by theme, "theme:Persona", or "default". {first_name}, {company} and {trigger} are filled in.
    talk_tracks: dict[str, str] = Field(
        default_factory=lambda: {
            "default": "Open with what {first_name} just did ({trigger}), ask what prompted it now, "
            "and offer a short walkthrough built around it."
        }
    )
    top_reasons: int = Field(default=5, ge=1, le=20)


class SlackConfig(Section):
    """Post each brief to Slack too. The incoming-webhook URL is a secret: the team's
    (``team_secret``), or a rep's own when the rep has ``slack_secret`` set."""

    enabled: bool = False
    team_secret: str = "slack-webhook"  # noqa: S105 - a secret's name, not its value


class LinksConfig(Section):
    # One-click disposition links in the brief expire after this many days.
    ttl_days: int = Field(default=7, ge=1, le=90)
