"""`make demo`: replay the sample CRM webhooks through the local stack and narrate each decision."""

from __future__ import annotations

import json
import shutil
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from handoff.aws.workflow import execution_arn
from handoff.deploy.functions import REPO_ROOT
from handoff.domain.crm_write import owner_id
from handoff.domain.lead import lead_id_for
from handoff.local.client import HandoffClient
from handoff.local.console_users import sign_in_lines
from handoff.local.samples import converted_minutes_ago
from handoff.local.stack import LocalOptions, LocalStack

WEBHOOKS = REPO_ROOT / "examples" / "webhooks" / "generic"
DEMO_CONFIG = REPO_ROOT / "examples" / "demo.toml"
TOUCHED = "01"  # the rep books a meeting on this one
IGNORED = "05"  # nobody touches this one, so its SLA lapses
NOT_HERS = "02"  # its rep says it is someone else's, and names them
SAMPLE_SALESFORCE_ORG = "00D5g000004ABCDEAZ"


def _say(text: str = "") -> None:
    print(text, flush=True)


def _describe_decision(name: str, status: int, body: dict[str, Any], lead: dict[str, Any]) -> None:
    q = lead["qualification"]
    if status == 200:
        _say(f"  {name}\n    -> 200 nurture (fit {q['fit']:g}): not sales-ready, stays with marketing")
    else:
        _say(
            f"  {name}\n    -> {status} sales-ready: tier {q['tier']}, fit {q['fit']:g}, next step {q['next_step']}"
        )
    for reason in q["reasons"]:
        _say(f"       - {reason['text']}")
    assignment = lead.get("assignment")
    if assignment:
        skipped = [
            f"{c['rep_id']} ({c['skipped_because']})"
            for c in assignment["considered"]
            if c["skipped_because"]
        ]
        _say(f"    -> routed to {assignment['rep_name']} <{assignment['rep_email']}>: {assignment['reason']}")
        if skipped:
            _say(f"       skipped: {', '.join(skipped)}")
        _say(
            f"    -> brief emailed; first touch due by {lead['sla']['due_at']} ({lead['sla']['seconds']} s SLA)"
        )


def run_demo(outbox: Path) -> int:
    shutil.rmtree(outbox, ignore_errors=True)
    stack = LocalStack(
        LocalOptions.on_free_ports(
            config_path=DEMO_CONFIG,
            outbox=outbox,
            sla_check_every=2.0,
            # The org the sample Outbound Message comes from; other secrets are random.
            secret_values={"HANDOFF_SALESFORCE_ORG_IDS": SAMPLE_SALESFORCE_ORG},
        )
    )
    started = time.monotonic()
    stack.start()
    try:
        return _narrate(stack, outbox, started)
    finally:
        stack.stop()


