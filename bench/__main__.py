"""Run every benchmark and write BENCHMARKS.md (machine, date, commit, figures)."""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, TypeVar, cast

from bench import artifacts, burst, cold_start, cost, latency, memory, speed_to_lead, throttled, throughput
from handoff.deploy.functions import REPO_ROOT

T = TypeVar("T")


def _mb(value: object) -> str:
    return f"{float(str(value)):.0f}" if value else "-"


def _met(ok: bool, goal: str) -> str:
    return "met" if ok else f"missed ({goal})"


def _zero(found: int) -> str:
    return _met(found == 0, "0")


def _commit() -> str:
    out = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"],  # noqa: S607 - git from PATH, as a developer runs it
        check=False,
        capture_output=True,
        text=True,
        cwd=REPO_ROOT,
    )
    return out.stdout.strip() or "unknown"


def _timed(label: str, run: Callable[[], T], took: dict[str, float]) -> T:
    print(f"{label} ...", flush=True)
    started = time.perf_counter()
    result = run()
    took[label.split(maxsplit=1)[0]] = time.perf_counter() - started
    return result


def _b1(rows: list[dict[str, object]]) -> list[str]:
    lines = [
        "## B1: cold start (import and initialise each handler, fresh interpreter, median of 10)",
        "",
        "| what | ms | ratio to the floor | goal |",
        "|---|---:|---:|---|",
    ]
    for row in rows:
        what, ratio = str(row["what"]), float(str(row["ratio"]))
        goal = "" if what.startswith("floor") else _met(ratio <= 1.3, "<= 1.3x")
        lines.append(f"| {what} | {float(str(row['ms'])):.0f} | {ratio:.2f}x | {goal} |")
    return [
        *lines,
        "",
        "Measured as Lambda runs it: tracing on, and LAMBDA_TASK_ROOT set, so the X-Ray SDK takes its",
        "Lambda path (without it, the SDK builds two centralized-sampling clients at import, about 100 ms",
        "that Lambda never spends; earlier runs counted them). What limits it (from `python -X importtime`,",
        "qualify): boto3 itself (about 60 ms, half the floor), Powertools' event handler (about 50 ms; its",
        "package imports every resolver), pydantic with the config and lead models (about 70 ms), and",
        "Powertools' logger, metrics and tracer (about 20 ms). Tried: nothing heavy runs at import",
        "(clients, secrets and config load on first use); Tracer patches only botocore and http.client",
        "(patching every supported library imported requests and sqlite3: about 15 ms); the layer drops",
        "what the runtime ships (botocore, boto3); the OpenAPI models load only when the document is",
        "built (about 30 ms on qualify and disposition). Left: 1.3x would mean dropping the Event Handler",
        "or the pydantic models, both stated requirements.",
        "",
    ]


def _b2(b2: dict[str, object]) -> list[str]:
    baseline = float(str(b2["baseline_mb"]))
    rows = cast(list[dict[str, Any]], b2["rows"])
    return [
        "## B2: peak memory (RSS, MB)",
        "",
        f"Each function in a fresh interpreter on moto; moto and the provisioned resources alone take "
        f'{baseline:.0f} MB, which Lambda does not carry, so "own" subtracts it. Goal: at most 100 MB.',
        "",
        "| function | after init | after 100 warm invocations | own, after init | own, warm |",
        "|---|---:|---:|---:|---:|",
        *[
            f"| {r['function']} | {r['init_mb']:.0f} | {_mb(r['warm_mb'])} | {r['init_mb'] - baseline:.0f} | "
            + (f"{r['warm_mb'] - baseline:.0f} |" if r["warm_mb"] else "not measured |")
            for r in rows
        ],
        "",
    ]


def _b3(b3: dict[str, Any]) -> list[str]:
    rows = cast(list[throughput.TeamRow], b3["by_team"])

    def goal(row: throughput.TeamRow) -> str:
        return "" if row["goal"] is None else _met(row["per_second"] >= row["goal"], f">= {row['goal']:,.0f}")

    return [
        "## B3: domain throughput (qualify + route decision, pure CPU, one core; rates per CPU second)",
        "",
        f"{b3['per_second']:,.0f} leads/s ({b3['us_per_lead']:.0f} us per lead, the best of rounds of "
        f"{throughput.BATCH} over {b3['leads']:,} leads): "
        + ("goal of 5,000/s met." if b3["per_second"] >= 5000 else "goal of 5,000/s missed."),
        "",
        "By team size (issue 20): the same leads, routed among that many reps (a third in EMEA, the rest in",
        "sales, one in 25 also a manager; one in 7 full, one in 11 out of office, one in 13 inactive).",
        "Rules beyond the config's are ones no sample lead matches, placed first so every lead tests them all.",
        "",
        "| reps | territory rules | leads/s/core | us per lead | goal | whole plan, leads/s/core | reps in its considered list |",
        "|---:|---:|---:|---:|---|---:|---:|",
        *[
            f"| {r['reps']:,} | {r['rules']} | {r['per_second']:,.0f} | {r['us_per_lead']:,.0f} | {goal(r)} "
            f"| {r['whole_plan_per_second']:,.0f} | {r['considered']:,} |"
            for r in rows
        ],
        "",
        "Rates are the best round of 20 leads per CPU second; three of each five leads are sales-ready and",
        "routed. A routed lead is decided as the service decides it: the plan, its first candidate, and",
        "what the assignment records of who was skipped. The router plans a pool's overflow and the",
        "manager queue only when every candidate before them fails to take the lead, and ranks a pool",
        "only as far as the claims get; the whole plan, as `handoff route --explain` and the replays make",
        "it, ranks and lists everyone. Before issue 20 this table read about 12 leads/s at 500 reps and 1",
        "at 2,000 whatever the rules (every skip searched the considered list, and each pool step tested",
        "`rep not in eligible` on a list with pydantic's field-by-field `==`); a first pass made it linear,",
        "at about 3 us a rep of the lead's pool (1,311/s at 500 reps, 313 to 459 at 2,000). Now a pool's",
        "reps are weighed in one pass of plain reads (availability and the pool clock together, each date",
        "and calendar looked up once a decision), its first candidate is found without a sort and built",
        "alone (the rest only if a claim fails), and only the skipped reps an assignment names become",
        "records: about 0.9 us a rep of the lead's pool (at 2,000 reps: 0.1 us a rep of the roster to",
        "find the pool, 0.4 to 0.7 to weigh each, 0.3 to rank each rep who can take it; 1 us for each of",
        "the 50 skipped reps named and 0.3 for each counted), on top of about 220 us a lead to validate,",
        "qualify and record it (the 5-rep row, less its 30 us of routing) whatever the team. A territory",
        "rule costs about 0.5 us a routed lead (30 us at 100 rules). What limits it: at 500 reps, 2,000/s",
        "leaves 500 us a lead, of which those 220 us and 0.6 routed leads x (30 us + 280 reps of the",
        "lead's pool x 0.9 to 1.1 us) take about 400 to 430, so the margin is a tenth to a fifth; at 2,000",
        "reps the 1,100 reps of the pool, each read and weighed in Python once a decision, cost about",
        "1 ms a routed lead, twice inside the 500/s goal. The 5,000/s of the first line is out of reach",
        "while validating a lead takes about 100 us (half of it the email address's check) and",
        "qualifying it about 75. Keeping a pool's turn order between decisions would cut the per-rep",
        "cost further, but every claim this function makes changes the roster it holds, so in the",
        "service it would be rebuilt for almost every lead; it is not done.",
        "",
    ]


