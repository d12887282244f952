"""B9: what one sla_check sweep reads from DynamoDB, by the number of open leads.

sla_check runs every 5 minutes. Its three passes read only what is due: recovery queries
by_open_status (16 shards per status, sort key check_at, INCLUDE projection) for leads past
their step's expected end; the SLA sweep queries by_sla (16 shards, keys only) for overdue
leads, then reads each one it marks breached (GetItem, strongly consistent); the cadence sweep
queries by_cadence (16 shards, keys only) for due follow-ups.

Open leads are modelled as a steady stream waiting for a first touch (status notified, SLA
pending): arrivals at a constant rate, a 4 h warm SLA, so their deadlines spread evenly over the
next 4 hours, and LAPSED of them reach the deadline untouched. Each sweep then finds the leads
whose deadline passed in the last 5 minutes and nobody touched: open x LAPSED x 5 min / 4 h. A
few are stuck (a workflow that stopped): STUCK of the open leads, late in by_open_status.

Measured on the local stack (moto) at 100 and 10k open leads: a real notified lead (the sample
demo request, briefed, waiting for its rep) is cloned with new ids and deadlines, then one sweep
runs through the real handler, counting every DynamoDB read it makes with a botocore event hook
on the handler's client, sized as AWS documents (bench.meter). 1M comes from the same per-lead
model: the fixed cost of the shard queries, plus each due lead's index entry and record.
"""

from __future__ import annotations

import json
import math
import random
import sys
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any, NotRequired, TypedDict, cast

SIZES = (100, 10_000)
MODELLED = 1_000_000
SLA_HOURS = 4
SWEEP_MINUTES = 5
LAPSED = 0.2  # of leads reach their deadline untouched: 80% SLA attainment
STUCK = 1 / 10_000  # of open leads late in by_open_status at a sweep (a workflow that stopped)
SWEEPS_PER_MONTH = 30 * 24 * 60 // SWEEP_MINUTES  # 8,640


class Sweep(TypedDict):
    open_leads: int
    due: int  # leads past their SLA deadline, untouched
    stuck: int
    calls: dict[str, int]  # DynamoDB read operation -> calls
    items: int  # items those reads returned
    entry_bytes: int  # the index entries among them
    get_units: float  # the GetItems' share of read_units
    read_units: float
    describe_executions: int
    modelled: bool
    answer: NotRequired[Any]  # what the handler returned (measured sweeps)


def due_leads(open_leads: int) -> int:
    return math.ceil(open_leads * LAPSED * SWEEP_MINUTES / (SLA_HOURS * 60))


def stuck_leads(open_leads: int) -> int:
    return math.floor(open_leads * STUCK)


class _Reads:
    """A botocore event hook on one client: every read's request and answer, sized as AWS bills it."""

    def __init__(self) -> None:
        self.calls: Counter[str] = Counter()
        self.items = 0
        self.units = 0.0
        self.entry_bytes = 0  # of the index entries Queries returned
        self.get_units = 0.0  # of the GetItems
        self._params: Any = {}

    def before(self, params: dict[str, Any], model: Any, **_: Any) -> None:
        self._params = params.get("body") or {}

    def after(self, parsed: dict[str, Any], model: Any, **_: Any) -> None:
        from bench.meter import item_size, plain, read_units

        operation = model.name
        if operation not in {"GetItem", "Query", "Scan", "BatchGetItem"}:
            return
        self.calls[operation] += 1
        found = [parsed["Item"]] if parsed.get("Item") else list(parsed.get("Items", []))
        items = [i for i in map(plain, found) if i is not None]
        self.items += len(items)
        if operation == "Query":
            self.entry_bytes += sum(item_size(i) for i in items)
        # Index reads are eventually consistent; GetItem as the adapter asks (ConsistentRead).
        request = json.loads(self._params) if isinstance(self._params, str | bytes) else self._params
        consistent = bool(request.get("ConsistentRead")) and not request.get("IndexName")
        units = read_units(items, consistent=consistent)
        self.units += units
        if operation == "GetItem":
            self.get_units += units