def _narrate(stack: LocalStack, outbox: Path, started: float) -> int:
    client = HandoffClient.for_secrets(stack.api_url, stack.secret_values)
    _say("Handoff demo: the whole handoff on the local stack (moto), no AWS account needed")
    _say(f"  API {stack.api_url}   embedded AWS {stack.aws_url}   outbox {outbox}/")
    _say(f"  config {DEMO_CONFIG.relative_to(REPO_ROOT)} (SLA in seconds), reps examples/reps.csv")
    _say("  The ops console is up while the demo runs (`make serve` keeps one up):")
    for line in sign_in_lines(stack.api_url, stack.console_users):
        _say(f"  {line}")
    _say()
    _say("1. CRM webhooks arrive, signed with X-Handoff-Signature")
    lead_ids: dict[str, str] = {}
    for path in sorted(WEBHOOKS.glob("*.json")):
        response = client.post_generic(json.loads(path.read_text()))
        if response.status not in (200, 202):
            _say(f"  {path.name}: unexpected {response.status} {response.body}")
            return 1
        lead_id = response.body["lead_id"]
        lead_ids[path.name[:2]] = lead_id
        lead = client.wait_for(lead_id, {"notified", "nurture", "failed"})
        _describe_decision(path.name, response.status, response.body, lead)

    _say()
    touched = lead_ids[TOUCHED]
    _say(f"2. The rep books a meeting on lead {touched}, inside its SLA")
    _wait_for_timeline(client, touched, "waiting")
    answer = client.dispose(touched, "meeting_set", note="Intro call booked for Tuesday")
    lead = client.get_lead(touched).body
    _say(
        f"  POST /leads/{touched}/disposition meeting_set -> {answer.status}, status {lead['status']}, "
        f"SLA {lead['sla']['state']} (first touch after {lead.get('first_touch_seconds', 0):.1f} s)"
    )
    _say(f"  workflow: {_execution_status(stack, touched)}")

    _say()
    _say("3. Real CRM payloads (examples/webhooks/): HubSpot, Salesforce, Marketo")
    crm_leads = _replay_crm(client)
    lead_ids.update(crm_leads)
    _deal_moves(stack, client, crm_leads)
    _wrong_owner(client, lead_ids[NOT_HERS], "ana.ortiz@example.com")
    _show_write_back(stack)

    _say()
    _bad_input(client)

    _say()
    ignored = lead_ids[IGNORED]
    _say(
        f"5. Nobody touches lead {ignored}: the SLA ladder "
        f"({client.get_lead(ignored).body['sla']['seconds']} s SLA, in seconds for the demo)"
    )
    lead = client.wait_for(ignored, {"renurtured"}, timeout=90)
    ladder = {"assigned", "notified", "reminded", "escalated", "reassigned", "renurtured"}
    for entry in lead["timeline"]:
        if entry["event"] in ladder:
            _say(f"  {entry['at'][11:19]}  {entry['event']:<11} {entry['detail']}")
    sent = ", ".join(f"{n['kind']} -> {n['to']}" for n in lead["notifications"])
    _say(f"  emails: {sent}")
    _say(f"  status {lead['status']}; workflow: {_execution_status(stack, ignored)}")
    _show_cadence(client, list(crm_leads.values()))

    _say()
    _summarise(client, list(lead_ids.values()), outbox)
    _say()
    _close_the_loop(outbox)
    _say(
        f"\nDone in {time.monotonic() - started:.0f} s. Open {outbox}/*.html to read the briefs and the report."
    )
    return 0


def _close_the_loop(outbox: Path) -> None:
    """The monthly tuning job on this demo's leads, then on a synthetic quarter with a known truth."""
    from handoff.config import load_config
    from handoff.deploy.functions import TUNING
    from handoff.email.render import render_report
    from handoff.insights.charts import all_charts, data_uris
    from handoff.insights.synthetic import PIPELINE_PLANTED, PLANTED, generate
    from handoff.local import lambdas
    from handoff.service.tuning import build

    _say("7. Close the loop: KPIs and tuning proposals")
    result = lambdas.invoke(TUNING, {})
    _say(
        f"  the monthly tuning job (the Lambda) on this demo's {result['leads']} leads: SLA met "
        f"{result['sla_met']}, breached {result['sla_breached']} (as in 6); {result['proposals']} "
        "proposals (too few handoffs to propose anything); report emailed to marketing ops (outbox)"
    )
    config_text = DEMO_CONFIG.read_text()
    config = load_config(DEMO_CONFIG)
    history = generate(config, leads=4000, seed=7)
    period = (history[0].received_at, history[-1].received_at)
    output = build(
        history, config_text, datetime.now(history[0].received_at.tzinfo), period, "examples/demo.toml"
    )
    _say(
        f"  a synthetic quarter ({len(history)} leads, seeded; planted: {', '.join(PLANTED)} lift meetings, "
        f"fit below 60 rarely meets, rep-dan is slow; {PIPELINE_PLANTED} lifts stage 2 and deal size, "
        "which tuning on meetings rightly does not credit: set [tuning] outcome to tune on pipeline):"
    )
    _say()
    for line in output.email.text.splitlines():
        _say(f"    {line}")
    from handoff.insights.analysis import analyse

    charts = data_uris(all_charts(analyse(history, config, features=False), output.report.kpis, config))
    (outbox / "report.html").write_text(
        render_report(output.report, diff=output.config_diff, charts=charts).html
    )
    (outbox / "handoff.proposed.toml").write_text(output.proposed_config)
    _say(f"  wrote {outbox}/report.html (with charts) and {outbox}/handoff.proposed.toml")