def _b4(b4: dict[str, dict[str, float]]) -> list[str]:
    return [
        f"## B4: local speed to lead ({speed_to_lead.LEADS} leads each way, seconds)",
        "",
        "| run | p50 | p95 | p99 |",
        "|---|---:|---:|---:|",
        *[f"| {name} | {f['p50']:.3f} | {f['p95']:.3f} | {f['p99']:.3f} |" for name, f in b4.items()],
        "",
        "Handoff's share is received_at to the brief's send as recorded on the lead (qualify, the workflow's",
        "route and notify steps, SES); the round trip adds the sender's POST and polling for the result.",
        "Everything runs on moto in one process. The sequential run times our handlers per lead (qualify,",
        "route, notify, each including its calls to moto); the rest of the round trip is moto's Step",
        "Functions emulator moving between states, the local HTTP front and the sender's polling.",
        "",
    ]


def _shares(reps: list[burst.RepShare]) -> tuple[list[str], float]:
    """The per-rep table, and the largest miss against the weighted share."""
    rows, worst = [], 0.0
    for rep in reps:
        expected = rep["expected"]
        off = "capacity binds" if expected is None else f"{rep['assigned'] - expected:+.1f}"
        worst = max(worst, abs(rep["assigned"] - expected) if expected is not None else 0.0)
        share = "-" if expected is None else f"{expected:.1f}"
        rows.append(
            f"| {rep['rep_id']} | {rep['weight']:g} | {rep['capacity']:,} | {rep['open_leads']} | {rep['assigned']} | {share} | {off} |"
        )
    return rows, worst


def _b5(r: burst.BurstResult) -> list[str]:
    rep_rows, worst = _shares(r["reps"])
    statuses = ", ".join(f"{n} {s}" for s, n in sorted(r["statuses"].items()))
    post = r["post_ms"]
    return [
        f"## B5: burst ({r['deliveries']:,} deliveries from {r['senders']} concurrent senders, "
        f"{burst.DUPLICATE_SHARE:.0%} exact re-deliveries, shuffled; local stack)",
        "",
        f"{r['unique']:,} unique events. The last of the deliveries was answered {r['post_seconds']:.0f} s after the burst began "
        f"(POST p50 {post['p50']:.0f} ms, p95 {post['p95']:.0f} ms, p99 {post['p99']:.0f} ms; answers "
        + ", ".join(f"{n:,} x {code}" for code, n in r["answers"].items())
        + f"; {r['retries']} retries); the last brief went out at {r['drain_seconds']:.0f} s "
        f"({r['unique'] / r['drain_seconds']:.1f} leads handed off per second). Leads by status: {statuses}.",
        "",
        "| check (from the leads table, GET /reps and the outbox) | found | goal |",
        "|---|---:|---|",
        f"| unique events not handed off (lost) | {r['lost']} | {_zero(r['lost'])} |",
        f"| events answered with two lead ids, or none | {r['split_answers']} | {_zero(r['split_answers'])} |",
        f"| leads beyond one per unique event | {r['extra_leads']} | {_zero(r['extra_leads'])} |",
        f"| leads assigned or briefed twice | {r['assigned_twice']} | {_zero(r['assigned_twice'])} |",
        f"| emails in the outbox, for {r['unique']:,} events | {r['emails']:,} | {_met(r['emails'] == r['unique'], 'one each')} |",
        f"| reps over capacity | {r['capacity_violations']} | {_zero(r['capacity_violations'])} |",
        f"| reps whose open count differs from their leads | {r['slot_mismatches']} | {_zero(r['slot_mismatches'])} |",
        f"| largest miss of a weighted share, capacity not binding | {worst:.1f} leads | {_met(worst <= 1, '<= 1 lead')} |",
        "",
        "| rep | weight | capacity | open (GET /reps) | leads naming the rep | weighted share | off by |",
        "|---|---:|---:|---:|---:|---:|---:|",
        *rep_rows,
        "",
        f"The EMEA rep's capacity ({burst.EMEA_CAPACITY}) binds on purpose: every {burst.EMEA_EVERY}th event is from GB,",
        "and once that rep is full the config's overflow sends EMEA leads into the sales pool, whose 3:2:1",
        "weights are what the share is checked against (each rep's share of that pool's total).",
        "Under contention a router that lost the exact fair turn takes one of the pool's next six turns at",
        "random, moving that rep's clock one turn on from where it stands; the pool's clock is the latest",
        "start taken on an exact turn, so a rep that took a lead early does not cost the others their",
        "place (handoff.service.routing, handoff.domain.route). The same machine, the same hour, before",
        "that change (c3cabf5): the last brief at 105 s and the largest miss 9.0 leads. moto applies a",
        "conditional write in steps without a lock,",
        "unlike DynamoDB; the local stack applies its DynamoDB requests one at a time",
        "(handoff.local.dynamodb_process), else two concurrent claims can lose an increment.",
        "",
    ]


def _plain(number: float) -> str:
    """A price as written on the pricing page: 0.0000133334, not 1.33334e-05."""
    return f"{number:.10f}".rstrip("0").rstrip(".")


def _quantity(s: cost.Scenario, item: str) -> float:
    return next(line["quantity"] for line in s["lines"] if line["item"] == item)


def _money(usd: float) -> str:
    return f"${usd:.4f}" if usd < 0.01 else f"${usd:.3f}"


