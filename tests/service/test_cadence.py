"""The "attempted" outcome and the follow-up cadence on in-memory ports, on a clock the test sets.

A rep who tried and did not reach the lead records attempted (the brief's "No answer", or a call
the CRM logs as no answer): that is the first touch, and the cadence follows it up with a reminder
per further attempt, in the rep's working time, until a final outcome or the no_response recycle.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from handoff.domain.link_tokens import read_token
from handoff.domain.record import CadenceState, LeadRecord, LeadStatus, SlaState
from handoff.errors import ConfigError
from handoff.service import cadence, crm_inbound, intake, links, notify, routing, touch
from tests.conftest import sample
from tests.fakes import FakePorts
from tests.service.test_provenance import OUTBOUND, SAM, TOKEN, WORKFLOW, hubspot_activity, task_message

# A Monday, minutes after the sample's demo request. The shipped config: 4 attempts over 6 business
# days of the default working hours (09:00-17:30, the reps have none of their own), so a step is
# 6 x 8.5 h / 4 = 12 h 45 min of working time.
NOW = datetime(2026, 11, 2, 15, 5, tzinfo=UTC)
STEP_1 = datetime(2026, 11, 4, 10, 50, tzinfo=UTC)  # Mon 2 h 25 + Tue 8 h 30 + Wed 1 h 50
STEP_2 = datetime(2026, 11, 5, 15, 5, tzinfo=UTC)
END = datetime(2026, 11, 10, 15, 5, tzinfo=UTC)  # six business days: Tue 10 Nov, same time
NO_ANSWER = "73a0d17f-1163-4015-bdd5-ec830791da20"  # HubSpot's default "No answer" GUID
CONNECTED = "f240bbac-87c9-4f6e-bf70-924b57d47db7"


@pytest.fixture
def ports(crm_ports: FakePorts) -> FakePorts:
    fake = crm_ports
    # The sample's generic source may name its HubSpot record, so outcomes are written back.
    fake.edit_config(**{"write_back_sources = []": 'write_back_sources = ["website"]'})
    return fake


def briefed(ports: FakePorts, lead_id: str | None = None) -> str:
    if lead_id is None:
        answer = intake.accept(ports, crm_inbound.parse_lead(sample("01"), ports.config), NOW)
        lead_id = str(answer.body["lead_id"])
    routing.route(ports, lead_id, NOW)
    notify.send_brief(ports, lead_id, NOW)
    touch.await_touch(ports, lead_id, ports.workflow.park(f"token-{lead_id}"), NOW)
    return lead_id


def dispose(ports: FakePorts, lead_id: str, outcome: str, at: datetime, **kw: Any) -> dict[str, str]:
    kw.setdefault("reason", None)
    return touch.record_disposition(ports, lead_id, outcome=outcome, note=None, by="api", now=at, **kw)


def lead(ports: FakePorts, lead_id: str) -> LeadRecord:
    found = ports.leads.get(lead_id)
    assert found is not None
    return found


def follow_ups(ports: FakePorts) -> list[str]:
    """The cadence's reminders to the rep, by subject."""
    return [email.subject for email, envelope in ports.mailer.sent if envelope.to == "r1@example.com"][1:]


def actions(ports: FakePorts) -> list[str]:
    assert ports.write_back is not None
    return [json.loads(m)["action"] for m in ports.write_back.messages]


# --- attempted: a first touch that starts the cadence ---------------------------------------------


def test_attempted_ends_the_sla_wait_without_claiming_a_conversation(ports: FakePorts) -> None:
    lead_id = briefed(ports)
    answer = dispose(ports, lead_id, "attempted", NOW + timedelta(minutes=2))
    record = lead(ports, lead_id)
    assert (answer["status"], record.status, record.sla and record.sla.state) == (
        "working",
        LeadStatus.WORKING,
        SlaState.MET,
    )
    assert [how for _, how, _ in ports.workflow.ended] == ["succeed"]
    assert ports.reps.get("r1").open_count == 1  # type: ignore[union-attr]  # not final: the rep keeps it
    assert actions(ports)[-1] == "attempted"  # ATTEMPTED_TO_CONTACT in HubSpot
    assert record.cadence is not None and record.cadence.state == CadenceState.RUNNING


