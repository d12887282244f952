"""The examples' samples, dated as if just sent where they need it: the demo and the real-clock
test tiers get the same leads whatever the date (handoff.local.samples)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from handoff.config import load_config
from handoff.domain.lead import Lead
from handoff.domain.qualify import qualify
from handoff.local.fake_hubspot import FakeHubSpot
from handoff.local.samples import as_if_sent, converted_minutes_ago, latest_moment
from tests.conftest import EXAMPLES, ROOT, SAMPLE_WEBHOOKS

LATER = datetime(2031, 3, 9, 10, 30, tzinfo=UTC)  # years past every sample's own dates
CONFIG = load_config(ROOT / "config" / "handoff.toml").qualify


def test_every_moment_moves_by_one_amount_in_its_own_layout() -> None:
    data = {
        "occurred_at": "2026-11-02T15:04:05Z",
        "trigger": {"at": "2026-11-02T15:03:40Z"},
        "activities": [{"at": "2026-10-18T09:30:00Z"}, {"at": "2026-11-02 14:58:00"}],
        "crm": {"CreatedDate": "2026-03-02T10:00:00.000+0000", "updated": "2026-11-02T10:04:05-05:00"},
        "event_id": "marketo-88213-2026-11-02 16:05:00",  # an id holding a date is not a moment
        "day": "2026-11-02",
        "score": 58,
    }
    moved = as_if_sent(data, LATER)
    # The latest moments (10:04:05 at -05:00 is 15:04:05 UTC) end 5 minutes before now.
    assert moved["crm"]["updated"] == "2031-03-09T05:25:00-05:00"
    by = datetime(2031, 3, 9, 10, 25, tzinfo=UTC) - datetime(2026, 11, 2, 15, 4, 5, tzinfo=UTC)
    assert moved["occurred_at"] == "2031-03-09T10:25:00Z"
    assert moved["trigger"]["at"] == (datetime(2026, 11, 2, 15, 3, 40) + by).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert moved["activities"][0]["at"] == (datetime(2026, 10, 18, 9, 30) + by).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert moved["activities"][1]["at"] == (datetime(2026, 11, 2, 14, 58) + by).strftime("%Y-%m-%d %H:%M:%S")
    assert moved["crm"]["CreatedDate"] == (datetime(2026, 3, 2, 10) + by).strftime(
        "%Y-%m-%dT%H:%M:%S.000+0000"
    )
    assert (moved["event_id"], moved["day"], moved["score"]) == (data["event_id"], "2026-11-02", 58)
    assert data["occurred_at"] == "2026-11-02T15:04:05Z"  # the sample itself is not changed
    assert as_if_sent({"score": 1, "tags": ["a"]}, LATER) == {"score": 1, "tags": ["a"]}


@pytest.mark.parametrize("path", SAMPLE_WEBHOOKS, ids=lambda p: p.name)
def test_a_generic_sample_is_the_same_lead_whenever_it_is_sent(path: Path) -> None:
    """The demo and the tests post the generic samples as written. One with an occurred_at is
    scored as of it, so it is the same lead on any date; one without (a nurture download, a poor
    fit) ages, but its verdict stays what the demo shows."""
    raw = json.loads(path.read_text())
    lead = Lead.model_validate(raw)
    written = (latest_moment(raw) or LATER) + timedelta(minutes=5)
    then, years_later = qualify(lead, CONFIG, written), qualify(lead, CONFIG, LATER)
    if "occurred_at" in raw:
        assert years_later == then
    else:
        assert not then.ready and (years_later.ready, years_later.tier) == (then.ready, then.tier)


def test_the_fake_hubspot_serves_its_records_as_if_just_converted() -> None:
    """HubSpot's records are scored at delivery against their latest conversion: served as
    written, the sample contact's form would be years old by LATER, and no clear next step."""
    data = EXAMPLES / "hubspot" / "crm-objects.json"
    fake = FakeHubSpot(data, token="pat-1", dated_as_of=LATER)
    as_written = FakeHubSpot(data, token="pat-1")
    moments = [
        datetime.fromisoformat(c["properties"]["recent_conversion_date"])
        for c in fake.data["contacts"].values()
        if "recent_conversion_date" in c["properties"]
    ]
    # The records' latest moment (a company's update at 16:00) ends 5 minutes before LATER.
    assert max(moments) == LATER - timedelta(minutes=5 + 18)
    assert (
        as_written.data["contacts"]["3301"]["properties"]["recent_conversion_date"] == "2026-11-02T15:40:00Z"
    )


def test_hubspot_s_workflow_contact_is_converted_minutes_ago() -> None:
    sample = (EXAMPLES / "webhooks/hubspot/workflow-contact-demo-request.json").read_bytes()
    props = json.loads(converted_minutes_ago(sample, LATER))["properties"]
    assert int(props["recent_conversion_date"]["value"]) == int(
        (LATER - timedelta(minutes=5)).timestamp() * 1000
    )
    # The spacing kept: the first conversion came 19 days before the latest, the visit 5 minutes.
    latest = int(props["recent_conversion_date"]["value"])
    assert latest - int(props["first_conversion_date"]["value"]) == 19 * 86_400_000
    assert latest - int(props["hs_analytics_last_visit_timestamp"]["value"]) == 300_000