def _scenario(s: cost.Scenario, goal: float | None) -> list[str]:
    verdict = f" (goal of at most ${goal:.2f}: {_met(s['total_usd'] <= goal, 'over')})" if goal else ""
    return [
        f"### {s['name']}: {_money(s['total_usd'])} per 1,000 leads{verdict}",
        "",
        f"Measured over {s['leads']} leads after a warm-up lead; {s['transitions']:g} state transitions per lead"
        + (f"; {s['unmetered']} AWS calls could not be sized and count as nothing" if s["unmetered"] else "")
        + (f"; not priced: calls to {', '.join(s['unpriced'])}" if s["unpriced"] else "")
        + ".",
        "",
        "| item | quantity per 1,000 leads | unit | USD per 1,000 leads | basis |",
        "|---|---:|---|---:|---|",
        *[
            f"| {line['item']} | {line['quantity']:,.{4 if line['quantity'] < 1 else 0}f} | {line['unit']} | {_money(line['usd'])} | {line['basis']} |"
            for line in s["lines"]
        ],
        f"| **total** | | | **{_money(s['total_usd'])}** | measured + estimated |",
        f"| total with every container cold | | | {_money(s['all_cold_usd'])} | + worst case |",
        "",
        "| function | memory MB | invocations per lead | wall ms (local) | CPU ms (local) | projected billed ms |",
        "|---|---:|---:|---:|---:|---:|",
        *[
            f"| {u['function']} | {u['memory_mb']} | {u['per_lead']:g} | {u['wall_ms']:.0f} | {u['cpu_ms']:.1f} | {u['billed_ms']:.0f} |"
            for u in s["functions"]
        ],
        "",
    ]


def _b6(r: cost.CostResult) -> list[str]:
    touched, ladder = r["scenarios"]
    return [
        f"## B6: cost per 1,000 leads handed off on AWS (us-east-1 list prices as of {r['prices_as_of']})",
        "",
        "Fed by the synthesized template (each function's memory and architecture, the tables' on-demand",
        f"billing and indexes, a {r['workflow_type']} workflow, the log settings) and by metering handlers on the",
        "local stack. Lambda duration is projected: the handler thread's CPU slowed to the vCPU share its",
        "memory buys (1,769 MB = 1 vCPU), plus its waits on AWS calls (moto's, here). DynamoDB request units",
        "come from the item's size before and after each write, with every index entry it puts, changes or",
        "deletes ([AWS's rules](https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/GSI.html#GSI.ThroughputConsiderations)).",
        "Transitions are states entered plus task retries, from each execution's history. Logs are the",
        "handlers' lines at the deployed level and their EMF metrics, Lambda's START/END/REPORT lines, the",
        "workflow's events (level ALL, no data) and one API access-log line per request.",
        "",
        *_scenario(touched, r["goal_usd"]),
        *_scenario(ladder, None),
        f"The ladder is the worst case, not the goal's case: {_quantity(ladder, 'SES emails') / 1000:g} emails "
        f"and {ladder['transitions']:g} transitions for a lead nobody touches (brief, reminder and escalation,",
        "twice, then re-nurture). Fewer rungs in [escalation] make it cheaper.",
        "",
        "| price | USD | per | source |",
        "|---|---:|---:|---|",
        *[f"| {p.unit} | {_plain(p.usd)} | {p.per:,} | {p.source} |" for p in r["prices"].values()],
        "",
        "Not included: " + " ".join(r["excluded"]),
        "",
    ]


def _budget(b: latency.Budget, b4: dict[str, dict[str, float]]) -> list[str]:
    sequential = next((f["p50"] for name, f in b4.items() if name.startswith("sequential: Handoff")), None)
    hbr_seconds = b["hbr_hours"] * 3600
    return [
        "## Projected AWS latency budget per step (webhook to brief)",
        "",
        "Not measured on AWS. Per-call latencies are AWS's published figures where there is one and stated",
        "assumptions where there is not; each Lambda's CPU and AWS calls are B6's, its cold start B1's, both",
        "slowed to the function's vCPU share.",
        "",
        "| step | warm ms | extra ms when cold |",
        "|---|---:|---:|",
        *[f"| {row['step']} | {row['warm_ms']:.0f} | {row['cold_ms']:.0f} |" for row in b["rows"]],
        f"| **webhook to brief** | **{b['warm_ms']:.0f}** | **{b['cold_ms']:.0f}** with every function cold |",
        "",
        "| per call | ms | source |",
        "|---|---:|---|",
        *[f"| {s.what} | {s.ms:g} | {s.source} |" for s in b["steps"].values() if s.ms],
        "",
        f"Against the anchors: {b['anchor']}. That is {hbr_seconds:,.0f} s; the projection is "
        f"{b['warm_ms'] / 1000:.1f} s warm and {b['cold_ms'] / 1000:.1f} s cold, about "
        f"{round(hbr_seconds / (b['cold_ms'] / 1000), -3):,.0f} times sooner even cold. Routing vendors claim leads reach a rep",
        '"within seconds"; the projection sits inside that, cold or warm, before the email\'s own delivery'
        + (f". Locally (B4) the sequential median was {sequential:.2f} s on moto." if sequential else "."),
        "",
    ]


def _size(size: float) -> str:
    return f"{size / artifacts.MB:.2f} MB" if size >= artifacts.MB / 10 else f"{size / artifacts.KB:.1f} KB"


def _b7(r: artifacts.ArtifactsResult) -> list[str]:
    def goal(a: artifacts.Artifact) -> str:
        return (
            "" if a["goal"] is None else _met(a["zipped"] <= a["goal"], "over") + f" (<= {_size(a['goal'])})"
        )

    return [
        "## B7: artifact sizes (zipped as CDK zips them: deflate at zlib's default level)",
        "",
        "CDK's staged assets from a fresh synth (asset excludes applied); 1 MB = 1,048,576 bytes, 1 KB = 1,024.",
        "",
        "| artifact | zipped bytes | zipped | unzipped | files | goal |",
        "|---|---:|---:|---:|---:|---|",
        *[
            f"| {a['name']} | {a['zipped']:,} | {_size(a['zipped'])} | {_size(a['unzipped'])} | {a['files']:,} | {goal(a)} |"
            for a in r["artifacts"]
        ],
        "",
        "Biggest in the layer, zipped: "
        + ", ".join(f"{name} {_size(size)}" for name, size in r["layer_top"])
        + ".",
        "",
    ]


