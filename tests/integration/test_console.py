"""The console's pages and actions through functions/console/app.py on moto, as API Gateway
calls it after the session authorizer: the viewer in requestContext.authorizer."""

from __future__ import annotations

import html
import re
from typing import Any
from urllib.parse import urlencode

import pytest

from handoff.console.session import CONSOLE_HEADERS, COOKIE, csrf_token
from handoff.local import lambdas
from handoff.local.http_front import build_event, match
from tests.conftest import rep
from tests.integration.conftest import Aws

pytestmark = pytest.mark.usefixtures("patient_sla")

REVOPS = {"username": "ops", "email": "ops@example.com", "role": "revops"}
BOSS = {"username": "boss", "email": "boss@example.com", "role": "manager"}  # manages r1, r2
OTHER = {"username": "other", "email": "other@example.com", "role": "manager"}
SESSION = "session-token-for-tests"


def call(
    method: str, path: str, who: dict[str, str], form: dict[str, str] | None = None, *, csrf: bool = True
) -> tuple[int, dict[str, str], str]:
    found = match(method, path.split("?", maxsplit=1)[0])
    assert found, f"no route {method} {path}"
    route, params = found
    headers = {"Cookie": f"{COOKIE}={SESSION}", "Host": "handoff.test"}
    body = b""
    if form is not None:
        headers["Content-Type"] = "application/x-www-form-urlencoded"
        body = urlencode(form).encode()
    event: dict[str, Any] = build_event(
        route, params=params, method=method, raw_path=path, headers=headers, body=body
    )
    event["requestContext"]["authorizer"] = dict(who)
    if form is not None and csrf:
        fields = {**form, "csrf": csrf_token(event)}
        event["body"] = urlencode(fields)
    result = lambdas.invoke(route.function, event)
    response_headers = {
        **(result.get("headers") or {}),
        **{k: v[0] for k, v in (result.get("multiValueHeaders") or {}).items()},
    }
    return int(result["statusCode"]), response_headers, str(result["body"] or "")


def text(page: str) -> str:
    return html.unescape(" ".join(re.sub(r"<[^>]+>", " ", page).split()))


@pytest.fixture
def lead_id(aws: Aws, hot_lead: dict[str, Any]) -> str:
    aws.put_reps(rep("r1", capacity=3), rep("r2", capacity=3), rep("r9", manager_email="other@example.com"))
    _, body = aws.post_lead(hot_lead)
    aws.wait_for_event(body["lead_id"], "waiting")
    return str(body["lead_id"])


def test_the_now_queue_and_a_lead_page(aws: Aws, lead_id: str) -> None:
    status, headers, page = call("GET", "/console", REVOPS)
    assert status == 200, page
    assert all(headers.get(k) == v for k, v in CONSOLE_HEADERS.items())
    assert f"/console/leads/{lead_id}" in page and "breaches in" in text(page)

    status, _, page = call("GET", f"/console/leads/{lead_id}", BOSS)
    assert status == 200, page
    lead = aws.get_lead(lead_id)
    for reason in lead["qualification"]["reasons"]:
        assert reason["text"] in text(page)
    assert lead["assignment"]["reason"][:30] in text(page)
    assert 'name="csrf"' in page and "The brief" in page

    status, _, page = call("GET", f"/console/leads/{lead_id}", OTHER)
    assert status == 403 and "not owned by your team" in page


def test_a_reassignment_from_the_page_moves_the_lead_and_says_who(aws: Aws, lead_id: str) -> None:
    owner = aws.get_lead(lead_id)["assignment"]["rep_id"]
    target = "r2" if owner == "r1" else "r1"
    status, headers, _ = call(
        "POST", f"/console/leads/{lead_id}/reassign", BOSS, {"to_rep_id": target, "reason": "knows them"}
    )
    assert status == 303 and headers["Location"] == f"/console/leads/{lead_id}?done=reassigned"
    lead = aws.wait_for_event_after(lead_id, "reassigned", "waiting")
    assert lead["assignment"]["rep_id"] == target and lead["assignment"]["requested_by"] == "boss@example.com"
    status, _, page = call("GET", f"/console/leads/{lead_id}?done=reassigned", BOSS)
    assert "Reassignment requested" in page and "manual by boss@example.com" in page


def test_an_outcome_on_a_reps_behalf_names_who_recorded_it(aws: Aws, lead_id: str) -> None:
    owner = aws.get_lead(lead_id)["assignment"]["rep_id"]
    status, _, page = call(
        "POST", f"/console/leads/{lead_id}/outcome", REVOPS, {"outcome": "connected", "note": "spoke"}
    )
    assert status == 303, page
    [disposition] = aws.wait_status(lead_id, {"working"})["dispositions"]
    assert (disposition["outcome"], disposition["by"]) == ("connected", f"ops@example.com for {owner}")


def test_bad_input_is_a_clear_4xx_page(aws: Aws, lead_id: str) -> None:
    assert call("GET", "/console/leads/nope", REVOPS)[0] == 404
    status, _, page = call("POST", f"/console/leads/{lead_id}/reassign", REVOPS, {"reason": ""})
    assert status == 400 and "reason: say why" in page
    status, _, page = call("POST", f"/console/leads/{lead_id}/outcome", REVOPS, {"outcome": "bogus"})
    assert status == 400 and "outcome must be one of" in page
    status, _, page = call("POST", f"/console/leads/{lead_id}/reassign", REVOPS, {"reason": "x"}, csrf=False)
    assert status == 403 and "security token" in page
    status, _, page = call("POST", "/console/route", REVOPS, {"lead_json": "x" * 2_000_000})
    assert status == 413
    status, _, page = call("POST", "/console/route", REVOPS, {"lead_json": "{"})
    assert status == 400 and "not valid JSON" in page
    status, _, page = call("GET", "/console/results?month=soon", REVOPS)
    assert status == 400 and "month" in page


def test_reps_a_manager_may_change_only_their_own(aws: Aws, lead_id: str) -> None:
    status, _, page = call("GET", "/console/reps", BOSS)
    assert status == 200 and "r1" in page and "r9" not in page
    status, headers, _ = call(
        "POST", "/console/reps/r1", BOSS, {"status": "ooo", "until": "2099-02-01", "capacity": "7"}
    )
    assert status == 303 and headers["Location"] == "/console/reps?done=rep_saved"
    assert aws.get_reps()["r1"]["capacity"] == 7 and aws.get_reps()["r1"]["ooo_until"].startswith(
        "2099-02-01"
    )
    status, _, page = call("POST", "/console/reps/r9", BOSS, {"capacity": "1"})
    assert status == 403 and "not on your team" in page
    status, _, page = call("POST", "/console/reps/r1", BOSS, {"status": "ooo"})
    assert status == 400 and "until" in page
    assert call("POST", "/console/reps/ghost", REVOPS, {"capacity": "1"})[0] == 404


def test_route_what_if_and_results(aws: Aws, lead_id: str) -> None:
    status, _, page = call("POST", "/console/route", REVOPS, {"lead_id": lead_id})
    assert status == 200 and "nothing was claimed" in page
    status, _, page = call("GET", "/console/results?cut=rep", REVOPS)
    assert status == 200 and "Tuning proposals" in page and "By rep" in page
    status, headers, _ = call("GET", "/console/results/proposals.diff", REVOPS)
    assert status == 200 and headers["Content-Disposition"].startswith("attachment;")
    assert call("GET", "/console/results/proposals.diff", BOSS)[0] == 403
    status, _, page = call("GET", "/console/results", BOSS)
    assert status == 200 and "Tuning proposals" not in page
