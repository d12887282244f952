"""The brief as a CRM task: a subject and a few plain lines a rep reads in their task list.

Who, why now, the top reasons and the deadline, with one signed link: "Connected". Marking the
task done in the CRM records an attempt (it cannot say whether anyone was reached), so the link
is there for the one outcome the task cannot tell; it opens the same confirmation page as the
brief's link, which records nothing until the rep confirms.
"""

from __future__ import annotations

from handoff.email.brief import BriefView, Link, one_line, person_line

# The task shows the strongest reasons; the brief has them all.
TOP_REASONS = 3
CONNECTED_LABEL = "Connected"


def task_link(links: list[Link]) -> Link | None:
    return next((link for link in links if link.label == CONNECTED_LABEL), None)


def task_text(brief: BriefView) -> tuple[str, str]:
    """The task's subject and its plain-text body."""
    who = person_line(brief.name, brief.title, brief.company)
    subject = one_line(f"Follow up: {who} ({brief.tier.upper()}) by {brief.respond_by_short}")
    # Consent first, as in the brief: nobody calls someone who said no. Each line from CRM data
    # stays one line.
    lines = [
        one_line(line)
        for line in (
            *brief.consent,
            f"{who} · tier {brief.tier.upper()} · {brief.email}"
            + (f" · {brief.phone}" if brief.phone else ""),
            f"Why now: {brief.trigger}",
            *(f"- {reason}" for reason in brief.reasons[:TOP_REASONS]),
            f"Respond by {brief.respond_by} ({brief.respond_in}).",
        )
    ]
    link = task_link(brief.links)
    if link:
        lines.append(f"Reached them? Record it: {link.url}")
    lines.append("Marking this task done records an attempt in Handoff.")
    return subject, "\n".join(lines)