# The local queue poller drains four times a second, and a failed write is retried after a back-off:
# two quiet seconds mean every queued write has landed.
WRITE_BACK_SETTLED_SECONDS = 2.0


def _show_write_back(stack: LocalStack, timeout: float = 15) -> None:
    """What the CRM write-back step wrote into the local fakes of HubSpot and Salesforce."""
    fakes = [fake for fake in (stack.fake_hubspot, stack.fake_salesforce) if fake is not None]
    # Every step queues its own write (owner and status after routing, then each outcome), and the
    # queue is drained on a timer: show them once no new write has landed for a while.
    deadline = time.monotonic() + timeout
    seen, quiet_since = -1, time.monotonic()
    while time.monotonic() < deadline:
        count = sum(len(f.writes) for f in fakes)
        if count != seen:
            seen, quiet_since = count, time.monotonic()
        elif count and time.monotonic() - quiet_since >= WRITE_BACK_SETTLED_SECONDS:
            break
        time.sleep(0.2)
    _say("  CRM write-back (its own retried step, off a queue with a dead-letter queue):")
    for fake in fakes:
        for path, fields in fake.writes:
            values = fields.get("properties", fields)
            if path.endswith(("/tasks", "/Task")):
                # The owner's task: who owns it, when it is due, and what it says.
                due = values.get("hs_timestamp") or values.get("ReminderDateTime")
                subject = values.get("hs_task_subject") or values.get("Subject")
                owner = values.get("hubspot_owner_id") or values.get("OwnerId")
                _say(f"    POST  {path}  task for owner {owner}, due {due}: {subject}")
                continue
            _say(f"    PATCH {path}  {', '.join(f'{k}={v}' for k, v in values.items())}")


def _bad_input(client: HandoffClient) -> None:
    _say("4. Bad input changes nothing")
    sample = json.loads(next(WEBHOOKS.glob("01-*.json")).read_text())
    wrong = client.post_generic(sample, secret="not-the-shared-secret")
    _say(f"  wrong signature -> {wrong.status} {wrong.body['message']}")
    broken = client.post_generic(b'{"event_id": "evt-9", "contact": {')
    _say(f"  truncated JSON  -> {broken.status} {broken.body['message']}")
    missing = client.post_generic({"event_id": "evt-9", "trigger": {"type": "demo_request"}})
    _say(f"  no contact      -> {missing.status} {missing.body['message']}")
    again = client.post_generic(sample)
    _say(f"  same delivery   -> {again.status} {again.body} (deduplicated, nothing happens twice)")


def _one_line(lead: dict[str, Any]) -> str:
    if "qualification" not in lead:
        return f"not recorded: {lead.get('message', lead)}"
    contact, q = lead["contact"], lead["qualification"]
    who = " ".join(filter(None, [contact.get("first_name"), contact.get("last_name")])) or "(no name)"
    company = lead["company"].get("name") or "no company"
    if lead.get("assignment"):
        assignment = lead["assignment"]
        skipped = [
            f"{c['rep_id']} {c['skipped_because']}" for c in assignment["considered"] if c["skipped_because"]
        ]
        outcome = (
            f"{q['tier']} (fit {q['fit']:g}, intent {q['intent']:g}) -> {assignment['rep_name']} by {assignment['rule']}"
            + (f"\n      skipped: {'; '.join(skipped)}" if skipped else "")
        )
    elif q.get("excluded"):
        outcome = "not routed: " + next(r["text"] for r in q["reasons"] if r["code"] == q["excluded"])
    elif q.get("missing"):
        outcome = "recorded, not routed: " + next(
            r["text"] for r in q["reasons"] if r["code"].startswith("missing.")
        )
    else:
        outcome = f"nurture (fit {q['fit']:g}, intent {q['intent']:g})"
    return f"{who}, {contact.get('title') or 'no title'} at {company}: {outcome}"


