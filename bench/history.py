"""B8: history scaling: `handoff report` and `handoff tune` on 40k, 400k and 1M leads, with time
and peak RSS (each run in a fresh interpreter; RSS as B2 measures it, ru_maxrss of the child).

The 40k history is `handoff history generate --leads 40000`; larger ones repeat it with each copy's
event ids and contact emails made distinct (the generator routes every lead through the real
router, about 1 ms a lead here, so a generated million takes longer than the runs it feeds). The
files are cached by size under $HANDOFF_BENCH_HISTORY (default: the temp dir).
Also: the read units one tuning run costs at 1M leads on the deployed table (``read_units``).
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

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
print("B8", code, time.perf_counter() - started, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
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
    _, code, seconds, mb = next(line for line in out.stdout.splitlines() if line.startswith("B8 ")).split()
    if code != "0":
        raise RuntimeError(out.stdout[-2000:])
    return {"seconds": float(seconds), "peak_mb": float(mb)}


def read_units(leads: int, item_kb: float, shards: int, months: int = 3) -> dict[str, float]:
    """Read units for one tuning run over ``leads`` leads (eventually consistent reads: half a unit
    per 4 KB). The Query on the keys-only index returns ~100-byte entries (lead id, month key,
    received_at) in 1 MB pages: 0.5 unit per 4 KB of entries. BatchGetItem costs each item its own
    size rounded up to 4 KB, at half a unit."""
    entry_bytes = 100
    query_units = math.ceil(leads * entry_bytes / 4096) * 0.5 + months * shards * 0.5
    batch_units = leads * math.ceil(item_kb / 4) * 0.5
    return {
        "query_units": query_units,
        "batch_units": batch_units,
        "total": query_units + batch_units,
        "query_calls": math.ceil(leads * entry_bytes / 1_048_576) + months * shards,
        "batch_calls": math.ceil(leads / 100),
    }


def item_kb() -> float:
    """A handed-off lead's stored size with its timeline, from the sample record B6 prices."""
    sample = REPO_ROOT / "examples" / "history-sample.jsonl"
    line = sample.read_text().splitlines()[0]
    # A stored lead carries its record, timeline and index attributes: about three times its row.
    return round(3 * len(line.encode()) / 1024, 1)


def run(sizes: tuple[int, ...] = SIZES) -> dict[str, object]:
    config = str(REPO_ROOT / "config" / "handoff.toml")
    rows = []
    for leads in sizes:
        path = history(leads)
        for command in ("report", "tune"):
            args = [command, "--history", str(path), "--quiet", "--config", config]
            if command == "tune":
                args += ["--out", str(FOLDER / f"tune-{leads}")]
            started = time.perf_counter()
            figures = _run(args)
            rows.append(
                {"command": command, "leads": leads, **figures, "wall": time.perf_counter() - started}
            )
    from handoff.aws.tables import STATE_SHARDS

    size = item_kb()
    return {"rows": rows, "item_kb": size, "units": read_units(1_000_000, size, STATE_SHARDS)}


if __name__ == "__main__":
    wanted = tuple(int(n) for n in sys.argv[1:]) or SIZES
    print(json.dumps(run(wanted), indent=2))
