"""200 deliveries, 30% of them duplicates, in shuffled order: HubSpot retries of the same
body, Salesforce redelivering whole messages and re-batching notifications, generic senders
repeating themselves. Exactly one lead and at most one handoff per unique event.

B5 in `make bench` sends 1,000 deliveries from concurrent senders; this is the same mix,
sequential and smaller, so it stays in the suite."""

from __future__ import annotations

import json
import random
import re
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from handoff.domain.lead import lead_id_for
from tests.conftest import EXAMPLES, sample
from tests.integration.conftest import Aws, rep, use_config
from tests.integration.test_crm_webhooks import WORKFLOW as WORKFLOW_BODY

GENERIC, HUBSPOT, SALESFORCE_MESSAGES = 106, 30, 4  # each Salesforce message carries 5 notifications
REBATCHED = 2  # Salesforce messages re-batching notifications it already sent
DELIVERIES = 200
DUPLICATES = DELIVERIES - (GENERIC + HUBSPOT + SALESFORCE_MESSAGES)  # 60: 30%
OUTBOUND = (EXAMPLES / "webhooks/salesforce/outbound-message-lead-and-contact.xml").read_text()
WORKFLOW = json.loads(WORKFLOW_BODY)  # its form sent minutes ago
NOTIFICATION = re.compile(r"   <Notification>.*?</Notification>\n", re.DOTALL)


def _generic(n: int, ready: bool) -> dict[str, Any]:
    body = sample("01" if ready else "03")
    body["event_id"] = f"dup-{n}"
    body["contact"]["email"] = f"dup{n}@northwind.example"
    return body


def _hubspot(n: int, ready: bool) -> bytes:
    contact = json.loads(json.dumps(WORKFLOW))
    contact["vid"] = contact["canonical-vid"] = 90000 + n
    contact["properties"]["email"]["value"] = f"hs{n}@tallyhq.example"
    if not ready:
        contact["properties"]["jobtitle"]["value"] = "Graduate student"
    return json.dumps(contact).encode()


def _notifications(n: int) -> list[tuple[str, str]]:
    """(notification id, its XML): a sales-ready Lead, or a nurture Contact, per the samples."""
    lead, contact = NOTIFICATION.findall(OUTBOUND)
    template = lead if n % 5 == 0 else contact
    notification_id = f"04l5g0000{n:09d}"[:18]
    xml = re.sub(r"<Id>[^<]+</Id>", f"<Id>{notification_id}</Id>", template, count=1)
    xml = re.sub(r"<sf:Email>[^<]+</sf:Email>", f"<sf:Email>sf{n}@meridian.example</sf:Email>", xml)
    return [(notification_id, xml)]


def _message(notifications: list[tuple[str, str]]) -> bytes:
    head, tail = OUTBOUND.split("   <Notification>", 1)[0], OUTBOUND.rsplit("</Notification>\n", 1)[1]
    return (head + "".join(xml for _, xml in notifications) + tail).encode()


def test_one_handoff_per_unique_event_across_shuffled_duplicate_deliveries(
    aws: Aws, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    # SLAs long enough that no ladder runs: this counts handoffs, not escalations.
    use_config(monkeypatch, tmp_path / "handoff.toml", **{"hot = 2\nwarm = 30": "hot = 3600\nwarm = 3600"})
    aws.put_reps(*(rep(f"r{i}", capacity=50) for i in range(4)))
    rng = random.Random(11)
    sends: list[tuple[str, Callable[[], int]]] = []
    ready: set[str] = set()
    unique: set[str] = set()

    for n in range(GENERIC):  # generic JSON, one in nine sales-ready
        is_ready = n % 9 == 0
        lead_id = lead_id_for("website", f"dup-{n}")
        body = _generic(n, is_ready)
        sends.append((lead_id, lambda body=body: aws.post_lead(body)[0]))
        unique.add(lead_id)
        ready |= {lead_id} if is_ready else set()
    for n in range(HUBSPOT):  # HubSpot workflow webhooks
        body = _hubspot(n, ready=n % 7 == 0)
        sends.append((f"hs-{n}", lambda body=body: aws.post_hubspot(body)[0]))
    sf_ids: list[str] = []
    for m in range(SALESFORCE_MESSAGES):  # Salesforce: messages of 5 notifications
        batch = [x for n in range(m * 5, m * 5 + 5) for x in _notifications(n)]
        sf_ids += [i for i, _ in batch]
        message = _message(batch)
        sends.append((f"sf-{m}", lambda message=message: aws.post_salesforce(message)[0]))
    assert len(sends) == DELIVERIES - DUPLICATES

    # Duplicates: exact redeliveries, plus Salesforce re-batching notifications it already sent.
    repeats = [rng.choice(sends) for _ in range(DUPLICATES - REBATCHED)]
    for k in range(REBATCHED):
        rebatched = [x for n in rng.sample(range(SALESFORCE_MESSAGES * 5), 3) for x in _notifications(n)]
        message = _message(rebatched)
        repeats.append((f"sf-rebatch-{k}", lambda message=message: aws.post_salesforce(message)[0]))
    deliveries = sends + repeats
    rng.shuffle(deliveries)
    assert len(deliveries) == DELIVERIES

    statuses = Counter(send() for _, send in deliveries)
    assert set(statuses) <= {200, 202}, statuses

    sf_ready = {lead_id_for("salesforce", i) for n, i in enumerate(sf_ids) if n % 5 == 0}
    expected_leads = GENERIC + HUBSPOT + SALESFORCE_MESSAGES * 5
    assert aws.leads_count() == expected_leads
    executions = aws.executions()
    names = Counter(e["name"] for e in executions)
    assert all(count == 1 for count in names.values())
    assert not any("-r" in name for name in names)  # nothing needed recovering
    assert ready | sf_ready <= set(names)
    assert len(names) == len(ready) + len(sf_ready) + sum(1 for n in range(HUBSPOT) if n % 7 == 0)
    for name in names:
        lead = aws.wait_status(name, {"notified"}, timeout=60)
        assert [n["kind"] for n in lead["notifications"]] == ["brief"]
    briefs = [m for m in aws.sent_emails() if "[SLA missed]" not in m.raw_data]
    assert len(briefs) == len(names)
