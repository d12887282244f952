"""B8: history scaling: `handoff report` and `handoff tune` on 40k, 400k and 1M leads, with time
and peak RSS (each run in a fresh interpreter; RSS as B2 measures it, ru_maxrss of the child).

The 40k history is `handoff history generate --leads 40000`; larger ones repeat it with each copy's
event ids and contact emails made distinct (the generator routes every lead through the real
router, about 1 ms a lead here, so a generated million takes longer than the runs it feeds). The
files are cached by size under $HANDOFF_BENCH_HISTORY (default: the temp dir).

Also: the read units one tuning run costs at 1M leads on the deployed table (``read_units``), from
the sizes of leads as the local stack stores them (``item_sizes``: a nurtured lead, leads briefed
and touched, and leads that ran the whole escalation ladder), sized as AWS documents (bench.meter).
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
import tempfile
import time
from functools import partial
from pathlib import Path
from typing import Any, TypedDict, cast

from handoff.deploy.functions import REPO_ROOT

SIZES = (40_000, 400_000, 1_000_000)
BASE = 40_000
GOAL_SECONDS, GOAL_MB = 120, 1024
FOLDER = Path(os.environ.get("HANDOFF_BENCH_HISTORY", Path(tempfile.gettempdir()) / "handoff-b8"))

RUN = r"""
import resource, sys, time
from handoff.cli import main
started = time.perf_counter()
code = main(sys.argv[1:])
usage = resource.getrusage(resource.RUSAGE_SELF)
print("B8", code, time.perf_counter() - started, usage.ru_maxrss / 1024, usage.ru_utime + usage.ru_stime)
"""


def history(leads: int) -> Path:
    """The cached history of ``leads`` leads (made once)."""
    FOLDER.mkdir(parents=True, exist_ok=True)
    path = FOLDER / f"history-{leads}.jsonl"
    if path.exists():
        return path
    if leads == BASE:
        part = path.with_suffix(".part")
        subprocess.run(  # noqa: S603
            [sys.executable, "-m", "handoff.cli", "history", "generate", "--out", str(part), "--leads", str(BASE)],
            check=True, cwd=REPO_ROOT, capture_output=True,
        )  # fmt: skip
        part.rename(path)
        return path
    lines = history(BASE).read_text().splitlines()
    part = path.with_suffix(".part")
    with part.open("w") as out:
        for copy in range(math.ceil(leads / BASE)):
            for line in lines[: min(BASE, leads - copy * BASE)]:
                out.write(
                    line.replace('"synthetic-', f'"synthetic-{copy}-').replace('"buyer', f'"b{copy}-buyer')
                    + "\n"
                )
    part.rename(path)
    return path


def _run(args: list[str]) -> dict[str, float]:
    out = subprocess.run(  # noqa: S603
        [sys.executable, "-c", RUN, *args], capture_output=True, text=True, check=True, cwd=REPO_ROOT
    )
    _, code, seconds, mb, cpu = next(
        line for line in out.stdout.splitlines() if line.startswith("B8 ")
    ).split()
    if code != "0":
        raise RuntimeError(out.stdout[-2000:])
    return {"seconds": float(seconds), "peak_mb": float(mb), "cpu_seconds": float(cpu)}


QUERY_PAGE_BYTES = 1_048_576  # a Query reads at most 1 MB a call


def read_units(leads: int, sizes: ItemSizes, shards: int, months: int = 4) -> dict[str, float]:
    """Read units for one tuning run over ``leads`` leads, as AWS bills them (eventually
    consistent: half a unit per 4 KB). The Query on the keys-only by_received index reads each
    month's shards (a 90-day window touches 4 months), in pages of at most 1 MB of entries
    (lead_id, received_month, received_at), each page's total rounded up to 4 KB. BatchGetItem
    rounds each item up to 4 KB on its own. Leads come in the stored mix ``sizes`` gives."""
    partitions = months * shards
    full, rest = divmod(leads / partitions * sizes["index_entry_bytes"], QUERY_PAGE_BYTES)
    query_units = partitions * (full * QUERY_PAGE_BYTES / 4096 + math.ceil(rest / 4096)) * 0.5
    per_item = sum(share * units * 0.5 for share, _, units in sizes["mix"])
    batch_units = leads * per_item
    return {
        "query_units": query_units,
        "batch_units": batch_units,
        "total": query_units + batch_units,
        "query_calls": partitions * (int(full) + 1),
        "batch_calls": math.ceil(leads / 100),
        "units_per_lead": (query_units + batch_units) / leads,
    }


class ItemSizes(TypedDict):
    items: list[tuple[str, int]]  # (what happened to the lead, stored bytes)
    index_entry_bytes: int  # its by_received entry (keys only)
    # (share of a history, mean bytes, mean 4 KB units an item) for read_units, by kind
    mix: list[tuple[float, float, float]]
    shares: dict[str, float]
    record_us: float  # CPU to validate a stored lead and make it a row (the Lambda's read path)


def _stored(local: Any, kind: str, into: list[dict[str, Any]]) -> list[tuple[str, int]]:
    from boto3.dynamodb.types import TypeDeserializer

    from bench.meter import item_size
    from handoff.aws.tables import LEADS
    from handoff.local.provision import table_name

    plain = TypeDeserializer().deserialize
    pages = local.aws("dynamodb").get_paginator("scan").paginate(TableName=table_name(LEADS))
    items = [{k: plain(v) for k, v in i.items()} for page in pages for i in page["Items"]]
    into += items
    return [(str(i.get("status")) if kind == "" else kind, item_size(i)) for i in items]


def record_us(items: list[dict[str, Any]], rounds: int = 200) -> float:
    """CPU microseconds to turn one stored lead into a history row, as the tuning Lambda does
    (``LeadRecord.model_validate`` of the item, then ``from_record``): its cost per lead beyond
    the CLI's, which reads rows from a file."""
    from datetime import UTC, datetime

    from handoff.aws.dynamo import from_item
    from handoff.domain.record import LeadRecord
    from handoff.insights.history import from_record

    now = datetime.now(UTC)
    started = time.process_time()
    for _ in range(rounds):
        for item in items:
            from_record(LeadRecord.model_validate(from_item(item)), now)
    return (time.process_time() - started) / (rounds * len(items)) * 1e6