def _replay_crm(client: HandoffClient) -> dict[str, str]:
    """Each CRM's documented shape, as it would arrive; reps then log a first touch."""
    crm = REPO_ROOT / "examples" / "webhooks"
    arrived: list[tuple[str, str]] = []
    sample = (crm / "hubspot" / "workflow-contact-demo-request.json").read_bytes()
    response = client.post_hubspot(converted_minutes_ago(sample, datetime.now(UTC)))
    arrived.append(("HubSpot workflow webhook (signature v3)", response.body["lead_id"]))
    response = client.post_hubspot((crm / "hubspot" / "events-mql-and-creation.json").read_bytes())
    for event in response.body["events"]:
        if event["status"] == "ignored":
            _say(f"  HubSpot event {event['event_id']}: ignored (a change that is not a handoff)")
        else:
            arrived.append(
                (f"HubSpot event {event['event_id']}, contact read from the CRM API", event["lead_id"])
            )
    status, xml = client.post_salesforce(
        (crm / "salesforce" / "outbound-message-lead-and-contact.xml").read_bytes()
    )
    _say(
        f"  Salesforce Outbound Message (2 notifications) -> {status} {'Ack' if '<Ack>true' in xml else xml[:80]}"
    )
    for notification in ("04l5g00000AAAA1AAA", "04l5g00000AAAA2AAA"):
        arrived.append((f"Salesforce notification {notification}", lead_id_for("salesforce", notification)))
    marketo = json.loads((crm / "marketo" / "sample-delivery.json").read_text())
    arrived.append(("Marketo webhook (bearer token)", client.post_bearer(marketo).body["lead_id"]))
    handed_off = []
    for label, lead_id in arrived:
        lead = client.wait_for(lead_id, {"notified", "nurture", "failed"})
        _say(f"  {label}\n    {_one_line(lead)}")
        if lead.get("status") == "notified":
            handed_off.append(lead_id)
    # One HubSpot lead's rep marks Handoff's task done in HubSpot instead of clicking the brief.
    task_lead = next(
        (i for i in handed_off[1:] if client.get_lead(i).body["crm"].get("system") == "hubspot"), None
    )
    clicked = [i for i in handed_off[1:] if i != task_lead]
    for lead_id in clicked:
        _wait_for_timeline(client, lead_id, "waiting")
        client.dispose(lead_id, "attempted")
    _say(
        f"  reps log a first touch (attempted: the brief's No answer) on {len(clicked)} of them; "
        "each now follows the [cadence] (shown after 5)"
    )
    if task_lead:
        _complete_task_in_hubspot(client, task_lead)
    _touch_in_hubspot(client, handed_off[0])
    return dict(arrived)


def _deal_moves(stack: LocalStack, client: HandoffClient, crm_leads: dict[str, str]) -> None:
    """Lee Santos's rep opens a deal and moves it to a stage-2 stage: HubSpot sends the event,
    Handoff reads the deal and keeps it on the handoff it came from."""
    lee = next((i for label, i in crm_leads.items() if label.startswith("HubSpot event 4101")), None)
    if stack.fake_hubspot is None or lee is None:
        return
    now = datetime.now(UTC)
    stack.fake_hubspot.put_deal(
        "7703", stage="presentationscheduled", amount="36000", created=now.isoformat().replace("+00:00", "Z"),
        contacts=["3301"], companies=["9101"],
    )  # fmt: skip
    event = [{"eventId": 4201, "portalId": 62515, "subscriptionType": "deal.propertyChange", "objectId": 7703,
              "propertyName": "dealstage", "propertyValue": "presentationscheduled",
              "occurredAt": int(now.timestamp() * 1000)}]  # fmt: skip
    answer = client.post_hubspot(json.dumps(event).encode())
    deals = client.get_lead(lee).body.get("deals") or [{}]
    deal = deals[-1]
    amount = f"{deal['amount']:,.0f}" if deal.get("amount") is not None else "?"
    _say(
        f"  HubSpot deal 7703 (Lee Santos) -> presentationscheduled: {answer.status} "
        f"{answer.body['events'][0]['status']}; lead {lee} is now "
        f"{answer.body['events'][0].get('milestone', 'no').replace('_', ' ')} pipeline, {amount}"
    )


