"""One-click disposition links from the brief: confirm, record once, refuse anything else."""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from urllib.parse import urlencode

import pytest

from handoff.aws import container
from handoff.domain.clock import utcnow
from handoff.domain.link_tokens import make_token
from tests.integration.conftest import SECRETS, Aws, rep

FORM = {"Content-Type": "application/x-www-form-urlencoded"}


def page(
    aws: Aws, method: str, token: str, form: dict[str, str] | None = None
) -> tuple[int, str, dict[str, Any]]:
    from handoff.local import lambdas
    from handoff.local.http_front import build_event, match

    found = match(method, f"/d/{token}")
    assert found
    body = urlencode(form or {}).encode()
    event = build_event(
        found[0], params=found[1], method=method, raw_path=f"/d/{token}", headers=FORM, body=body
    )
    result = lambdas.invoke(found[0].function, event)
    headers = result.get("headers") or {k: v[0] for k, v in (result.get("multiValueHeaders") or {}).items()}
    return int(result["statusCode"]), str(result["body"]), headers


def notified(aws: Aws, hot_lead: dict[str, Any]) -> tuple[str, dict[str, str]]:
    aws.put_reps(rep("r1"), rep("r2", capacity=0))
    _, body = aws.post_lead(hot_lead)
    aws.wait_for_event(body["lead_id"], "waiting")
    return body["lead_id"], aws.brief_links("r1@example.com")


def test_the_brief_carries_six_links_and_a_get_changes_nothing(aws: Aws, hot_lead: dict[str, Any]) -> None:
    lead_id, links = notified(aws, hot_lead)
    assert set(links) == {"No answer", "Connected", "Sales accepted", "Meeting set", "Recycle", "Disqualify"}
    status, html, headers = page(aws, "GET", links["Meeting set"])
    assert status == 200
    assert "Record meeting set" in html and "Jordan Lee" in html
    assert headers["Referrer-Policy"] == "no-referrer" and headers["Cache-Control"] == "no-store"
    assert aws.get_lead(lead_id)["dispositions"] == []  # link scanners open GETs


def test_posting_records_the_outcome_once_and_completes_the_wait(aws: Aws, hot_lead: dict[str, Any]) -> None:
    lead_id, links = notified(aws, hot_lead)
    status, html, _ = page(aws, "POST", links["Meeting set"], {"note": "Tuesday 10am"})
    assert (status, "Meeting set recorded for Jordan Lee" in html) == (200, True)
    assert aws.execution(lead_id)["status"] == "SUCCEEDED"
    lead = aws.get_lead(lead_id)
    assert [(d["outcome"], d["by"], d["note"]) for d in lead["dispositions"]] == [
        ("meeting_set", "link:r1", "Tuesday 10am")
    ]
    status, html, _ = page(aws, "POST", links["Meeting set"])
    assert status == 410 and "already been used" in html
    assert len(aws.get_lead(lead_id)["dispositions"]) == 1


@pytest.mark.usefixtures("patient_sla")  # the rep answers after the test config's 2 s SLA
def test_opening_a_used_link_says_what_it_recorded_and_offers_no_form(
    aws: Aws, hot_lead: dict[str, Any]
) -> None:
    lead_id, links = notified(aws, hot_lead)
    assert page(aws, "POST", links["Recycle"], {"reason": "timing", "recycle_until": "2099-01-01"})[0] == 400
    until = (utcnow() + timedelta(days=30)).date().isoformat()
    status, html, _ = page(aws, "POST", links["Recycle"], {"reason": "timing", "recycle_until": until})
    assert status == 200 and "Recycled until" in html
    status, html, headers = page(aws, "GET", links["Recycle"])  # opened again, from the email
    assert status == 410 and "Already recorded" in html
    assert "it recorded Recycle (timing) for Jordan Lee on " in html and "<form" not in html
    assert headers["Cache-Control"] == "no-store"
    lead = aws.get_lead(lead_id)
    assert [(d["outcome"], d["recycle_until"]) for d in lead["dispositions"]] == [("recycle", until)]
    assert f"recycle (timing) until {until}" in [e["detail"] for e in lead["timeline"]]


def test_recycle_and_disqualify_need_a_reason_from_the_list(aws: Aws, hot_lead: dict[str, Any]) -> None:
    lead_id, links = notified(aws, hot_lead)
    status, html, _ = page(aws, "GET", links["Disqualify"])
    assert status == 200 and 'value="no_budget"' in html and "<select" in html
    assert '<option value="" selected disabled>Choose a reason</option>' in html  # none preselected
    status, html, _ = page(aws, "POST", links["Disqualify"], {"reason": "bored"})
    assert status == 400 and "Pick one of the listed reasons" in html
    assert aws.get_lead(lead_id)["dispositions"] == []
    status, _, _ = page(aws, "POST", links["Disqualify"], {"reason": "not_icp"})
    assert status == 200
    assert aws.get_lead(lead_id)["status"] == "closed"


def test_tampered_expired_and_wrong_rep_links_change_nothing(aws: Aws, hot_lead: dict[str, Any]) -> None:
    lead_id, links = notified(aws, hot_lead)
    token = links["Connected"]
    tampered = token[:-3] + ("AAA" if not token.endswith("AAA") else "BBB")
    key = SECRETS["HANDOFF_LINK_KEY"]
    expired = make_token(
        key,
        lead_id=lead_id,
        rep_id="r1",
        outcome="connected",
        now=utcnow() - timedelta(days=8),
        ttl=timedelta(days=7),
    )
    wrong_rep = make_token(
        key, lead_id=lead_id, rep_id="r2", outcome="connected", now=utcnow(), ttl=timedelta(days=7)
    )
    unknown_lead = make_token(
        key, lead_id="ld_nope", rep_id="r1", outcome="connected", now=utcnow(), ttl=timedelta(days=7)
    )
    cases = [
        (tampered, 403, "altered"),
        (expired, 410, "expired"),
        (wrong_rep, 410, "moved to another rep"),
        (unknown_lead, 410, "no longer exists"),
        ("not-a-token", 410, "incomplete or damaged"),
    ]
    for bad, status, words in cases:
        for method in ("GET", "POST"):
            got_status, html, _ = page(aws, method, bad, {"reason": "x"})
            assert (got_status, words in html) == (status, True), (bad[:20], method)
            assert "<script" not in html
    assert aws.get_lead(lead_id)["dispositions"] == []
    assert container.ports().reps.get("r1").open_count == 1  # type: ignore[union-attr]


def test_wrong_owner_from_the_link_page_names_the_right_rep_or_asks_again(
    aws: Aws, hot_lead: dict[str, Any]
) -> None:
    lead_id, links = notified(aws, hot_lead)
    aws.put_reps(rep("r3"))
    status, html, _ = page(aws, "GET", links["Recycle"])
    assert status == 200 and 'name="owner"' in html
    # A name nobody has: the form again, saying why, and the link still unused.
    status, html, _ = page(
        aws, "POST", links["Recycle"], {"reason": "wrong_owner", "owner": "zed@example.com"}
    )
    assert status == 400 and "is not a rep in Handoff" in html
    status, html, _ = page(
        aws, "POST", links["Recycle"], {"reason": "wrong_owner", "owner": "r3@example.com"}
    )
    assert status == 200 and "moving the lead to r3" in html, html
    lead = aws.wait_for_event_after(lead_id, "reassigned", "waiting")
    assert (lead["assignment"]["rep_id"], lead["assignment"]["because"]) == ("r3", "wrong_owner")
    assert lead["status"] == "notified"  # not recycled