def item_sizes() -> ItemSizes:
    """Leads as the local stack stores them, sized as AWS documents (attribute names and values,
    bench.meter.item_size): the generic sample webhooks (the sales-ready ones briefed, then
    touched by their rep through the API; the rest nurtured), and leads nobody touches, which
    run the whole escalation ladder (reminder, escalation, reassignment, twice, re-nurture)."""
    from bench.cost import _finished, _parked, _reps, _until, _untouched
    from bench.local import SAMPLE, local_stack, sla_everywhere

    found: list[tuple[str, int]] = []
    stored: list[dict[str, Any]] = []
    with local_stack(_reps()) as local:
        for round_ in range(2):
            for path in sorted(SAMPLE.glob("*.json")):
                body = json.loads(path.read_text())
                body["event_id"] = f"b8-{round_}-{path.stem}"
                body["contact"]["email"] = f"b8.{round_}.{body['contact']['email']}"
                answer = local.client.post_generic(body)
                lead_id = str(answer.body["lead_id"])
                if answer.status == 202:  # sales-ready: briefed, then touched
                    _until(partial(_parked, local, lead_id), "the brief")
                    local.client.dispose(lead_id, "connected")
                    _until(partial(_finished, local, lead_id), "closing the handoff")
        found += [("touched" if s != "nurture" else "nurtured", n) for s, n in _stored(local, "", stored)]
    ladder = {**sla_everywhere(1), "escalation": {"reminder_grace_seconds": 1}}
    with local_stack(_reps(), settings=ladder) as local:
        _untouched(local, range(2))
        found += _stored(local, "ladder", stored)
    return {**_with_mix(found), "record_us": record_us(stored)}


def _with_mix(found: list[tuple[str, int]]) -> ItemSizes:
    from bench.meter import item_size
    from handoff.aws.tables import RECEIVED_INDEX

    # A by_received entry: the table key and the index's keys, as stored.
    entry = item_size(
        {
            "lead_id": "ld_" + "0" * 24,
            RECEIVED_INDEX.partition_key: "2026-11#15",
            str(RECEIVED_INDEX.sort_key): "2026-11-30T10:38:14.706880Z",
        }
    )
    shares = history_shares()
    mix = []
    for kind in ("nurtured", "touched", "ladder"):
        sizes = [n for k, n in found if k == kind]
        units = [math.ceil(n / 4096) for n in sizes]
        mix.append((shares[kind], sum(sizes) / len(sizes), sum(units) / len(units)))
    return {"items": found, "index_entry_bytes": entry, "mix": mix, "shares": shares, "record_us": 0.0}