def test_the_cadence_spreads_its_attempts_over_business_days_of_working_time(ports: FakePorts) -> None:
    lead_id = briefed(ports)
    dispose(ports, lead_id, "attempted", NOW)
    assert list(ports.leads.cadence_due(STEP_1 - timedelta(seconds=1))) == []
    assert list(ports.leads.cadence_due(STEP_1)) == [lead_id]
    assert cadence.sweep(ports, STEP_1 - timedelta(seconds=1)) == {"reminded": 0, "recycled": 0, "waiting": 0}
    assert follow_ups(ports) == []

    assert cadence.sweep(ports, STEP_1)["reminded"] == 1
    [email] = [e for e in ports.mailer.to("r1@example.com") if "attempt 2 of 4" in e.subject]
    assert "Try again" in email.subject and "by Tue 15:05 UTC" in email.text  # when it is recycled
    # The outcome buttons, signed for this rep and this lead, "No answer" first.
    labels = [line.split(":")[0] for line in email.text.splitlines() if "https://handoff.test/d/" in line]
    assert labels == ["No answer", "Connected", "Sales accepted", "Meeting set", "Recycle", "Disqualify"]
    url = next(line.split(": ", 1)[1] for line in email.text.splitlines() if line.startswith("No answer:"))
    claims = read_token(ports.secret("link-key"), url.rsplit("/", 1)[1], STEP_1)
    assert (claims.lead_id, claims.rep_id, claims.outcome) == (lead_id, "r1", "attempted")
    record = lead(ports, lead_id)
    assert record.cadence is not None and (record.cadence.reminded, record.cadence.next_at) == (1, STEP_2)
    assert next(e.detail for e in record.timeline if e.event == "follow_up").startswith("attempt 2 of 4")

    assert cadence.sweep(ports, STEP_1 + timedelta(minutes=5))["reminded"] == 0  # each step once
    assert len(follow_ups(ports)) == 1


def test_no_step_goes_out_while_the_rep_is_off(ports: FakePorts) -> None:
    lead_id = briefed(ports)
    dispose(ports, lead_id, "attempted", NOW)
    cadence.sweep(ports, STEP_1)
    evening = datetime(2026, 11, 5, 18, 0, tzinfo=UTC)  # step 2 came due at 15:05; the rep left at 17:30
    assert cadence.sweep(ports, evening) == {"reminded": 0, "recycled": 0, "waiting": 1}
    assert len(follow_ups(ports)) == 1
    morning = datetime(2026, 11, 6, 9, 0, tzinfo=UTC)
    assert list(ports.leads.cadence_due(morning - timedelta(seconds=1))) == []
    assert cadence.sweep(ports, morning)["reminded"] == 1
    assert "attempt 3 of 4" in follow_ups(ports)[-1]


def test_on_the_wall_clock_a_business_day_is_24_hours(ports: FakePorts) -> None:
    ports.edit_config(**{"sla_in_working_hours = true": "sla_in_working_hours = false"})
    lead_id = briefed(ports)
    dispose(ports, lead_id, "attempted", NOW)
    record = lead(ports, lead_id)
    assert record.cadence is not None and record.cadence.working_time is None
    assert record.cadence.next_at == NOW + timedelta(hours=36)  # 6 days / 4 attempts
    saturday = datetime(2026, 11, 7, 3, 5, tzinfo=UTC)  # step 3, at any hour
    cadence.sweep(ports, saturday)
    assert len(follow_ups(ports)) == 1 and follow_ups(ports)[0].startswith("Last try")  # the latest step only


