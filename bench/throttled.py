"""B10: a burst under throttling on the local stack, injected at the wire as the fault suite does.

Leads are posted open-loop within POST_WINDOW seconds (each at its planned moment, on its own
sender thread, whatever the answers to the others). Meanwhile botocore before-send hooks on the
handlers' own clients answer chosen calls as AWS does when it throttles, before moto sees them:

- SES SendEmail through a token bucket at the account's rate (14/s as in production, then 1/s as
  in the sandbox): past it, TooManyRequestsException (429). GetAccount reports that rate, which
  the senders pace at (handoff/aws/pacing.py);
- DynamoDB UpdateItem, PutItem and Query (every table): throttled in bursts, every call for
  DYNAMO_BURSTS.lasting seconds every DYNAMO_BURSTS.every, alternately
  ProvisionedThroughputExceededException and ThrottlingException;
- Step Functions StartExecution: ThrottlingException in bursts (START_BURSTS).

The SDK retries each (standard mode), then the workflow's and sla_check's own paths take over.
sla_check runs on a timer every SLA_CHECK_EVERY seconds (EventBridge's shortest rate; the deployed
schedule is handoff.deploy.functions.SLA_CHECK_EVERY_MINUTES).

Every write that lands on the leads table is captured inside moto (in the stack's DynamoDB process,
handoff.local.dynamodb_process, under the lock that makes each request atomic:
handoff.local.emulator) with the item before and after, and sized as DynamoDB bills it: the base table's units from the larger image, each index entry the write
puts, rewrites or deletes (handoff.aws.index_writes) from the entry's size, each under its key.
"""

from __future__ import annotations

import functools
import json
import math
import statistics
import threading
import time
import urllib.error
import urllib.request
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, TypedDict

from boto3.dynamodb.types import TypeDeserializer
from botocore.awsrequest import AWSResponse, HTTPHeaders

from bench import burst
from bench.local import LocalRun, local_stack, rep_rows, sample_lead
from bench.meter import item_size
from handoff.aws import container
from handoff.aws.index_writes import index_writes
from handoff.aws.tables import LEADS
from handoff.crm.signature import sign_generic
from handoff.local import emulator
from handoff.local.in_process import StreamedBody
from handoff.local.provision import table_name

# Issue 22's burst: 1,000 leads at each SES rate. On the local stack (one process, 2 cores) the
# pair takes about half an hour; `python -m bench B10 200 60` runs a smaller pair.
LEADS_FAST, LEADS_SANDBOX = 1000, 1000
SES_FAST, SES_SANDBOX = 14.0, 1.0  # SES's default production sending rate, and the sandbox's
POST_WINDOW = 10.0
SLA_CHECK_EVERY = 60.0
GOAL_SLACK = 60.0  # every lead briefed within leads / SES rate + this
ATTEMPTS = 5  # a sender's tries for a 5xx, a 429 or a dropped connection, after Retry-After
POST_TIMEOUT = 120.0
# The drain ends when every lead is briefed, or nothing new was briefed for this long (longer
# than an sla_check period and a redrive's back-off), or at the cap.
STALL_SECONDS = 240.0
DRAIN_CAP = 1_200.0  # or DRAIN_CAP_PER_LEAD each, whichever is longer
DRAIN_CAP_PER_LEAD = 2.0  # the local stack briefs about a lead a second
WRITE_UNIT = 1024


@dataclass(frozen=True)
class Bursts:
    """Throttled from ``first`` s for ``lasting`` s, every ``every`` s; codes in turn."""

    first: float
    every: float
    lasting: float
    codes: tuple[str, ...]

    def code_at(self, t: float) -> str | None:
        if t < self.first:
            return None
        k, into = divmod(t - self.first, self.every)
        return self.codes[int(k) % len(self.codes)] if into < self.lasting else None


DYNAMO_OPS = ("UpdateItem", "PutItem", "Query")
DYNAMO_BURSTS = Bursts(3.0, 20.0, 2.0, ("ProvisionedThroughputExceededException", "ThrottlingException"))
START_BURSTS = Bursts(5.0, 30.0, 3.0, ("ThrottlingException",))