def _clones(template: dict[str, Any], open_leads: int, now: datetime) -> list[dict[str, Any]]:
    """``open_leads`` copies of a notified lead, each with its own id and deadline."""
    from handoff.aws.leads import DEFAULT_CHECK_SECONDS
    from handoff.aws.tables import OPEN_INDEX, RECEIVED_INDEX, SLA_INDEX
    from handoff.domain.lead import lead_id_for
    from handoff.domain.record import iso

    rng = random.Random(9)  # noqa: S311 - spread deadlines, not secrets
    due, stuck = due_leads(open_leads), stuck_leads(open_leads)
    window = SWEEP_MINUTES * 60
    clones = []
    for n in range(open_leads):
        lead_id = lead_id_for("bench", f"b9-{n}")
        if n < due:  # the deadline passed since the last sweep
            deadline = now - timedelta(seconds=rng.uniform(10, window))
        else:  # still inside its SLA wait
            deadline = now + timedelta(seconds=rng.uniform(10, SLA_HOURS * 3600))
        # The step's expected end: the deadline plus stuck_after; a stuck lead's has passed.
        check = deadline + timedelta(seconds=DEFAULT_CHECK_SECONDS)
        if due <= n < due + stuck:
            check = now - timedelta(seconds=rng.uniform(10, window))
        item = dict(template)
        item.update(
            lead_id=lead_id,
            event_id=f"b9-{n}",
            open_status=OPEN_INDEX.key_for("notified", lead_id),
            check_at=iso(check),
            sla_state=SLA_INDEX.key_for("pending", lead_id),
            sla_due_at=iso(deadline),
            received_month=RECEIVED_INDEX.key_for(f"{now:%Y-%m}", lead_id),
            sla={**template["sla"], "due_at": iso(deadline)},
        )
        clones.append(item)
    return clones


def _template(local: Any) -> dict[str, Any]:
    """A real notified lead: the sample demo request, briefed, its workflow waiting on the rep."""
    from bench.cost import _parked, _until
    from bench.local import sample_lead
    from bench.meter import plain
    from handoff.aws.tables import LEADS
    from handoff.local.provision import table_name

    lead_id = str(local.client.post_generic(sample_lead(0, "b9")).body["lead_id"])
    _until(lambda: _parked(local, lead_id), "the brief")
    item = local.aws("dynamodb").get_item(
        TableName=table_name(LEADS), Key={"lead_id": {"S": lead_id}}, ConsistentRead=True
    )["Item"]
    found = plain(item)
    assert found is not None and found.get("status") == "notified"  # noqa: S101 - the bench's own check
    local.aws("dynamodb").delete_item(TableName=table_name(LEADS), Key={"lead_id": {"S": lead_id}})
    return found


def _measure(local: Any, template: dict[str, Any], open_leads: int) -> Sweep:
    from boto3.dynamodb.types import TypeSerializer

    from handoff.aws.container import ports
    from handoff.aws.tables import LEADS
    from handoff.deploy.functions import SLA_CHECK
    from handoff.local import lambdas
    from handoff.local.provision import table_name

    lambdas.invoke(SLA_CHECK, {"source": "bench.warm"})  # the container and its clients, built
    dynamodb = local.aws("dynamodb")
    # Clear what the template's lead and earlier sizes left.
    pages = dynamodb.get_paginator("scan").paginate(
        TableName=table_name(LEADS), ProjectionExpression="lead_id"
    )
    for page in pages:
        for item in page["Items"]:
            dynamodb.delete_item(TableName=table_name(LEADS), Key={"lead_id": item["lead_id"]})
    serialize = TypeSerializer().serialize
    now = datetime.now(UTC)
    clones = _clones(template, open_leads, now)
    for start in range(0, len(clones), 25):
        batch = [
            {"PutRequest": {"Item": {k: serialize(v) for k, v in item.items()}}}
            for item in clones[start : start + 25]
        ]
        dynamodb.batch_write_item(RequestItems={table_name(LEADS): batch})
    reads, described = _Reads(), Counter[str]()
    adapters: Any = ports()
    client = adapters.leads._table.meta.client  # the handler's own client, to hook
    client.meta.events.register("before-call.dynamodb", reads.before)
    client.meta.events.register("after-call.dynamodb", reads.after)
    workflow = adapters.workflow._client

    def count(model: Any, **_: Any) -> None:
        described[model.name] += 1

    workflow.meta.events.register("after-call.states", count)
    # moto answers an index Query by reading the whole table, so at 10k leads a sweep takes far
    # longer here than on DynamoDB: it gets the whole of a deployed run's time, not the local 30 s.
    # Writing 10k leads to moto takes minutes: the sweep runs at the moment they were written for,
    # so the leads due are the ones the model says, not those whose deadline passed meanwhile.
    remaining = lambdas.LocalContext.get_remaining_time_in_millis
    lambdas.LocalContext.get_remaining_time_in_millis = lambda _: 900_000  # type: ignore[method-assign,assignment]
    handler_module: Any = sys.modules[lambdas.load_handler(SLA_CHECK).__module__]
    clock = handler_module.utcnow
    handler_module.utcnow = lambda: now
    try:
        answer = lambdas.invoke(SLA_CHECK, {"source": "bench"})
    finally:
        lambdas.LocalContext.get_remaining_time_in_millis = remaining  # type: ignore[method-assign]
        handler_module.utcnow = clock
        client.meta.events.unregister("before-call.dynamodb", reads.before)
        client.meta.events.unregister("after-call.dynamodb", reads.after)
        workflow.meta.events.unregister("after-call.states", count)
    return {
        "open_leads": open_leads,
        "due": due_leads(open_leads),
        "stuck": stuck_leads(open_leads),
        "calls": dict(reads.calls),
        "items": reads.items,
        "entry_bytes": reads.entry_bytes,
        "get_units": reads.get_units,
        "read_units": reads.units,
        "describe_executions": described["DescribeExecution"],
        "modelled": False,
        "answer": answer,
    }