def test_the_last_try_asks_for_a_final_outcome_and_a_cadence_that_runs_out_recycles_the_lead(
    ports: FakePorts,
) -> None:
    lead_id = briefed(ports)
    dispose(ports, lead_id, "attempted", NOW)
    for day in (4, 5, 9):  # a late sweep takes the latest due step once, never a backlog
        cadence.sweep(ports, datetime(2026, 11, day, 16, 0, tzinfo=UTC))
    assert len(follow_ups(ports)) == 3 and follow_ups(ports)[-1].startswith("Last try")
    assert cadence.sweep(ports, END - timedelta(seconds=1))["recycled"] == 0

    assert cadence.sweep(ports, END)["recycled"] == 1
    record = lead(ports, lead_id)
    last = record.dispositions[-1]
    assert (last.outcome, last.reason, last.by) == ("recycle", "no_response", "cadence")
    assert record.status == LeadStatus.CLOSED and record.cadence is not None
    assert record.cadence.state == CadenceState.RAN_OUT
    assert ports.reps.get("r1").open_count == 0  # type: ignore[union-attr]
    assert actions(ports)[-1] == "recycle"
    assert ports.dispositions.items[-1]["reason"] == "no_response"
    assert list(ports.leads.cadence_due(END + timedelta(days=30))) == []


def test_another_outcome_stops_the_cadence(ports: FakePorts) -> None:
    lead_id = briefed(ports)
    dispose(ports, lead_id, "attempted", NOW)
    cadence.sweep(ports, STEP_1)
    dispose(ports, lead_id, "connected", STEP_1 + timedelta(hours=1))
    record = lead(ports, lead_id)
    assert record.cadence is not None and record.cadence.state == CadenceState.STOPPED
    assert cadence.sweep(ports, END + timedelta(days=1)) == {"reminded": 0, "recycled": 0, "waiting": 0}
    assert lead(ports, lead_id).status == LeadStatus.WORKING


def test_an_attempt_after_a_reminder_is_a_new_try_and_keeps_the_schedule(ports: FakePorts) -> None:
    lead_id = briefed(ports)
    dispose(ports, lead_id, "attempted", NOW)
    again = dispose(ports, lead_id, "attempted", NOW + timedelta(minutes=1))
    assert again.get("duplicate") == "true"  # a second click before any reminder
    cadence.sweep(ports, STEP_1)
    assert "duplicate" not in dispose(ports, lead_id, "attempted", STEP_1 + timedelta(minutes=30))
    record = lead(ports, lead_id)
    assert [d.outcome for d in record.dispositions] == ["attempted", "attempted"]
    assert record.cadence is not None and record.cadence.started_at == NOW


def test_a_zero_attempt_cadence_is_off(ports: FakePorts) -> None:
    ports.edit_config(**{"attempts = 4": "attempts = 0"})
    lead_id = briefed(ports)
    dispose(ports, lead_id, "attempted", NOW)
    assert lead(ports, lead_id).cadence is None and list(ports.leads.cadence_due(END)) == []


# --- sales accepted -------------------------------------------------------------------------------


def test_sales_accepted_is_recorded_but_does_not_end_the_follow_up(ports: FakePorts) -> None:
    lead_id = briefed(ports)
    dispose(ports, lead_id, "attempted", NOW)
    answer = dispose(ports, lead_id, "sales_accepted", NOW + timedelta(hours=1))
    record = lead(ports, lead_id)
    assert answer["status"] == "working" and record.status == LeadStatus.WORKING
    assert ports.reps.get("r1").open_count == 1  # type: ignore[union-attr]  # still the rep's lead
    assert record.cadence is not None and record.cadence.state == CadenceState.STOPPED  # reached them
    assert actions(ports)[-1] == "sales_accepted"
    assert dispose(ports, lead_id, "meeting_set", NOW + timedelta(days=1))["status"] == "closed"
    assert [d["outcome"] for d in ports.dispositions.items] == ["attempted", "sales_accepted", "meeting_set"]