def _refusal(request: Any, code: str, status: int) -> AWSResponse:
    # Pointed elsewhere so moto never applies it: the call was refused, as a throttle is.
    request.url = "https://injected-throttle.invalid/"
    body = json.dumps({"__type": code, "message": f"injected {code}"}).encode()
    headers = {"x-amzn-ErrorType": code, "Content-Type": "application/x-amz-json-1.0"}
    return AWSResponse(request.url, status, HTTPHeaders.from_dict(headers), StreamedBody(body))


def _account(request: Any, rate: float) -> AWSResponse:
    """SES v2 GetAccount's answer, reporting the bucket's rate as the account's MaxSendRate."""
    request.url = "https://injected-account.invalid/"
    body = json.dumps({"SendQuota": {"Max24HourSend": 50_000.0, "MaxSendRate": rate, "SentLast24Hours": 0.0}})
    headers = {"Content-Type": "application/json"}
    return AWSResponse(request.url, 200, HTTPHeaders.from_dict(headers), StreamedBody(body))


@dataclass
class _Sends:
    first: float
    throttled: int = 0
    accepted: list[float] = field(default_factory=list)


class Wire:
    """The throttles, on the handlers' clients (built once per process: handoff.aws.container)."""

    def __init__(self, ses_rate: float) -> None:
        self.ses_rate = ses_rate
        self.started = time.time()
        self.on = True
        self.injected: Counter[str] = Counter()
        self.briefs: dict[str, _Sends] = {}
        self.other_sends = 0
        self._tokens, self._filled = max(1.0, ses_rate), time.monotonic()
        self._lock = threading.Lock()

    def install(self) -> None:
        self._hook(container._dynamodb().meta.client, DYNAMO_OPS, self._dynamo)
        self._hook(container.client("stepfunctions"), ("StartExecution",), self._start)
        self._hook(container.client("sesv2"), ("SendEmail",), self._ses)
        # The rate the senders pace at is the one SES reports for the account (GetAccount).
        self._hook(
            container.client("sesv2"), ("GetAccount",), lambda request, **_: _account(request, self.ses_rate)
        )

    @staticmethod
    def _hook(client: Any, operations: tuple[str, ...], handler: Any) -> None:
        service = client.meta.service_model.service_id.hyphenize()
        for op in operations:
            client.meta.events.register_first(f"before-send.{service}.{op}", handler)

    def _count(self, what: str) -> None:
        with self._lock:
            self.injected[what] += 1

    def _dynamo(self, request: Any, **_: Any) -> AWSResponse | None:
        code = DYNAMO_BURSTS.code_at(time.time() - self.started) if self.on else None
        if code is None:
            return None
        self._count(f"DynamoDB {code}")
        return _refusal(request, code, 400)

    def _start(self, request: Any, **_: Any) -> AWSResponse | None:
        code = START_BURSTS.code_at(time.time() - self.started) if self.on else None
        if code is None:
            return None
        self._count(f"StartExecution {code}")
        return _refusal(request, code, 400)

    def _take(self) -> bool:
        """One token from SES's bucket (refilled at the rate, holding a second's worth)."""
        now = time.monotonic()
        self._tokens = min(max(1.0, self.ses_rate), self._tokens + (now - self._filled) * self.ses_rate)
        self._filled = now
        if self._tokens < 1:
            return False
        self._tokens -= 1
        return True

    def _ses(self, request: Any, **_: Any) -> AWSResponse | None:
        body = json.loads(request.body or b"{}")
        tags = {t["Name"]: t["Value"] for t in body.get("EmailTags", [])}
        lead = tags.get("lead_id") if tags.get("kind") == "brief" else None
        now = time.time()
        with self._lock:
            sends = self.briefs.setdefault(lead, _Sends(now)) if lead else None
            if self.on and not self._take():
                self.injected["SES TooManyRequestsException"] += 1
                if sends:
                    sends.throttled += 1
                throttled = True
            else:
                throttled = False
                if sends:
                    sends.accepted.append(now)
                else:
                    self.other_sends += 1
        return _refusal(request, "TooManyRequestsException", 429) if throttled else None

    def briefed(self) -> int:
        with self._lock:
            return sum(1 for s in self.briefs.values() if s.accepted)


# --- write units on the leads table ------------------------------------------------------------