def _wrong_owner(client: HandoffClient, lead_id: str, right_owner: str) -> None:
    """The rep routing picked says the lead is not hers and names the right owner: the lead moves
    to them with a fresh brief, and the report counts it against assignment accuracy."""
    _wait_for_timeline(client, lead_id, "waiting")
    first = client.get_lead(lead_id).body["assignment"]["rep_id"]
    answer = client.dispose(lead_id, "recycle", "wrong_owner", rep_id=first, by=first, owner=right_owner)
    _wait_for_timeline(client, lead_id, "reassigned")
    assignment = client.get_lead(lead_id).body["assignment"]
    _say(
        f"  {first} flags lead {lead_id} wrong_owner, naming {right_owner} -> {answer.status}; "
        f"moved to {assignment['rep_id']} ({assignment['because']}), who gets the brief"
    )


def _touch_in_hubspot(client: HandoffClient, lead_id: str) -> None:
    """The HubSpot workflow lead's rep logs a call in HubSpot: HubSpot's activity webhook is the touch."""
    from handoff.config.roster import load_reps_csv

    _wait_for_timeline(client, lead_id, "waiting")
    lead = client.get_lead(lead_id).body
    rep = next(
        r
        for r in load_reps_csv(REPO_ROOT / "examples" / "reps.csv")
        if r.rep_id == lead["assignment"]["rep_id"]
    )
    owner = owner_id(rep, "hubspot")
    # The call's outcome decides: HubSpot's "Connected" is a conversation, "No answer" an attempt.
    activity = {"vid": int(lead["crm"]["record_id"]), "properties": {
        "hs_last_sales_activity_type": {"value": "CALL"}, "hubspot_owner_id": {"value": owner},
        "hs_call_disposition": {"value": HUBSPOT_CONNECTED}}}  # fmt: skip
    answer = client.post_hubspot(json.dumps(activity).encode(), path="/webhooks/hubspot/activity")
    _say(
        f"  {rep.name} logs a call in HubSpot, outcome Connected -> POST /webhooks/hubspot/activity {answer.status}: "
        f"{answer.body.get('outcome')} recorded, SLA {client.get_lead(lead_id).body['sla']['state']}"
    )


def _complete_task_in_hubspot(client: HandoffClient, lead_id: str) -> None:
    """The rep marks the task Handoff created with the brief done: HubSpot's activity webhook
    (type TASK, hs_task_status COMPLETED) records an attempt, never a connection."""
    _wait_for_timeline(client, lead_id, "waiting")
    _wait_for_timeline(client, lead_id, "crm_task_created")
    lead = client.get_lead(lead_id).body
    task = next(iter(lead.get("crm_tasks") or []), None)
    from handoff.config.roster import load_reps_csv

    reps = load_reps_csv(REPO_ROOT / "examples" / "reps.csv")
    owner = owner_id(next(r for r in reps if r.rep_id == lead["assignment"]["rep_id"]), "hubspot")
    activity = {"vid": int(lead["crm"]["record_id"]), "properties": {
        "hs_last_sales_activity_type": {"value": "TASK"}, "hs_task_status": {"value": "COMPLETED"},
        "hubspot_owner_id": {"value": owner},
        "hs_last_sales_activity_timestamp": {"value": datetime.now(UTC).isoformat()}}}  # fmt: skip
    answer = client.post_hubspot(json.dumps(activity).encode(), path="/webhooks/hubspot/activity")
    what = f"task {task['task_id']} (due {task['due_at']})" if task else "its task"
    _say(
        f"  Handoff put {what} on the owner's list in HubSpot; the rep marks it done -> "
        f"POST /webhooks/hubspot/activity {answer.status}: {answer.body.get('outcome')} recorded, "
        f"SLA {client.get_lead(lead_id).body['sla']['state']}"
    )


# HubSpot's default "Connected" call outcome (hs_call_disposition).
HUBSPOT_CONNECTED = "f240bbac-87c9-4f6e-bf70-924b57d47db7"


