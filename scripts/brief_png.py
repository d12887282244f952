"""Render the sample brief to docs/brief.png in headless Chromium (installed from Debian if missing).

    .venv/bin/python scripts/brief_png.py

The brief is built exactly as the notify Lambda builds it, from examples/webhooks/generic/01-*.json,
at a fixed time so the picture does not change between runs.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from handoff.config import load_config  # noqa: E402
from handoff.domain.lead import Lead  # noqa: E402
from handoff.domain.qualify import qualify  # noqa: E402
from handoff.domain.record import Assignment, LeadRecord, Sla  # noqa: E402
from handoff.email.brief import LINK_OUTCOMES, Link, build_brief  # noqa: E402
from handoff.email.render import render_brief  # noqa: E402
from handoff.local.chromium import chromium  # noqa: E402

NOW = datetime(2026, 11, 2, 15, 4, 30, tzinfo=UTC)
OUT = ROOT / "docs" / "brief.png"
CHROMIUM_FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync", "--hide-scrollbars",
]  # fmt: skip


def sample_html() -> str:
    config = load_config(ROOT / "config" / "handoff.toml")
    body = json.loads(next((ROOT / "examples" / "webhooks" / "generic").glob("01-*.json")).read_text())
    lead = Lead.model_validate(body)
    record = LeadRecord.from_lead(lead, qualify(lead, config.qualify, NOW), NOW)
    record.assignment = Assignment(
        rep_id="rep-ana", rep_email="ana.ortiz@example.com", rep_name="Ana Ortiz", pool="sales",
        rule="account_owner", reason="Known account, account owner: Ana Ortiz (1/6 open)", assigned_at=NOW,
        rep_timezone="America/New_York",
    )  # fmt: skip
    record.sla = Sla(due_at=NOW + timedelta(minutes=5), seconds=300)
    links = [
        Link(label=label, url=f"https://handoff.example.com/v1/d/sample-{code}")
        for code, label in LINK_OUTCOMES
    ]
    return render_brief(build_brief(record, config, NOW, links)).html


def main() -> int:
    with tempfile.TemporaryDirectory() as scratch:
        page = Path(scratch) / "brief.html"
        page.write_text(sample_html(), encoding="utf-8")
        # Phone width, and tall enough for the whole brief with every outcome button.
        size = "--window-size=390,1400"
        command = [
            chromium(),
            *CHROMIUM_FLAGS,
            f"--user-data-dir={scratch}/profile",
            size,
            f"--screenshot={OUT}",
        ]
        subprocess.run([*command, page.as_uri()], check=True, capture_output=True)  # noqa: S603
    print(f"wrote {OUT.relative_to(ROOT)} ({OUT.stat().st_size // 1024} KB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