def test_the_crm_saying_sales_accepted_records_it_on_the_open_handoff(ports: FakePorts) -> None:
    answer = crm_inbound.accept_hubspot(ports, json.dumps(WORKFLOW).encode(), NOW)
    lead_id = briefed(ports, str(answer.body["lead_id"]))
    event = {
        "eventId": 5101, "portalId": 62515, "occurredAt": int((NOW + timedelta(hours=1)).timestamp() * 1000),
        "subscriptionType": "contact.propertyChange", "objectId": 3201,
        "propertyName": "lifecyclestage", "propertyValue": "salesqualifiedlead",
    }  # fmt: skip
    for _ in range(2):  # HubSpot redelivers: recorded once
        result = crm_inbound.accept_hubspot(ports, json.dumps([event]).encode(), NOW + timedelta(hours=1))
    assert result.body["events"][0]["status"] == "ignored"
    record = lead(ports, lead_id)
    assert [(d.outcome, d.by) for d in record.dispositions] == [("sales_accepted", "crm:hubspot")]
    assert list(ports.leads.items) == [lead_id]  # no second handoff for the contact
    # The same contact sent to the lead webhook at SQL, for a handoff already accepted: nothing new.
    sql = json.loads(json.dumps(WORKFLOW))
    sql["properties"]["lifecyclestage"] = {"value": "salesqualifiedlead"}
    crm_inbound.accept_hubspot(ports, json.dumps(sql).encode(), NOW + timedelta(hours=2))
    assert len(lead(ports, lead_id).dispositions) == 1


def test_a_salesforce_lead_status_mapped_to_sales_accepted_records_it(ports: FakePorts) -> None:
    ports.edit_config(**{"sales_accepted_statuses = []": 'sales_accepted_statuses = ["Working - Qualified"]'})
    assert crm_inbound.accept_salesforce(ports, OUTBOUND.encode(), TOKEN, NOW).startswith("<")
    [lead_id] = [i["lead_id"] for i in ports.leads.items.values() if i["crm"].get("record_id") == SAM]
    briefed(ports, lead_id)
    # Sent as Salesforce sends a Lead edit: created weeks ago, edited now.
    qualified = OUTBOUND.replace(
        "<sf:Status>MQL</sf:Status>",
        "<sf:Status>Working - Qualified</sf:Status><sf:CreatedDate>2026-10-01T09:00:00.000Z</sf:CreatedDate>"
        "<sf:LastModifiedDate>2026-11-02T16:05:00.000Z</sf:LastModifiedDate>",
    )
    crm_inbound.accept_salesforce(ports, qualified.encode(), TOKEN, NOW + timedelta(hours=1))
    record = lead(ports, lead_id)
    assert [(d.outcome, d.by) for d in record.dispositions] == [("sales_accepted", "crm:salesforce")]


# --- call outcomes from the CRM -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("disposition", "outcome"),
    [(NO_ANSWER, "attempted"), ("Left voicemail", "attempted"), (CONNECTED, "connected")],
)
def test_a_hubspot_call_records_what_its_outcome_says(
    ports: FakePorts, disposition: str, outcome: str
) -> None:
    answer = crm_inbound.accept_hubspot(ports, json.dumps(WORKFLOW).encode(), NOW)
    lead_id = briefed(ports, str(answer.body["lead_id"]))
    call = hubspot_activity(hs_call_disposition=disposition)
    touched = crm_inbound.accept_hubspot_activity(ports, call, NOW + timedelta(minutes=1))
    assert touched.body["outcome"] == outcome
    record = lead(ports, lead_id)
    assert (
        record.dispositions[0].note is not None and "call logged in hubspot: " in record.dispositions[0].note
    )
    assert (record.cadence is not None) == (outcome == "attempted")