def history_shares() -> dict[str, float]:
    """What happened to the leads of the synthetic history: never handed off (nurtured),
    handed off and touched in time, or handed off and left untouched past the SLA (the ladder)."""
    rows = [json.loads(line) for line in history(BASE).read_text().splitlines()]
    handed = [r for r in rows if r.get("notified_at")]
    late = sum(1 for r in handed if r.get("sla_met") is False)
    return {
        "nurtured": 1 - len(handed) / len(rows),
        "touched": (len(handed) - late) / len(rows),
        "ladder": late / len(rows),
    }


def run(sizes: tuple[int, ...] = SIZES) -> dict[str, object]:
    config = str(REPO_ROOT / "config" / "handoff.toml")
    rows = []
    for leads in sizes:
        path = history(leads)
        for command in ("report", "tune"):
            args = [command, "--history", str(path), "--quiet", "--config", config]
            if command == "tune":
                args += ["--out", str(FOLDER / f"tune-{leads}")]
            load = os.getloadavg()[0]
            started = time.perf_counter()
            figures = _run(args)
            rows.append(
                {
                    "command": command,
                    "leads": leads,
                    **figures,
                    "wall": time.perf_counter() - started,
                    "load": max(load, os.getloadavg()[0]),
                }
            )
    from handoff.aws.tables import STATE_SHARDS

    stored = item_sizes()
    return {"rows": rows, "sizes": stored, "units": read_units(1_000_000, stored, STATE_SHARDS)}


def _met(ok: bool, goal: str) -> str:
    return "met" if ok else f"missed ({goal})"


def section(r: dict[str, Any]) -> list[str]:
    """B8 in BENCHMARKS.md."""
    from bench.cost import PRICES
    from handoff.aws.tables import STATE_SHARDS

    rows = cast(list[dict[str, Any]], r["rows"])
    sizes, units = cast(ItemSizes, r["sizes"]), cast(dict[str, float], r["units"])
    price = PRICES["read_unit"]
    usd = units["total"] * price.usd / price.per

    def goal(row: dict[str, Any]) -> str:
        if row["leads"] != max(SIZES):
            return ""
        time_ok = _met(row["seconds"] <= GOAL_SECONDS, f"<= {GOAL_SECONDS} s")
        return f"time {time_ok}; RSS {_met(row['peak_mb'] <= GOAL_MB, f'<= {GOAL_MB:,} MB')}"

    kinds = ", ".join(
        f"{kind} {size:,.0f} bytes on average ({share:.1%} of the history, {per:.2f} units of 4 KB each)"
        for kind, (share, size, per) in zip(("nurtured", "touched", "ladder"), sizes["mix"], strict=True)
    )
    return [
        "## B8: history scaling (`handoff report` and `handoff tune --history FILE.jsonl`, each in a fresh process)",
        "",
        "| command | leads | wall s | CPU s | peak RSS MB | load average (2 cores) | goal |",
        "|---|---:|---:|---:|---:|---:|---|",
        *[
            f"| {row['command']} | {row['leads']:,} | {row['seconds']:.0f} | {row['cpu_seconds']:.0f} "
            f"| {row['peak_mb']:.0f} | {row['load']:.1f} | {goal(row)} |"
            for row in rows
        ],
        "",
        *NOTES,
        "",
        *_against_goal(rows),
        "### Read units for one tuning run at 1M leads on the deployed table",
        "",
        f"Item sizes as the local stack stores leads (attribute names and values, AWS's rules: bench/meter.py): {kinds}. "
        f"A by_received entry (keys only: lead_id, received_month, received_at) is {sizes['index_entry_bytes']} bytes.",
        "",
        "| read | calls | read units |",
        "|---|---:|---:|",
        f"| Query by_received (keys only; 4 months x {STATE_SHARDS} shards in a 90-day window, 1 MB pages, eventually consistent) "
        f"| {units['query_calls']:,.0f} | {units['query_units']:,.0f} |",
        f"| BatchGetItem, 100 leads a call (each item rounded up to 4 KB, eventually consistent) "
        f"| {units['batch_calls']:,.0f} | {units['batch_units']:,.0f} |",
        f"| **total** ({units['units_per_lead']:.2f} a lead; ${usd:.3f} a run at ${price.usd:g} per million read request units) "
        f"| | **{units['total']:,.0f}** |",
        "",
        *READ_NOTES,
        "",
        "The tuning Lambda reads the same leads from the table: validating a stored lead (`LeadRecord`) and",
        f"making it a row (`from_record`) takes {sizes.get('record_us', 0):.0f} us of CPU a lead here, on top of the pass",
        f"above minus the file's parse (about 50 us), so the function spends about {_lambda_ratio(rows, sizes):.0f} times the CLI's CPU",
        "per lead before its reads' own wait: docs/deploy.md section 10 sizes one function from that.",
        "",
    ]


