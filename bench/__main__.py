"""Run every benchmark and write BENCHMARKS.md (machine, date, commit, figures)."""

from __future__ import annotations

import os
import platform
import subprocess
import sys
from datetime import UTC, datetime

from bench import cold_start, memory, speed_to_lead, throughput
from handoff.functions import REPO_ROOT


def _mb(value: object) -> str:
    return f"{float(str(value)):.0f}" if value else "-"


def _commit() -> str:
    out = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"],  # noqa: S607 - git from PATH, as a developer runs it
        check=False,
        capture_output=True,
        text=True,
        cwd=REPO_ROOT,
    )
    return out.stdout.strip() or "unknown"


def main() -> int:
    print("B3 domain throughput ...", flush=True)
    b3 = throughput.run()
    print("B1 cold start ...", flush=True)
    b1 = cold_start.run()
    print("B2 memory ...", flush=True)
    b2 = memory.run()
    print("B4 local speed to lead ...", flush=True)
    b4 = speed_to_lead.run()
    lines = [
        "# Benchmarks",
        "",
        f"Written by `make bench` on {datetime.now(UTC):%Y-%m-%d %H:%M} UTC at commit `{_commit()}`.",
        f"Machine: {platform.machine()}, {os.cpu_count()} cores, {platform.platform()}, Python {platform.python_version()}.",
        "Figures drift with machine noise: compare ratios taken in one run, not absolute times across runs.",
        "",
        "## B1: cold start (import and initialise each handler, fresh interpreter, median of 10)",
        "",
        "| what | ms | ratio to the floor | goal |",
        "|---|---:|---:|---|",
    ]
    for row in b1:
        ratio = float(str(row["ratio"]))
        goal = "" if row["what"].startswith("floor") else ("met" if ratio <= 1.3 else "missed (<= 1.3x)")  # type: ignore[union-attr]
        lines.append(f"| {row['what']} | {float(str(row['ms'])):.0f} | {ratio:.2f}x | {goal} |")
    lines += [
        "",
        "What limits it (from `python -X importtime`): the X-Ray SDK behind Powertools Tracer (about 95 ms of",
        "its own, plus a botocore session it builds), Powertools' parser and event handler with validation,",
        "and building the pydantic models. Cutting these is issue 8's work.",
        "",
        "## B2: peak memory (RSS, MB)",
        "",
        f"Each function in a fresh interpreter on moto; moto and the provisioned resources alone take "
        f'{b2["baseline_mb"]:.0f} MB, which Lambda does not carry, so "own" subtracts it. Goal: at most 100 MB.',
        "",
        "| function | after init | after 100 warm invocations | own, after init | own, warm |",
        "|---|---:|---:|---:|---:|",
        *[
            f"| {r['function']} | {r['init_mb']:.0f} | {_mb(r['warm_mb'])} | "
            f"{r['init_mb'] - b2['baseline_mb']:.0f} | "
            + (f"{r['warm_mb'] - b2['baseline_mb']:.0f} |" if r["warm_mb"] else "not measured |")
            for r in b2["rows"]  # type: ignore[union-attr]
        ],
        "",
        "## B3: domain throughput (qualify + route decision, pure CPU, one core)",
        "",
        f"{b3['per_second']:,.0f} leads/s ({b3['us_per_lead']:.0f} us per lead over {b3['leads']:,} leads): "
        + ("goal of 5,000/s met." if b3["per_second"] >= 5000 else "goal of 5,000/s missed."),
        "",
        f"## B4: local speed to lead ({speed_to_lead.LEADS} leads each way, seconds)",
        "",
        "| run | p50 | p95 | p99 |",
        "|---|---:|---:|---:|",
    ]
    for name, figures in b4.items():
        lines.append(f"| {name} | {figures['p50']:.3f} | {figures['p95']:.3f} | {figures['p99']:.3f} |")
    lines += [
        "",
        "Handoff's share is received_at to the brief's send as recorded on the lead (qualify, the workflow's",
        "route and notify steps, SES); the round trip adds the sender's POST and polling for the result.",
        "Everything runs on moto in one process, so the emulator's own scheduling is inside both figures.",
        "",
    ]
    (REPO_ROOT / "BENCHMARKS.md").write_text("\n".join(lines))
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