def test_a_custom_hubspot_call_outcome_is_mapped_by_its_guid_and_an_unlisted_one_by_the_type(
    ports: FakePorts,
) -> None:
    ports.edit_config(
        **{'"Wrong number" = "attempted"\n': '"Wrong number" = "attempted"\n"ABC-123" = "attempted"\n'}
    )
    answer = crm_inbound.accept_hubspot(ports, json.dumps(WORKFLOW).encode(), NOW)
    lead_id = briefed(ports, str(answer.body["lead_id"]))
    custom = hubspot_activity(hs_call_disposition="abc-123")
    assert crm_inbound.accept_hubspot_activity(ports, custom, NOW).body["outcome"] == "attempted"
    dispose(ports, lead_id, "recycle", NOW + timedelta(minutes=1), reason="timing")
    other = briefed(ports, intake_again(ports))
    later = str(int((NOW + timedelta(minutes=2)).timestamp() * 1000))
    unlisted = hubspot_activity(hs_call_disposition="Gatekeeper", notes_last_updated=later)
    assert crm_inbound.accept_hubspot_activity(ports, unlisted, NOW + timedelta(minutes=2)).body == {
        "lead_id": other, "status": "working", "outcome": "connected"
    }  # fmt: skip


def intake_again(ports: FakePorts) -> str:
    """A newer conversion of the sample contact: a second handoff, once the first is closed."""
    newer = json.loads(json.dumps(WORKFLOW))
    newer["properties"]["recent_conversion_date"] = {"value": str(int(NOW.timestamp() * 1000))}
    return str(crm_inbound.accept_hubspot(ports, json.dumps(newer).encode(), NOW).body["lead_id"])


@pytest.mark.parametrize(("said", "outcome"), [("Left Voicemail", "attempted"), ("connected", "connected")])
def test_a_salesforce_call_task_records_what_its_call_disposition_says(
    ports: FakePorts, said: str, outcome: str
) -> None:
    assert crm_inbound.accept_salesforce(ports, OUTBOUND.encode(), TOKEN, NOW).startswith("<")
    [lead_id] = [i["lead_id"] for i in ports.leads.items.values() if i["crm"].get("record_id") == SAM]
    briefed(ports, lead_id)
    call = task_message("00T5g0000TASK009AAA", CallDisposition=said)
    crm_inbound.accept_salesforce(ports, call, TOKEN, NOW + timedelta(minutes=1))
    [disposition] = lead(ports, lead_id).dispositions
    assert (disposition.outcome, disposition.note) == (outcome, f"call logged in salesforce: {said}")


# --- the one-click link, and the config -----------------------------------------------------------


def test_the_no_answer_link_records_attempted(ports: FakePorts) -> None:
    lead_id = briefed(ports)
    [brief] = ports.mailer.to("r1@example.com")
    url = next(line.split(": ", 1)[1] for line in brief.text.splitlines() if line.startswith("No answer:"))
    token = url.rsplit("/", 1)[1]
    page = links.confirm(ports, token, NOW)
    assert page.status == 200 and page.title.startswith("No answer:")
    done = links.record(ports, token, None, None, NOW)
    assert done.status == 200 and "remind you to try again" in done.message
    assert [d.outcome for d in lead(ports, lead_id).dispositions] == ["attempted"]


@pytest.mark.parametrize(
    ("old", "new", "says"),
    [
        (
            'recycle = ["timing", "no_response", "not_decision_maker", "wrong_owner"]',
            'recycle = ["timing"]',
            "no_response",
        ),
        ('EMAIL = "attempted"', 'EMAIL = "emailed"', "'emailed' is not an outcome"),
        ('"Busy" = "attempted"', '"Busy" = "recycle"', "'recycle' needs a reason"),
        ("sales_accepted = []   # sales accepts the lead (SQL)\n", "", "sales_accepted_stages"),
    ],
)
def test_config_refuses_outcomes_nothing_could_record(
    ports: FakePorts, old: str, new: str, says: str
) -> None:
    ports.edit_config(**{old: new})
    with pytest.raises(ConfigError, match=says):
        _ = ports.config