@dataclass
class Writes:
    """Write units by (where, partition key): where is the table or one of its indexes."""

    writes: int = 0
    status: dict[str, str] = field(default_factory=dict)  # each lead's status as last written
    refused: int = 0  # a failed condition: billed on the base table, no index entry written
    units: Counter[tuple[str, str]] = field(default_factory=Counter)
    entries: Counter[str] = field(default_factory=Counter)  # index entries written, by index

    def add(self, before: dict[str, Any] | None, after: dict[str, Any] | None, *, refused: bool) -> None:
        self.writes += 1
        key = str((after or before or {}).get(LEADS.partition_key))
        self.status[key] = str((after or {}).get("status"))
        size = item_size(before) if refused else max(item_size(before), item_size(after))
        self.units[(LEADS.logical_name, key)] += _units(size)
        if refused:
            self.refused += 1
            return
        for write in index_writes(LEADS, before, after):
            self.units[(write.index, write.partition_key)] += _units(item_size(write.entry))
            self.entries[write.index] += 1

    def report(self) -> dict[str, Any]:
        """As JSON, for the stack's process to read (``from_report``)."""
        return {
            "writes": self.writes,
            "status": dict(self.status),
            "refused": self.refused,
            "units": [[where, key, units] for (where, key), units in list(self.units.items())],
            "entries": dict(self.entries),
        }

    @classmethod
    def from_report(cls, report: Mapping[str, Any]) -> Writes:
        return cls(
            writes=report["writes"],
            status=dict(report["status"]),
            refused=report["refused"],
            units=Counter({(where, key): units for where, key, units in report["units"]}),
            entries=Counter(report["entries"]),
        )


def _units(size: int) -> int:
    return max(1, math.ceil(size / WRITE_UNIT))


_plain = functools.partial(TypeDeserializer().deserialize)


def _image(backend: Any, table: str, key: Mapping[str, Any]) -> dict[str, Any] | None:
    item = backend.get_item(table, dict(key))
    if item is None:
        return None
    return {k: _plain(v) for k, v in item.to_json()["Attributes"].items()}


CAPTURE = "bench.throttled:capture_writes"  # by name: run as a script, __name__ is __main__
PROGRESS = "bench.throttled:capture_progress"  # after CAPTURE: what the drain polls
_capturing: list[Writes] = []  # in the stack's DynamoDB process: CAPTURE's writes


def capture_writes() -> Callable[[], dict[str, Any]]:
    """Run in the stack's DynamoDB process (its extension CAPTURE): each PutItem and UpdateItem
    that reaches moto's leads table, with the item before and after, read inside the request's
    own lock (so no other write lands between them). Returns what reports them so far.

    Every write to the leads table comes through here (Handoff writes a lead with no other
    call), so a lead's item before a write is the item after its last captured one, kept by key:
    only a lead's first write reads moto's item before, and a refused write reads nothing after
    (it changed nothing). Reading both from moto each time was a quarter of the process's time
    under the burst, time every other request waited for."""
    from moto.dynamodb.responses import DynamoHandler

    writes = Writes()
    _capturing.append(writes)
    images: dict[str, dict[str, Any] | None] = {}
    table = table_name(LEADS)
    original = DynamoHandler.call_action

    @functools.wraps(original)
    def call_action(self: Any) -> Any:
        action = self._get_action()
        if action not in {"PutItem", "UpdateItem"}:
            return original(self)
        params = getattr(self, "params", None) or json.loads(self.body or "{}")
        if params.get("TableName") != table:
            return original(self)
        key = params.get("Key") or {LEADS.partition_key: params["Item"][LEADS.partition_key]}
        kept = json.dumps(key, sort_keys=True)
        with emulator._lock:
            before = images[kept] if kept in images else _image(self.dynamodb_backend, table, key)
            answer = original(self)
            refused = int(answer[0] if isinstance(answer, tuple) else 200) >= 400
            after = before if refused else _image(self.dynamodb_backend, table, key)
            images[kept] = after
        writes.add(before, after, refused=refused)
        return answer

    DynamoHandler.call_action = call_action  # type: ignore[method-assign]
    return writes.report