def modelled(measured: Sweep, template_bytes: int, open_leads: int) -> Sweep:
    """A sweep at ``open_leads`` from the per-lead model the measured one fits: every shard query
    costs at least half a unit, each due lead adds its by_sla entry and its record (GetItem,
    strongly consistent), each stuck one its by_open_status entry and resume."""
    from handoff.aws.tables import STATE_SHARDS
    from handoff.service.recovery import LATE_ORDER

    queries = (len(LATE_ORDER) + 2) * STATE_SHARDS
    due, stuck = due_leads(open_leads), stuck_leads(open_leads)
    found = measured["due"] * 1 + measured["stuck"]
    entry = measured["entry_bytes"] / found if found else 100
    # A shard's page past 4 KB of entries costs another half unit per 4 KB.
    entry_units = 0.5 * max(0, math.ceil((due + stuck) * entry / STATE_SHARDS / 4096) - 1) * STATE_SHARDS
    gets = measured["calls"].get("GetItem", 0)
    per_get = measured["get_units"] / gets if gets else math.ceil(template_bytes / 4096)
    # Reads of the record a stuck lead's resume makes, as measured (none measured: none).
    per_stuck = (gets - measured["due"]) / measured["stuck"] if measured["stuck"] else 0
    reads = due + stuck * per_stuck
    units = queries * 0.5 + entry_units + reads * per_get
    return {
        "open_leads": open_leads,
        "due": due,
        "stuck": stuck,
        "calls": {"Query": queries, "GetItem": round(reads)},
        "items": round(due + stuck + reads),
        "entry_bytes": round((due + stuck) * entry),
        "get_units": reads * per_get,
        "read_units": units,
        "describe_executions": stuck,
        "modelled": True,
    }


def old_design(open_leads: int, item_bytes: int) -> dict[str, float]:
    """The sweep before issue 20: recovery paged by_open_status (projection ALL, sort key
    updated_at) for every in-flight lead not written for 15 minutes, and asked Step Functions
    whether each one's execution ran. A lead waiting out a 4 h SLA is not written for hours, so
    nearly every open lead came back, whole, on every sweep."""
    quiet = open_leads * (1 - 15 / (SLA_HOURS * 60))
    return {
        "read_units": math.ceil(quiet * item_bytes / 4096) * 0.5,
        "describe_executions": quiet,
    }


def run(sizes: tuple[int, ...] = SIZES) -> dict[str, Any]:
    from bench.cost import _reps
    from bench.local import local_stack

    rows: list[Sweep] = []
    with local_stack(_reps()) as local:
        template = _template(local)
        from bench.meter import item_size

        template_bytes = item_size(template)
        for open_leads in sizes:
            started = time.perf_counter()
            rows.append(_measure(local, template, open_leads))
            print(f"  B9 {open_leads:,} open leads: {time.perf_counter() - started:.0f} s", file=sys.stderr)
    rows.append(modelled(rows[-1], template_bytes, MODELLED))
    checks = [modelled(r, template_bytes, r["open_leads"]) for r in rows if not r["modelled"]]
    return {
        "rows": rows,
        "model_check": checks,
        "template_bytes": template_bytes,
        "old": {n: old_design(n, template_bytes) for n in (*sizes, MODELLED)},
        "sweeps_per_month": SWEEPS_PER_MONTH,
    }