B10_NOTES = [
    "This run's machine, and the time goals. The run above (0482767) meets the 1/s goal (1,057 s,",
    "goal 1,060 s, no lead over) and still misses the 14/s goal: 149 s (goal 131 s, 147 leads over).",
    "On the same machine the B10 at 4b5c07e measured 147 s (120 over) and 1,054 s (none over).",
    "`python3 -m timeit 'sum(range(1000))'` took 15 to 27 us through the day (24.8 us as this run",
    "began), and single 1,000-lead runs at 14/s of one commit differ by 10 s or more here. Since",
    "4b5c07e (each with a test that fails without it):",
    "- Routing (91d74fb, 1ef2229). A router that lost the exact turn takes one of the pool's next six",
    "  turns at random, and its claim moves that rep's clock one turn on from where it stands, in",
    "  the claim's one write. The pool's clock is the latest start taken on an exact turn (each rep",
    "  records it), so a rep that took leads off the turn does not cost the others their place.",
    "  Claims a lead at 14/s: 3.59 to 1.92; DynamoDB calls in a 1,000-lead run: 14,207 to 12,306.",
    "  B5's largest miss of a weighted share: 9.0 leads to 1.0, the same machine in the same hour.",
    "  An exact claim matches the clock it read within 1e-9: DynamoDB's decimal sum of a third of a",
    "  turn, read back as a float, differs in the last bits (a B5 run without this failed 36 leads).",
    "- Local stack only (1ef2229): moto's per-service request router and service model are built",
    "  once under a lock. The first burst of briefs built SES v2's router 32 times over 300 leads",
    "  (3.2 s of CPU); a 300-lead run's slowest brief went from 50 s to 35 s.",
    "  Single 1,000-lead runs at 14/s with these: 144, 145, 133 and 144 s. The last POST was",
    "  answered at 48 s instead of 73 s, but the drain then briefed about 8.5 leads a second either",
    "  way, with the stack's process busy throughout: at 14/s the goal needs about a quarter less",
    "  CPU a lead in that process, more than any one change found here gives.",
    "Between 283f0d3 and 4b5c07e, on the same machine: the B10 at 283f0d3 measured 179 s (295 over)",
    "and 1,067 s (2 over), and the one at d7ab5f8 197 s (375 over) and 1,061 s (1 over); 4b5c07e",
    "measured 147 s and 1,054 s, with `python3 -m timeit` at 25.6 us just before. What changed:",
    "- The local DynamoDB counts an item's size once per write, when its attributes are all set",
    "  (9e97452). moto counted the whole item each time it set an attribute: a lead's PutItem",
    "  counted it some forty times. PutItem's CPU in the DynamoDB process went from 5.6 to 3.6 ms.",
    "  An update past 400 KB now leaves the item as it was, as DynamoDB does.",
    "- DynamoDB calls skip the SDK's own check of each call against the service model (ad3dd28;",
    "  botocore documents it as a performance setting): 1.12 to 0.91 ms of client CPU an UpdateItem.",
    "Where the time goes at 14/s (1,000 leads, runs between those commits). The handler threads'",
    "own CPU a lead: qualify 14 to 16 ms, route 37 to 39, notify 40 to 49, await_touch 7 to 8. A run",
    "used 128 to 134 s of CPU in the stack's process and about 110 s in the DynamoDB process: 1.5 of",
    "the 2 cores. Route makes 7.6 to 7.9 DynamoDB calls a lead and notify 4.1 to 4.5; each waited",
    "0.2 to 0.7 s on average, mostly in line for the DynamoDB process's lock, which was held 66 to",
    "75% of the run. Under it a lead's UpdateItem (3 a lead) takes 11 to 12 ms of CPU, a rep's claim",
    "4 to 4.6 ms (3.4 to 3.7 a lead, about 2.3 of them refused: with three reps, routers working at",
    "once plan the same exact turn), a Query 6 to 7.5 ms; moto's dispatch of each request, outside",
    "the lock, is about 30% of that process's CPU. In the stack's process botocore is about half of",
    "the interpreter's time: a DynamoDB call's client side costs 0.9 to 1.7 ms even with a canned",
    "answer. Tried and not kept: a 1 ms interpreter switch interval in the stack's process (161 s)",
    "and 50 ms in the DynamoDB process (178 s), neither above the noise; a leaner parser for the",
    "forwarded calls' HTTP would save about 0.1 ms a call.",
    "Between d7ab5f8 and 283f0d3, single 14/s runs, one change at a time, took 165, 157, 168 and",
    "157 s (a fifth, at 20edcbe, overlapped another run and is not counted). What changed then:",
    "- Route ran 1.42 to 1.56 times a lead (300 leads at 14/s): a contact lookup or claim throttled",
    "  past the SDK's tries failed the step, and the workflow started it again to read and plan all",
    "  over. Both are now tried again in the step for about 4 s, as the must-land writes are: 1.00.",
    "- A sender that saw the send schedule's free moment ahead of now moves it on first (the moment",
    "  only ever moves on, so it is a floor), instead of a refused restart then a move.",
    "- A claim off its exact turn writes the fairness clock only when its own answer shows the clock",
    "  behind (refused clock writes 0.47 to 0.12 a lead). Parking the workflow's token reads the lead",
    "  back in the same write (ReturnValues ALL_NEW), one GetItem a lead fewer.",
    "- Local stack only: the DynamoDB process's connections are pooled for every thread (the",
    "  workflow runs each step on a new thread, so one kept per thread served one step); moto's",
    "  REST operation router is built once under a lock (a burst's first briefs had each built SES",
    "  v2's: 23 threads, 0.5 to 2.4 s each); the drain polls a small progress report.",
    "Counted in the DynamoDB process (400 leads at 14/s): 16.4 DynamoDB calls a lead before, 14.8",
    "after (300 leads). What is left is mostly the exact fair turn: about 1.9 claims a lead are",
    "refused because another router took that rep's turn first, and half the leads take their rep",
    "off the exact turn after three refusals. A claim that counted every lead without the exact turn",
    "(ADD on the clock) would take one write, but two routers at once would both win the same turn,",
    "the pool's clock would move past the other reps, and they would lose their place (the pool",
    "clock resets a rep behind it, so absence is never banked): weighted shares would drift in a",
    "burst, so it was not done (91d74fb does it, with the pool's clock kept at the latest exact",
    "start, so the others keep their place). Sampled every second, the stack's process used 0.85 of a core and",
    "the DynamoDB process 0.70 through a 14/s run, of 2.",
    "At 1/s the pacing margin (2%) alone takes 20 s of the 60 s slack.",
    "After that run, c39449c: a sender whose floor of the send schedule's free moment is already",
    "further ahead than it may wait writes nothing (neither write could hold). 300 leads at 14/s:",
    "14.0 DynamoDB calls a lead (16.4 at d7ab5f8, 400 leads), send-schedule writes 2.25",
    "a lead (3.2 at d7ab5f8). One 1,000-lead run at 14/s after it took 185 s, with",
    "`python3 -m timeit 'sum(range(1000))'` then at 16 to 23 us: within this machine's spread.",
    "The full B10 at 003b3c7 (2026-12-02) met both time goals: slowest brief 85 s",
    "at 14/s (p50 43 s, p95 77 s, the last POST answered 39 s after the first) and 1,036 s at 1/s,",
    "no lead over either goal, 0 failed or doubled (but one lead lost at 1/s, found later: below).",
    "On 2026-12-03 the 14/s case alone took",
    "196 s at 003b3c7 and 176 s in each of two runs at 5ef2f93, which changed only sla_check's",
    "throttled sweeps, a dropped connection to the DynamoDB process and the outbox's file names.",
    "On this machine `python3 -m timeit 'sum(range(1000))'` takes 23 to 27 us, a pure Python",
    "loop's time varies by half from run to run, and one GetItem through the local stack takes",
    "3.4 ms (0.6 ms measured on the machine before). Sampled every second, the stack's two processes used",
    "1.6 to 1.8 of its 2 cores through the drain, each holding its interpreter about 60% of the",
    "time. So the time goals measure the CPU the local stack runs on; on AWS each invocation",
    "and DynamoDB have their own.",
    "",
    "A lead lost, and hidden. In 2 of 5 runs of the 14/s case alone on this machine (5ef2f93), and",
    "in the 1/s case of the full B10 at 003b3c7, the outbox held 999 emails for 1,000 leads. One",
    "delivery had been answered 202 with another contact's lead id, and its own lead was never",
    "made. Powertools' Event Handler keeps the request it resolves on a class attribute",
    "(BaseRouter.current_event): safe on Lambda, where a sandbox runs one invocation at a time, but",
    "not in the local stack, where a function's invocations run side by side on threads. 8388fa6",
    "keeps it per thread there (handoff/local/router_state.py, with a test that fails without it).",
    "B10's check counted handed-off statuses by answer, so the lead answered twice counted twice",
    "and 'leads lost' said 0. It now counts distinct leads, and an event answered with another",
    "event's lead id is a split answer. So an earlier run's 'lost 0' holds only where its outbox",
    "held one email per lead (not 003b3c7 at 1/s: 999).",
    "",
    "What limits each figure. POST to brief at 14/s: the local stack's CPU; on the machine before,",
    "SES's rate, nearly (1,000 sends at 14/s take 71 s). The local stack's DynamoDB now",
    "runs in a process of its own (003b3c7, handoff/local/dynamodb_process.py), as DynamoDB is a",
    "service of its own on AWS. Before, every handler, moto and the workflow threads shared one",
    "process (one interpreter, on one core at a time), which was busy from the first lead to the",
    "last (sampled every second), and moto's DynamoDB was about a third of its CPU. 1,000 leads at",
    "14/s, one run each: slowest brief 156 s (the full B10 at 781bbd7, 163 leads over the goal),",
    "then 89 s, none over. The same change found a defect of the local stack: its in-process answer",
    "to AWS calls could be registered twice as a botocore hook, harmless while an answered request",
    "was readdressed to AWS, and a double write once it was forwarded to the child (B10's write",
    "capture counted 44 write units a lead instead of 29, 3 of them refused). Both are fixed, with",
    "a test that fails without the fix. The forwarded calls also went out with Nagle's algorithm",
    "on, and each waited 40 ms on a delayed acknowledgement (1.1 ms a call with TCP_NODELAY; 0.6 ms",
    "in the one process).",
    "Since the B10 before that (2e68a07: 14/s slowest brief 235 s, 433 leads over the goal; 1/s",
    "1,072 s, 14 over), on this machine:",
    "- Python's garbage collector (a9bcb4f, handoff/local/collector.py). The one process holds",
    "  some 400,000 long-lived objects before the first lead, and every full collection walked them",
    "  all: half a second each, every few hundred writes, with every thread stopped. While a stack",
    "  runs, what existed at its start is frozen and collections come less often. 300 leads at",
    "  14/s: 175 to 109 ms of CPU a lead, slowest brief 52 to 28 s; 1,000 leads: 205 s (under",
    "  py-spy) before, 146 s in the first run after.",
    "- A workflow step past the local Lambda limit waits in line for a slot, up to 120 s (781bbd7;",
    "  it was 5 s). Refused after 5 s, steps sat in the retrier's back-off (up to 20 s, jittered)",
    "  while slots came free, and the last leads of the burst were routed some 50 s after the CPU",
    "  stopped being busy. 1,000 leads at 14/s, one run each: 192 s, then 158 s.",
    "- Fewer writes and reads a lead, on AWS too: route and reassign carry their timeline notes",
    "  (the write-back refusal, 'reassigned') in the assignment's own write (cfde2f4; 33 to 29 write",
    "  units a lead here), and an account's owner is read once when the contact's email domain is",
    "  the company's (72658c9; 2 to 1 GetItem a lead).",
    "- moto's UpdateItem parses each update expression once and copies its tree directly, and a",
    "  Query no longer sorts the whole table first (fc0c78f, 68c9873, 61dba1e); each saves a few",
    "  percent of CPU, within the spread between runs.",
    "Runs of one commit on this machine differ by 20% or more: 1,000 leads at 14/s alone measured",
    "145 to 194 s from a9bcb4f to 68c9873. At 1/s the goal leaves 40 s for everything but the sends",
    "themselves (1,000 x 1.02 s = 1,020 s). API Gateway's invocations run in 8 local slots of their",
    "own, so the first brief goes out some seconds after the first POST; a delivery that finds no",
    "slot within 60 s gets a 503 and its sender tries again (5 did at 14/s at 8388fa6, on the",
    "slower machine, each answered 202 on its next try, and none in the run above; on AWS each",
    "would run at once).",
    "",
    "Woken early enough. A handed-back brief's step is woken 8 to 9 s before its moment; it was",
    "4 to 5 s. Steps woken while the burst was still being routed came late, no brief was ready",
    "when SES's bucket refilled, and the sandbox's quota went unused. The 1/s case alone, one run",
    "each (a fresh process): at 4 s, slowest brief 1,096 s, 32 leads over the goal, SES idle 95 s",
    "(64 s of it in the first 200 s, while 67 and 64 briefs went out per 100 s); at 8 s, 1,049 s, no",
    "lead over the goal, SES idle 48 s (20 s of it in the first 200 s; 20 s in all is the 2% margin).",
    "In a full run the 1/s case follows the 14/s case in the same process, on a fresh local stack:",
    "at 4 s it missed the goal (1,077 and 1,080 s in two full runs), at 8 s it missed by 46 s at",
    "c258d9f (1,106 s), by 3 s at 4e2f4cf (1,063 s) and by 12 s at 2e68a07 (1,072 s), and met it",
    "at 781bbd7 (1,040 s), 003b3c7 (1,036 s) and 5ef2f93 (1,058 s, on the slower machine), and",
    "missed it by 5 s at 8388fa6 (1,065 s), by 1 s at d7ab5f8 (1,061 s) and by 7 s at 283f0d3",
    "(1,067 s), all three on the slower machine, and met it at 4b5c07e (above, 1,054 s),",
    "with the CPU the burst's routing no longer took. On AWS a woken step starts at",
    "once, but a cold start and a throttled write can take seconds; the longer sleep costs about",
    "2 cents more per thousand briefs.",
    "",
    "Pacing. Email goes out at the rate SES reports for the account (GetAccount; the wire reports",
    "the bucket's rate), on one send schedule every function shares (a DynamoDB item,",
    "handoff/aws/pacing.py): each brief takes its moment, 2% further apart than the rate; one more",
    "than 5 s off is handed back and the workflow waits for it (UntilSendMoment, running nothing).",
    "The woken step takes its turn on the sends' own clock (a second item) before its moment, so a",
    "DynamoDB throttling burst delays that write and not the send, and a late step does not land on",
    "the heels of the send before it. A turn more than 5 s off is taken and the brief handed back",
    "holding it (without it a 1,000-lead run at 1/s made about 28 GetItem and 26 UpdateItem calls",
    "per lead, briefs woken again and again to ask a clock that had moved on; at 14/s, 5 and 10). A",
    "send SES refuses is tried again after 50 ms and 100 ms, inside its gap, then at its next turns;",
    "a refusal had cost a whole turn. Tried and dropped:",
    "- Six short pauses after a refusal (50 to 150 ms) instead of two: one full run at 1/s met 916",
    "  refusals on 155 leads, and its slowest brief took 1,094 s.",
    "- A gate before each SES call (a conditional write of the last send's moment). Its write's own",
    "  round trip came between the mark and the call, so it turned the round trip's jitter into",
    "  refusals (109 and 197 in two 1,000-lead runs at 1/s, against 26 without it), and with the",
    "  SDK's retries a throttled mark held the send through the DynamoDB burst.",
    "",
    "Routing and the local stack (earlier sessions).",
    "- A router that loses a rep's turn re-plans from the rep as the refusal found it",
    "  (ReturnValuesOnConditionCheckFailure), reads the contact's open handoff and the account's",
    "  owner once per step, and keeps its roster after a claim off its exact turn. DynamoDB requests",
    "  per lead in a 500-lead run at 14/s: 29 before, 18 after (GetItem 12.3 to 5.1, Query 3.9 to",
    "  1.3, Scan 1.3 to under 0.2). That is cheaper on AWS too.",
    "- A handler asleep (a brief waiting in its step for its moment, a back-off) lends its local",
    "  Lambda slot and takes it back at once when woken. The 24 slots guard the process's CPU; at",
    "  14 emails a second some 120 briefs sleep in their step at once, and holding slots they would",
    "  cap the sends near 3 a second. On AWS they are far inside the account's 1,000.",
    "- Earlier sessions: the crm_sync poller long-polls through one client, and moto's DynamoDB",
    "  writes item answers with json.dumps and converts each item once",
    "  (handoff/local/emulator_dynamodb.py, with tests that read every answer back equal to moto's).",
    "",
    "Sizes. The 1,000-lead burst first completed in 22 minutes, before the fixes below; then it",
    "stopped completing, each attempt held up by the next limit of the local stack (thread dumps:",
    "kill -USR1 on `python -m bench.throttled 1000`; profiles with py-spy). Each was fixed:",
    "- Timed-out starts: 469 StartExecution calls got no answer and each lead was marked failed,",
    "  for a person. A start that gets no answer may have started, and its name (the lead id) makes",
    "  a second start harmless, so such a lead now stays routing and sla_check starts it or finds it",
    "  running (handoff/service/intake.py, with tests). That is a fix for AWS too.",
    "- Each of a burst's first requests built its own boto3 client and secrets provider: one of",
    "  each per container now, made under a lock (handoff/aws/container.py).",
    "- In the emulator (handoff/local/emulator.py, handoff/local/lambdas.py): moto picked each",
    "  request's service under one global lock and listed its package directory to do it; it built",
    "  a JSONPath parser for every path a state reads, and the evaluation components for every",
    "  execution; every workflow step went through a new boto3 client and moto's own server; and",
    "  every index Query sorted the whole table with Python-level comparisons under the DynamoDB",
    "  lock. Each is now done once, or in-process, with the same results.",
    "- The local stack keeps Lambda's concurrency limit (24 steps at once; past it a step waits in",
    "  line, up to 5 s then and 120 s since 781bbd7, then TooManyRequestsException, which the workflow",
    "  waits out; a freed slot goes to a later step before a Route, since on AWS all would run at",
    "  once), API Gateway's 29 s",
    "  integration timeout (a 503 with Retry-After; on AWS too, a throttled or late function is now",
    "  a 503 in Handoff's error contract, not a bare 500 or 504), and a listen backlog of 1,024.",
    "",
    "Rep slots. The run before the ledger ended with one rep's open count one off at 14/s. Each rep",
    "now keeps the leads holding its slots (holds) beside open_count, both changed in one conditional",
    "write: a claim for a lead the rep holds counts nothing, a release for one it does not hold changes",
    "nothing, an assignment write whose answer was lost keeps its slot, and a retried Reassign step",
    "gives the last owner's slot back (handoff/aws/reps.py, handoff/service/routing.py; each with a",
    "test that fails without it). A run with a rep off by one names the leads where its ledger and",
    "its leads differ (slot_ledgers in `python -m bench.throttled`'s JSON).",
    "Before the run above, one rep was one off at 14/s in five runs out of seven (and at 1/s once).",
    "The ledger showed a rep holding a lead briefed to another rep, and the lead's timeline named",
    "only that other rep. So a Route step took a slot and failed before the lead named the rep; its",
    "retry, routed afresh, took another rep's slot. Three ways that happened, each fixed with a test",
    "that fails without the fix (handoff/aws/reps.py, handoff/service/routing.py):",
    "- A claim off its exact turn (the busy-burst path) moves the rep's fairness clock in a second",
    "  write. Throttled past the SDK's tries, that write raised after the slot was taken and failed",
    "  the step. It no longer fails the claim (and since 91d74fb the claim moves the clock itself).",
    "- An assignment write that failed on anything but a throttle or a condition (here a connection",
    "  that moto's server reset; on AWS a 500 or a dropped connection) kept the slot. Any failed",
    "  write now gives it back, unless the lead, read afresh, names the rep.",
    "- A claim that gets no answer may have landed: the slot it may hold is given back before the",
    "  step fails.",
    "On the way: moto's server now listens with a backlog of 1,024 (werkzeug's 128 reset a burst's",
    "connections), starts of one execution name take turns in the emulator (moto checked the name",
    "before recording the execution), and a close or re-nurture gives the slot back before asking",
    "for the CRM write-back. A rep still off is listed under the table with its leads' timelines.",
    "",
    "Defects the first run found, each fixed with a test that fails without it:",
    "- A second brief: Notify sent, then the write recording the send was throttled past the SDK's",
    "  tries; the retried step found no record and sent again. A throttled write of the leads table",
    "  is now tried again in the step for about 4 s (handoff/aws/leads.py).",
    "- A leaked slot: a throttled assignment write kept the rep's claimed slot, and the retried Route",
    "  claimed a second. The slot is now given back on a throttled write, and a throttled release is",
    "  itself tried again (handoff/service/routing.py, handoff/aws/reps.py).",
    "",
    "Write units: the base table's share is the item's size times the writes a lead takes (each write",
    "is billed on the whole lead, 1 to 3 KB with its timeline and decisions); the index share is a",
    "delete and a put in by_open_status per status change, and the status that by_contact and",
    "by_crm_record project. The busiest key is one shard of a sharded state key: no key takes every",
    "lead's writes. Writes to the reps table (each claim, one item per rep) are not counted here.",
    "They grow with a rep's open leads: the item keeps the id of every lead holding one of its",
    "slots (holds), and a claim is billed on the whole item. In this burst three reps end up",
    "holding about 500, 330 and 170 leads, rep-a's item some 15 KB, so its later claims cost about",
    "15 write units each; on moto a claim takes 3.6 ms of CPU with no lead held and 6.7 ms with",
    "500. At a few dozen open leads a rep, as capacity keeps it, an item stays near 1 KB.",
]