def capture_progress() -> Callable[[], dict[str, Any]]:
    """Run in the stack's DynamoDB process after CAPTURE (its extension PROGRESS): the leads
    its writes have handed off, and the others by status. The drain polls this every second;
    the whole capture (every key's units) is read once, at the end."""

    def progress() -> dict[str, Any]:
        statuses = Counter(list(_capturing[-1].status.values()))
        handed_off = sum(n for status, n in statuses.items() if status in burst.HANDED_OFF)
        waiting = {status: n for status, n in statuses.items() if status not in burst.HANDED_OFF}
        return {"handed_off": handed_off, "waiting": waiting}

    return progress


def captured(local: LocalRun) -> Writes:
    """The writes the stack's DynamoDB process has captured so far."""
    return Writes.from_report(local.stack.dynamodb.report(only=CAPTURE)[CAPTURE])


# --- the run -----------------------------------------------------------------------------------


class WriteFigures(TypedDict):
    per_lead: float
    base_per_lead: float
    busiest: str
    busiest_share: float
    refused: int
    by_index: list[dict[str, Any]]  # name, units per lead, entries per lead, busiest key, its share


class Case(TypedDict):
    ses_rate: float
    leads: int
    goal_seconds: float
    last_post_started: float
    last_answer: float
    answers: dict[str, int]
    sender_retries: int
    drain_seconds: float
    briefed: int
    latency: dict[str, float]  # p50, p95, max (s, POST to brief)
    over_goal: int
    injected: dict[str, int]
    ses_leads_throttled: int
    ses_wait: dict[str, float]  # total, max (s): first send attempt to the accepted one
    ses_share: float  # of the summed POST-to-brief time
    other_emails: int
    failed_now: int
    failed_ever: int
    failures: dict[str, int]  # the error and cause each failed lead records
    deferred_starts: int
    recovered: int
    redriven: int
    lost: int
    briefs_doubled: int  # leads with two briefs accepted by SES
    assigned_twice: int  # leads recording two briefs, or a second assignment
    statuses: dict[str, int]
    emails: int
    slots_doubled: int  # reps whose open count differs from the leads naming them
    slot_ledgers: list[dict[str, Any]]  # for each, where its holds and its leads differ
    split_answers: int
    extra_leads: int
    writes: WriteFigures


@dataclass(frozen=True)
class _Post:
    event: int
    started: float
    status: int
    lead_id: str | None
    seconds: float
    retries: int


def _post_once(local: LocalRun, body: bytes) -> tuple[int, dict[str, Any], float]:
    """(status, answer, Retry-After) for one signed POST, as a webhook sender makes it."""
    signature = sign_generic(local.client.generic_secret, body, int(time.time()))
    request = urllib.request.Request(  # noqa: S310 - the local stack's own URL
        local.client.base_url + "/webhooks/generic",
        data=body,
        method="POST",
        headers={"Content-Type": "application/json", "X-Handoff-Signature": signature},
    )
    try:
        with urllib.request.urlopen(request, timeout=POST_TIMEOUT) as response:  # noqa: S310
            return response.status, json.loads(response.read() or b"{}"), 0.0
    except urllib.error.HTTPError as error:
        wait = float(error.headers.get("Retry-After") or 1)
        return error.code, json.loads(error.read() or b"{}"), wait


def _post(local: LocalRun, event: int, body: bytes, at: float) -> _Post:
    time.sleep(max(0.0, at - time.time()))
    started = time.time()
    status, retries = 0, 0
    answer: dict[str, Any] = {}
    for attempt in range(ATTEMPTS):
        retries = attempt
        try:
            status, answer, wait = _post_once(local, body)
        except OSError:  # refused or timed out: a sender tries again
            status, answer, wait = 0, {}, 1.0
        if status and status < 500 and status != 429:
            break
        time.sleep(wait)
    return _Post(event, started, status, answer.get("lead_id"), time.time() - started, retries)


def _drain(wire: Wire, local: LocalRun, expected: int) -> None:
    """Until every lead is briefed (SES accepted it) and handed off (the lead says so)."""
    seen, last_progress, began = (-1, -1), time.monotonic(), time.monotonic()
    while True:
        progress = local.stack.dynamodb.report(only=PROGRESS)[PROGRESS]
        done = (wire.briefed(), progress["handed_off"])
        if min(done) >= expected:
            return
        now = time.monotonic()
        if done != seen:
            seen, last_progress = done, now
        if now - last_progress > STALL_SECONDS or now - began > max(DRAIN_CAP, expected * DRAIN_CAP_PER_LEAD):
            return
        if int(now - began) % 30 == 0:
            print(
                f"B10 drain {now - began:.0f} s: {done[0]} briefed, {done[1]} handed off, {progress['waiting']}",
                flush=True,
            )
        time.sleep(1.0)