def section(r: dict[str, Any]) -> list[str]:
    """B9 in BENCHMARKS.md."""
    from bench.cost import PRICES

    rows = cast(list[Sweep], r["rows"])
    old = {int(n): figures for n, figures in cast(dict[Any, dict[str, float]], r["old"]).items()}
    price = PRICES["read_unit"]
    per_month = int(r["sweeps_per_month"])

    def monthly(units: float) -> str:
        usd = units * per_month * price.usd / price.per
        return f"${usd:,.2f}"

    return [
        f"## B9: sla_check's DynamoDB reads per sweep, by open leads (one sweep every {SWEEP_MINUTES} minutes)",
        "",
        f"Assumption: leads arrive at a steady rate and wait for a first touch under a {SLA_HOURS} h warm SLA, so their",
        f"deadlines spread evenly over the next {SLA_HOURS} hours; {LAPSED:.0%} reach theirs untouched ({1 - LAPSED:.0%} SLA attainment).",
        f"A sweep finds those whose deadline passed in the last {SWEEP_MINUTES} minutes (open x {LAPSED:g} x {SWEEP_MINUTES} min / {SLA_HOURS} h, rounded up),",
        f"and one open lead in {1 / STUCK:,.0f} is stuck (late in by_open_status: its workflow stopped). 100 and 10k are",
        f"measured on the local stack: a real notified lead ({r['template_bytes']:,} bytes, the sample demo request, briefed) cloned",
        "with new ids and deadlines, then one sweep through the real handler, every DynamoDB read counted by a",
        "botocore event hook on its client and sized as AWS documents (a Query's items summed and rounded up to",
        "4 KB, eventually consistent at half; GetItem strongly consistent, as the adapter asks). 1M is the same",
        f"per-lead model (bench/sweeps.py). Monthly: {per_month:,} sweeps at ${price.usd:g} per million on-demand read request",
        "units, us-east-1 ([AWS](https://aws.amazon.com/dynamodb/pricing/on-demand/); the price after the November",
        "2024 cut, as [Airbyte's summary](https://airbyte.com/data-engineering-resources/dynamodb-pricing) gives it).",
        "",
        "| open leads | due | stuck | Query calls | GetItem calls | items read | read units per sweep | per month | DescribeExecution per sweep | before issue 20: read units per sweep | per month | DescribeExecution per sweep |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
        *[
            f"| {row['open_leads']:,}{' (model)' if row['modelled'] else ''} | {row['due']:,} | {row['stuck']:,} "
            f"| {row['calls'].get('Query', 0):,} | {row['calls'].get('GetItem', 0):,} | {row['items']:,} "
            f"| {row['read_units']:,.1f} | {monthly(row['read_units'])} | {row['describe_executions']:,} "
            f"| {old[row['open_leads']]['read_units']:,.0f} | {monthly(old[row['open_leads']]['read_units'])} "
            f"| {old[row['open_leads']]['describe_executions']:,.0f} |"
            for row in rows
        ],
        "",
        *NOTES,
        "",
    ]


NOTES = [
    "A sweep now reads one Query per shard of by_open_status for each late status (5 x 16), of by_sla and",
    "of by_cadence (16 each), each at least half a unit even when empty; then, for each lead whose SLA",
    "lapsed, its by_sla entry and its record (one strongly consistent GetItem, to count the breach). Healthy",
    "leads inside their wait are never read, so the cost follows the leads that are due, not the open ones.",
    "Before issue 20 (estimated, same leads and item size): recovery paged by_open_status (projection ALL,",
    "sorted by updated_at) for every in-flight lead not written for 15 minutes, which a lead waiting hours",
    "for its rep always is, and asked Step Functions about each (DescribeExecution, no DynamoDB cost but",
    "throttled per account): at 1M open leads those calls alone could not finish inside one sweep.",
]


if __name__ == "__main__":
    wanted = tuple(int(n) for n in sys.argv[1:]) or SIZES
    print(json.dumps(run(wanted), indent=2, default=str))