def _b10(cases: list[throttled.Case]) -> list[str]:
    """B10's section (issue 22's proof): the burst under throttling, one column per SES rate."""
    fast = cases[0]

    def row(what: str, cell: Callable[[throttled.Case], str]) -> str:
        return f"| {what} | " + " | ".join(cell(c) for c in cases) + " |"

    def within(c: throttled.Case) -> str:
        return _met(c["latency"]["max"] <= c["goal_seconds"], f"<= {c['goal_seconds']:.0f} s")

    w = fast["writes"]
    return [
        "## B10: burst under throttling (issue 22; local stack, throttles injected at the wire)",
        "",
        f"Leads posted open-loop within {throttled.POST_WINDOW:.0f} s, each on its own sender (a 503, 429 or dropped",
        f"connection retried after Retry-After, {throttled.ATTEMPTS} tries). botocore hooks on the handlers' clients answer as AWS",
        "does when it throttles, before moto sees the call: SES SendEmail through a token bucket at the rate",
        "below (TooManyRequestsException past it), and GetAccount reporting that rate, which Handoff's",
        "senders pace at (each brief at its moment on the shared send schedule); DynamoDB UpdateItem,",
        "PutItem and Query on every table",
        f"refused for {throttled.DYNAMO_BURSTS.lasting:g} s every {throttled.DYNAMO_BURSTS.every:g} s "
        "(ProvisionedThroughputExceededException and ThrottlingException in turn);",
        f"StartExecution refused (ThrottlingException) for {throttled.START_BURSTS.lasting:g} s every "
        f"{throttled.START_BURSTS.every:g} s. sla_check runs every {throttled.SLA_CHECK_EVERY:.0f} s, the shortest rate",
        "EventBridge takes; the deployed schedule is every 5 minutes (see below). Each goal scales with",
        "its burst's size.",
        "",
        "| | " + " | ".join(f"SES at {c['ses_rate']:g}/s" for c in cases) + " |",
        "|---|" + "---:|" * len(cases),
        row("leads posted", lambda c: f"{c['leads']:,}"),
        row(
            "last POST begun / last answered (s after the first)",
            lambda c: f"{c['last_post_started']:.1f} / {c['last_answer']:.0f}",
        ),
        row(
            "answers; sender retries",
            lambda c: ", ".join(f"{n:,} x {k}" for k, n in c["answers"].items()) + f"; {c['sender_retries']}",
        ),
        row("goal: leads / SES rate + 60 s", lambda c: f"{c['goal_seconds']:.0f} s"),
        row("POST to brief, p50", lambda c: f"{c['latency']['p50']:.0f} s"),
        row("POST to brief, p95", lambda c: f"{c['latency']['p95']:.0f} s"),
        row("POST to brief, max", lambda c: f"{c['latency']['max']:.0f} s ({within(c)})"),
        row("leads briefed after the goal", lambda c: f"{c['over_goal']:,}"),
        row(
            "last brief (s after the first POST); briefs per second",
            lambda c: f"{c['drain_seconds']:.0f}; {c['leads'] / c['drain_seconds']:.1f}",
        ),
        row(
            "SES: throttled answers; leads that met one",
            lambda c: (
                f"{c['injected'].get('SES TooManyRequestsException', 0):,}; {c['ses_leads_throttled']:,}"
            ),
        ),
        row(
            "SES's share of the summed POST-to-brief time (longest wait)",
            lambda c: f"{c['ses_share']:.0%} ({c['ses_wait']['max']:.0f} s)",
        ),
        row(
            "DynamoDB calls refused; StartExecution calls refused",
            lambda c: (
                f"{sum(n for k, n in c['injected'].items() if k.startswith('DynamoDB')):,}; {sum(n for k, n in c['injected'].items() if k.startswith('StartExecution')):,}"
            ),
        ),
        row(
            "starts deferred by a throttle, started by sla_check",
            lambda c: f"{c['deferred_starts']:,}, {c['recovered']:,}",
        ),
        row("leads `failed` at the end (goal 0)", lambda c: f"{c['failed_now']} ({_zero(c['failed_now'])})"),
        row(
            "what the failed leads record",
            lambda c: "; ".join(f"{n} x {e}" for e, n in c.get("failures", {}).items()) or "-",
        ),
        row(
            "deliveries never answered, in every try (no lead made)", lambda c: f"{c['answers'].get('0', 0)}"
        ),
        row("leads ever `failed` (redriven by sla_check)", lambda c: f"{c['failed_ever']} ({c['redriven']})"),
        row("leads lost: not handed off (goal 0)", lambda c: f"{c['lost']} ({_zero(c['lost'])})"),
        row(
            "leads briefed twice by SES (goal 0)",
            lambda c: f"{c['briefs_doubled']} ({_zero(c['briefs_doubled'])})",
        ),
        row(
            "leads recording two briefs or a second assignment (goal 0)",
            lambda c: f"{c['assigned_twice']} ({_zero(c['assigned_twice'])})",
        ),
        row(
            "reps whose open count differs from their leads (goal 0)",
            lambda c: f"{c['slots_doubled']} ({_zero(c['slots_doubled'])})",
        ),
        row(
            "emails in the outbox; accepted by SES (briefs and others)",
            lambda c: f"{c['emails']:,}; {c['briefed'] + c['other_emails']:,}",
        ),
        "",
        *_astray(cases),
        f"Write units on the leads table, SES at {fast['ses_rate']:g}/s: {w['per_lead']:.1f} per lead "
        f"({w['base_per_lead']:.1f} on the table, the rest on its indexes; {w['refused']} refused conditions).",
        f"The busiest partition key is {w['busiest']}, with {w['busiest_share']:.2%} of them.",
        "",
        "| where | write units per lead | entries written per lead | partition keys | busiest key | its share of all units |",
        "|---|---:|---:|---:|---|---:|",
        f"| table (lead_id) | {w['base_per_lead']:.1f} | | {fast['leads']:,} | one lead | |",
        *[
            f"| {i['name']} | {i['per_lead']:.1f} | {i['entries_per_lead']:.1f} | {i['keys']:,} | {i['busiest']} | {i['share']:.2%} |"
            for i in w["by_index"]
        ],
        "",
        *B10_NOTES,
        "",
    ]


