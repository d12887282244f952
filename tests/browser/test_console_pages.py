"""The console's pages and actions in a real browser against the local stack."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

from tests.browser.conftest import Console
from tests.conftest import sample

OTHER_MANAGER = "vp.sales@example.com"  # manages rep-maria only; maria.chen@ manages the rest


def _lead(console: Console, name: str) -> dict[str, Any]:
    """A hot lead routed, briefed and waiting for its owner's first touch."""
    body = {**sample("01"), "event_id": f"browser-{name}"}
    answer = console.client.post_generic(json.dumps(body).encode())
    assert answer.status == 202, answer.body
    return console.client.wait_for(str(answer.body["lead_id"]), {"notified"})


def _csrf(page: Any) -> str:
    value: str = page.locator("form[action$='/console/logout'] input[name=csrf]").input_value()
    return value


def test_the_now_queue_shows_a_lead_and_its_page_the_reasons(
    console: Console, signed_in: Callable[..., Any]
) -> None:
    lead = _lead(console, "queue")
    page = signed_in("revops")
    page.goto("/console")
    row = page.get_by_role("row").filter(has=page.locator(f"a[href$='/console/leads/{lead['lead_id']}']"))
    assert re.search(r"breach", row.inner_text())
    row.get_by_role("link").first.click()
    page.wait_for_url(re.compile(f"/console/leads/{lead['lead_id']}$"))
    reasons = page.locator("#reasons").inner_text()
    assert all(reason["text"] in reasons for reason in lead["qualification"]["reasons"])
    assert lead["assignment"]["rep_id"] in page.locator("section[aria-labelledby=routing]").inner_text()
    assert page.locator("#considered").count() == 1


def test_a_reassignment_from_the_page_moves_the_lead(console: Console, signed_in: Callable[..., Any]) -> None:
    lead = _lead(console, "reassign")
    owner = lead["assignment"]["rep_id"]
    page = signed_in("manager", "maria.chen@example.com")
    page.goto(f"/console/leads/{lead['lead_id']}")
    target = next(
        value
        for value in page.locator("#to_rep_id option").evaluate_all("os => os.map(o => o.value)")
        if value and value != owner
    )
    page.get_by_label("Move to").select_option(target)
    page.get_by_label("Reason for the move").fill("knows the account")
    page.get_by_role("button", name="Reassign").click()
    page.wait_for_url(re.compile(r"\?done=reassigned$"))
    assert "Reassignment requested" in page.get_by_role("status").inner_text()
    deadline = 30
    for _ in range(deadline * 5):
        moved = console.client.get_lead(lead["lead_id"]).body
        if moved["assignment"]["rep_id"] == target:
            break
        page.wait_for_timeout(200)
    assert moved["assignment"]["rep_id"] == target
    page.reload()
    assert "manual by maria.chen@example.com" in page.locator("#timeline-table").inner_text()


def test_a_manager_is_refused_another_teams_rep(signed_in: Callable[..., Any]) -> None:
    page = signed_in("manager", OTHER_MANAGER)
    page.goto("/console/reps")
    assert "rep-maria" in page.content() and "rep-ana" not in page.content()
    refused = page.request.post("/console/reps/rep-ana", form={"csrf": _csrf(page), "capacity": "3"})
    assert refused.status == 403
    assert "not on your team" in refused.text()