def _cli_us(rows: list[dict[str, Any]]) -> float:
    """CPU microseconds a lead of the largest report run."""
    largest = max((r for r in rows if r["command"] == "report"), key=lambda r: r["leads"])
    return float(largest["cpu_seconds"]) / float(largest["leads"]) * 1e6


def _lambda_ratio(rows: list[dict[str, Any]], sizes: ItemSizes) -> float:
    cli = _cli_us(rows)
    return float(sizes.get("record_us", 0) + cli - 50) / cli


def _against_goal(rows: list[dict[str, Any]]) -> list[str]:
    largest = [r for r in rows if r["leads"] == max(SIZES)]
    if not largest:
        return []
    cpu, load = max(r["cpu_seconds"] for r in largest), max(r["load"] for r in largest)
    return [
        f"Against the goal at 1M: at most {cpu:.0f} s of CPU ({_cli_us(rows):.0f} us a lead) and peak RSS well under",
        f"1 GB, with the load average at {load:.1f} on 2 cores: the wall time is that CPU stretched by sharing the cores,",
        "and CPU time itself runs slower on a contended core. What limits it: parsing the JSON line (the",
        "standard library's C parser) and building the row are about half of each lead's time, the rest",
        "is the pass's own arithmetic, already on arrays and caches. Left: parse in a second process (this",
        "machine has two cores, the 1,769 MB Lambda one), or a faster JSON parser (orjson: not a dependency).",
        "",
    ]


NOTES = [
    "The 40k history is `handoff history generate --leads 40000`; 400k and 1M repeat it with distinct",
    "event ids and contacts (bench/history.py). Wall time is the command's own, after imports; CPU is",
    "the process's user + system time, the figure to compare when the machine is shared (the load",
    "column: other benchmarks and test runs shared these 2 cores). One pass reads the file line by",
    "line; memory holds compact arrays (tens of bytes a lead), never rows. Per lead, about 20 us parse",
    "the JSON line, 30 us build the row without validation (one plan per row shape: which fields are",
    "given, defaulted or extra), 25 us the KPI accumulators and what qualify reads of the lead (the",
    "exclusion check and the fit criteria cached by their inputs), and 15 us the replays of tune's",
    "proposals (intents computed once per set of intent weights: fit and min_fit proposals reuse them).",
    "Before issue 20: 23 s and 360 MB at 40k, 229 s and 3.3 GB at 400k, 597 s and 8.2 GB for tune at 1M.",
]
READ_NOTES = [
    "The earlier estimate (three times a history row, 3.7 KB, one unit a lead) missed that many touched",
    "leads pass 4 KB and that a lead which ran the ladder takes two units; the mix above is measured.",
]


def replace_section(name: str, section: list[str]) -> None:
    """Put ``section`` in BENCHMARKS.md in place of the one headed ``## <name>:``; a new one goes
    before B10 (or last)."""
    path = REPO_ROOT / "BENCHMARKS.md"
    lines = path.read_text().split("\n")
    start = next((i for i, line in enumerate(lines) if line.startswith(f"## {name}:")), None)
    if start is None:
        at = next((i for i, line in enumerate(lines) if line.startswith("## B10")), len(lines))
        lines = [*lines[:at], *section, *lines[at:]]
    else:
        end = next((i for i in range(start + 1, len(lines)) if lines[i].startswith("## ")), len(lines))
        lines = [*lines[:start], *section, *lines[end:]]
    path.write_text("\n".join(lines))


def only(name: str) -> int:
    """`python -m bench B8` or `B9`: run that benchmark alone and rewrite its section in place."""
    from bench import sweeps

    lines = section(run()) if name == "B8" else sweeps.section(sweeps.run())
    replace_section(name, lines)
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    if sys.argv[1:] == ["sizes"]:
        from handoff.aws.tables import STATE_SHARDS

        stored = item_sizes()
        print(json.dumps({"sizes": stored, "units": read_units(1_000_000, stored, STATE_SHARDS)}, indent=2))
        sys.exit(0)
    wanted = tuple(int(n) for n in sys.argv[1:]) or SIZES
    print(json.dumps(run(wanted), indent=2))