def _astray(cases: list[throttled.Case]) -> list[str]:
    """For each rep whose count is off: the leads where its ledger and its leads differ, each with
    its status and timeline (rep ids and reasons only)."""
    lines = []
    for case in cases:
        for rep in case["slot_ledgers"]:
            lines.append(
                f"At {case['ses_rate']:g}/s {rep['rep_id']} counted {rep['open_count']} open: it held "
                f"{len(rep['held_not_naming'])} lead(s) naming another rep, and {len(rep['naming_not_held'])} "
                "lead(s) named it without a slot:"
            )
            lines += [f"- {lead}: {' / '.join(story)}" for lead, story in rep.get("stories", {}).items()]
            lines.append("")
    return lines


def _rewrite(name: str, section: list[str], command: str) -> int:
    """Put one section in BENCHMARKS.md in place (bench.history.replace_section), stamped with the
    command, date and commit that wrote it."""
    from bench.history import replace_section

    section.insert(
        2,
        f"Section written by `{command}` on {datetime.now(UTC):%Y-%m-%d %H:%M} UTC at commit `{_commit()}`.",
    )
    section.insert(3, "")
    replace_section(name, section)
    print("\n".join(section))
    return 0


def only_b3() -> int:
    """`python -m bench B3`: run B3 alone and replace its section in BENCHMARKS.md in place."""
    return _rewrite("B3", _b3(throughput.run()), "python -m bench B3")