def _timelines(local: LocalRun) -> tuple[dict[str, Counter[str]], Counter[str]]:
    """Each lead's timeline events, counted; and the failures recorded on leads, by error and cause."""
    table = local.aws("dynamodb")
    events: dict[str, Counter[str]] = {}
    failures: Counter[str] = Counter()
    for page in table.get_paginator("scan").paginate(
        TableName=table_name(LEADS), ProjectionExpression="lead_id, timeline, failure", ConsistentRead=True
    ):
        for item in page["Items"]:
            timeline = item.get("timeline", {}).get("L", [])
            events[item["lead_id"]["S"]] = Counter(e["M"]["event"]["S"] for e in timeline)
            failure = item.get("failure", {}).get("M")
            if failure:
                failures[f"{failure['error']['S']}: {failure.get('cause', {}).get('S', '')[:300]}"] += 1
    return events, failures


def _write_figures(writes: Writes, leads: int) -> WriteFigures:
    total = sum(writes.units.values())
    (where, key), most = writes.units.most_common(1)[0]
    by_index = []
    for index in LEADS.indexes:
        mine = Counter({k: u for (w, k), u in writes.units.items() if w == index.name})
        if not mine:
            continue
        top, top_units = mine.most_common(1)[0]
        by_index.append(
            {
                "name": index.name,
                "per_lead": sum(mine.values()) / leads,
                "entries_per_lead": writes.entries[index.name] / leads,
                "keys": len(mine),
                "busiest": top,
                "share": top_units / total,
            }
        )
    base = sum(u for (w, _), u in writes.units.items() if w == LEADS.logical_name)
    return WriteFigures(
        per_lead=total / leads,
        base_per_lead=base / leads,
        busiest=f"{where}: {key}",
        busiest_share=most / total,
        refused=writes.refused,
        by_index=by_index,
    )


def _percentile(values: list[float], q: int) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1] if len(values) > 1 else values[0]


@contextmanager
def quiet() -> Iterator[None]:
    """The handlers' own logs off: each throttled webhook's 503 logs its traceback at ERROR."""
    from handoff.observability import logger

    level = logger.log_level
    logger.setLevel("CRITICAL")
    try:
        yield
    finally:
        logger.setLevel(level)


def _lead(i: int, run: str) -> dict[str, Any]:
    """A new contact, as a list import makes them: its own CRM record too (the sample's is shared)."""
    body = sample_lead(i, run)
    record = f"{run}-{i}"
    body["crm"] = {
        **body["crm"],
        "record_id": record,
        "record_url": f"https://app.hubspot.com/contacts/1/contact/{record}",
    }
    return body


def run_case(leads: int, ses_rate: float) -> Case:
    bodies = [json.dumps(_lead(i, f"b10-{ses_rate:g}")).encode() for i in range(leads)]
    reps = rep_rows(
        {rep: ("sales", weight, burst.SALES_CAPACITY) for rep, weight in burst.SALES_WEIGHTS.items()}
    )
    with (
        quiet(),
        local_stack(reps, sla_check_every=SLA_CHECK_EVERY, dynamodb_extensions=(CAPTURE, PROGRESS)) as local,
    ):
        wire = Wire(ses_rate)
        wire.install()
        t0 = time.time() + 1.0
        with ThreadPoolExecutor(max_workers=leads) as pool:
            posts = list(
                pool.map(lambda i: _post(local, i, bodies[i], t0 + i * POST_WINDOW / leads), range(leads))
            )
        answered = time.time()
        _drain(wire, local, leads)
        drained = time.time()
        wire.on = False  # the checks read through the API too
        delivered = [burst.Delivery(p.event, p.status, p.lead_id, p.seconds, p.retries) for p in posts]
        checks = burst._check(local, leads, delivered)
        timelines, failures = _timelines(local)
        writes = captured(local)
    return _case(
        leads,
        ses_rate,
        posts=posts,
        wire=wire,
        checks=checks,
        timelines=timelines,
        failures=failures,
        writes=writes,
        times=(t0, answered, drained),
    )