def _show_cadence(client: HandoffClient, lead_ids: list[str]) -> None:
    """One lead whose rep recorded attempted in 3: its cadence, from the reminders to the
    no_response recycle (the demo config runs it in seconds, with the sweep every 2 s)."""
    from handoff.config import load_config

    leads = [client.get_lead(lead_id).body for lead_id in lead_ids]
    tried = next((lead for lead in leads if lead.get("cadence")), None)
    if tried is None:
        return
    settings = load_config(DEMO_CONFIG).cadence
    _say(
        f"  Meanwhile lead {tried['lead_id']} (No answer in 3) followed the cadence: {settings.attempts} "
        f"attempts, {settings.step_seconds} s apart for the demo (6 business days by default)"
    )
    lead = client.wait_for(tried["lead_id"], {"closed"}, timeout=30)
    for entry in lead["timeline"]:
        if entry["event"] in {"disposition", "follow_up"}:
            _say(f"  {entry['at'][11:19]}  {entry['event']:<11} {entry['detail'].split(';')[0]}")
    reminders = [n["to"] for n in lead["notifications"] if n["kind"] == "cadence"]
    last = lead["dispositions"][-1]
    _say(
        f"  {len(reminders)} reminders with the outcome buttons to {', '.join(sorted(set(reminders)))}; "
        f"status {lead['status']} ({last['outcome']}, {last['reason']}, by {last['by']}), the rep's slot freed"
    )
    written = [
        e["detail"]
        for e in lead["timeline"]
        if e["event"] == "crm_synced" and e["detail"].startswith("recycle")
    ]
    _say(f"  CRM write-back: {written[-1]}" if written else "  CRM write-back: the recycle status is queued")


def _wait_for_timeline(client: HandoffClient, lead_id: str, event: str, timeout: float = 15) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if any(e["event"] == event for e in client.get_lead(lead_id).body["timeline"]):
            return
        time.sleep(0.1)


def _execution_status(stack: LocalStack, lead_id: str, timeout: float = 15) -> str:
    import boto3

    sfn = boto3.client("stepfunctions")
    arn = execution_arn(stack.state_machine_arn, lead_id)
    deadline = time.monotonic() + timeout
    while True:
        status = str(sfn.describe_execution(executionArn=arn)["status"])
        if status != "RUNNING" or time.monotonic() > deadline:
            return f"execution {status}"
        time.sleep(0.1)


def _summarise(client: HandoffClient, lead_ids: list[str], outbox: Path) -> None:
    """The demo's figures, counted by the same KPI engine (and the same SLA definition) as the
    report the tuning job emails, so the two always agree."""
    from handoff.config import load_config
    from handoff.domain.record import LeadRecord
    from handoff.insights.history import from_record
    from handoff.insights.kpis import compute

    leads = [client.get_lead(lead_id).body for lead_id in lead_ids]
    now = datetime.now(UTC)
    kpis = compute(
        [from_record(LeadRecord.model_validate(lead), now) for lead in leads], load_config(DEMO_CONFIG).tuning
    )
    open_slas = kpis.handed_off - kpis.sla_met - kpis.sla_breached
    _say("6. Summary (the KPI engine the monthly report uses)")
    _say(
        f"  received {kpis.received}, sales-ready {kpis.qualified}, nurture {kpis.received - kpis.qualified}, "
        f"handed off {kpis.handed_off}"
    )
    if kpis.speed_to_lead_p50 is not None:
        _say(f"  speed to lead (received -> brief sent): p50 {kpis.speed_to_lead_p50:.2f} s")
    _say(
        f"  SLA (a first touch by the first deadline): met {kpis.sla_met}, breached {kpis.sla_breached}, "
        f"still open {open_slas}"
        + (
            f" (attainment {100 * kpis.sla_attainment:.0f}% of decided)"
            if kpis.sla_attainment is not None
            else ""
        )
    )
    causes = ", ".join(f"{n} {cause}" for cause, n in sorted(kpis.reassignments_by_cause.items()))
    if kpis.assignment_accuracy is not None:
        _say(
            f"  reassignments by cause: {causes or 'none'}; assignment accuracy "
            f"{100 * kpis.assignment_accuracy:.0f}% ({kpis.misrouted} of {kpis.handed_off} misrouted)"
        )
    _say(
        f"  escalations {sum(len(lead.get('escalations', [])) for lead in leads)}, "
        f"dispositions {sum(len(lead.get('dispositions', [])) for lead in leads)}, "
        f"emails in outbox {len(list(outbox.glob('*.eml')))}"
    )