def only_b5() -> int:
    """`python -m bench B5`: run B5 (the burst, a few minutes) alone and replace its section in place."""
    return _rewrite("B5", _b5(burst.run()), "python -m bench B5")


def only_b10(sizes: list[str]) -> int:
    """`python -m bench B10 [leads at 14/s] [leads at 1/s]`: run B10 alone (at make bench's sizes
    unless given) and put its section in BENCHMARKS.md (last), in place."""
    counts = [int(size) for size in sizes]
    command = " ".join(["python -m bench B10", *sizes])
    cases = throttled.run(*counts)
    print("B10 " + json.dumps(cases, default=str))  # every figure, the ledgers' leads among them
    return _rewrite("B10", _b10(cases), command)


def main() -> int:
    from bench import history as history_bench  # B8
    from bench import sweeps  # B9

    if sys.argv[1:] == ["B3"]:
        return only_b3()
    if sys.argv[1:] == ["B5"]:
        return only_b5()
    if sys.argv[1:2] == ["B10"]:
        return only_b10(sys.argv[2:4])
    if sys.argv[1:] in (["B8"], ["B9"]):
        return history_bench.only(sys.argv[1])
    took: dict[str, float] = {}
    b3 = _timed("B3 domain throughput", throughput.run, took)
    b1 = _timed("B1 cold start", cold_start.run, took)
    b2 = _timed("B2 memory", memory.run, took)
    b4 = _timed("B4 local speed to lead", speed_to_lead.run, took)
    b5 = _timed("B5 burst", burst.run, took)
    init_ms = {str(row["what"]): float(str(row["ms"])) for row in b1}
    b6 = _timed("B6 cost per 1,000 leads", lambda: cost.run(init_ms), took)
    b7 = _timed("B7 artifact sizes", artifacts.run, took)
    b8 = _timed("B8 history scaling", history_bench.run, took)
    b9 = _timed("B9 sweep reads by open leads", sweeps.run, took)
    b10 = _timed("B10 burst under throttling", throttled.run, took)
    lines = [
        "# Benchmarks",
        "",
        f"Written by `make bench` on {datetime.now(UTC):%Y-%m-%d %H:%M} UTC at commit `{_commit()}`.",
        f"Machine: {platform.machine()}, {os.cpu_count()} cores, {platform.platform()}, Python {platform.python_version()}.",
        "Figures drift with machine noise: compare ratios taken in one run, not absolute times across runs.",
        "Run time: "
        + ", ".join(f"{k} {v:.0f} s" for k, v in took.items())
        + f"; {sum(took.values()) / 60:.1f} min in all.",
        "",
        *_b1(b1),
        *_b2(b2),
        *_b3(b3),
        *_b4(b4),
        *_b5(b5),
        *_b6(b6),
        *_budget(latency.run(b6, init_ms), b4),
        *_b7(b7),
        *history_bench.section(b8),
        *sweeps.section(b9),
        *_b10(b10),
    ]
    (REPO_ROOT / "BENCHMARKS.md").write_text("\n".join(lines))
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