def _case(
    leads: int,
    ses_rate: float,
    *,
    posts: list[_Post],
    wire: Wire,
    checks: burst.Checks,
    timelines: dict[str, Counter[str]],
    failures: Counter[str],
    writes: Writes,
    times: tuple[float, float, float],
) -> Case:
    t0, answered, drained = times
    goal = leads / ses_rate + GOAL_SLACK
    latency = [
        wire.briefs[p.lead_id].accepted[0] - p.started
        for p in posts
        if p.lead_id in wire.briefs and wire.briefs[p.lead_id].accepted
    ]
    waits = [s.accepted[0] - s.first for s in wire.briefs.values() if s.accepted]
    briefed_at = [s.accepted[0] for s in wire.briefs.values() if s.accepted]
    return Case(
        ses_rate=ses_rate,
        leads=leads,
        goal_seconds=goal,
        last_post_started=max(p.started for p in posts) - t0,
        last_answer=answered - t0,
        answers={str(k): v for k, v in sorted(Counter(p.status for p in posts).items())},
        sender_retries=sum(p.retries for p in posts),
        drain_seconds=(max(briefed_at) if briefed_at else drained) - t0,
        briefed=len(latency),
        latency={
            "p50": _percentile(latency, 50) if latency else math.nan,
            "p95": _percentile(latency, 95) if latency else math.nan,
            "max": max(latency, default=math.nan),
        },
        over_goal=sum(1 for s in latency if s > goal) + leads - len(latency),
        injected=dict(sorted(wire.injected.items())),
        ses_leads_throttled=sum(1 for s in wire.briefs.values() if s.throttled),
        ses_wait={"total": sum(waits), "max": max(waits, default=0.0)},
        ses_share=sum(waits) / sum(latency) if latency else math.nan,
        other_emails=wire.other_sends,
        failed_now=checks["statuses"].get("failed", 0),
        failed_ever=sum(1 for t in timelines.values() if t["failed"]),
        failures=dict(failures),
        deferred_starts=sum(1 for t in timelines.values() if t["start_deferred"]),
        recovered=sum(1 for t in timelines.values() if t["recovered"]),
        redriven=sum(1 for t in timelines.values() if t["redriven"]),
        lost=checks["lost"],
        briefs_doubled=sum(1 for s in wire.briefs.values() if len(s.accepted) > 1),
        assigned_twice=checks["assigned_twice"],
        statuses=checks["statuses"],
        emails=checks["emails"],
        slots_doubled=checks["slot_mismatches"],
        slot_ledgers=checks["slot_ledgers"],
        split_answers=checks["split_answers"],
        extra_leads=checks["extra_leads"],
        writes=_write_figures(writes, leads),
    )


def run(fast_leads: int = LEADS_FAST, sandbox_leads: int = LEADS_SANDBOX) -> list[Case]:
    return [run_case(fast_leads, SES_FAST), run_case(sandbox_leads, SES_SANDBOX)]


if __name__ == "__main__":  # python -m bench.throttled [leads at 14/s] [leads at 1/s]: JSON on stdout
    import signal
    import sys
    import traceback

    def where_threads_are(*_: Any) -> None:
        """Every thread's innermost frames, alike ones counted together (faulthandler prints
        only the first 100 threads, and a burst runs over a thousand)."""
        stacks = Counter("".join(traceback.format_stack(f)[-8:]) for f in sys._current_frames().values())
        for stack, threads in stacks.most_common():
            print(f"--- {threads} thread(s):\n{stack}", file=sys.stderr, flush=True)

    # A run that stalls can be asked where its threads are: kill -USR1 <pid> (stacks on stderr).
    signal.signal(signal.SIGUSR1, where_threads_are)

    counts = [int(a) for a in sys.argv[1:3]] or [LEADS_FAST, LEADS_SANDBOX]
    cases = [run_case(n, rate) for n, rate in zip(counts, (SES_FAST, SES_SANDBOX), strict=False)]
    print("B10 " + json.dumps(cases, default=str))
