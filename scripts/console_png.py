"""Screenshots of the ops console for the README: docs/console.png (the now-queue, laptop width)
and docs/console-lead.png (the top of a lead's page, phone width), in headless Chromium through
Playwright.

    .venv/bin/python scripts/console_png.py

It runs `handoff serve` with the demo config and roster, sends the example webhooks, waits until
the sales-ready leads are briefed, signs in as the local RevOps user and photographs the pages.
"""

from __future__ import annotations

import json
import secrets
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from handoff.local.chromium import chromium  # noqa: E402
from handoff.local.client import HandoffClient  # noqa: E402
from handoff.local.serve_process import serving  # noqa: E402

OUT = ROOT / "docs"
LAPTOP = {"width": 1280, "height": 760}
PHONE = {"width": 390, "height": 1700}
EXAMPLES = sorted((ROOT / "examples" / "webhooks" / "generic").glob("*.json"))
SECRETS = {
    "HANDOFF_GENERIC_SECRET": secrets.token_hex(16),
    "HANDOFF_GENERIC_TOKEN": secrets.token_hex(16),
    "HANDOFF_API_KEY": secrets.token_hex(16),
}


def main() -> int:
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory() as scratch, serving(Path(scratch), SECRETS) as running:
        client = HandoffClient.for_secrets(running.url, SECRETS)
        briefed = []
        for path in EXAMPLES:
            answer = client.post_generic(json.loads(path.read_text()))
            lead_id = str(answer.body.get("lead_id", ""))
            if answer.status == 202 and client.get_lead(lead_id).body.get("status") != "nurture":
                briefed.append(client.wait_for(lead_id, {"notified"}))
        revops = next(user for user in running.users if user.role == "revops")
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=chromium(), args=["--no-sandbox"])
            page = browser.new_page(base_url=running.url, viewport=LAPTOP)
            page.goto("/console/login")
            page.get_by_label("Email").fill(revops.username)
            page.get_by_label("Password").fill(revops.password)
            page.get_by_role("button", name="Sign in").click()
            page.wait_for_url("**/console")
            page.screenshot(path=str(OUT / "console.png"))
            page.set_viewport_size(PHONE)
            page.goto(f"/console/leads/{briefed[0]['lead_id']}")
            page.screenshot(path=str(OUT / "console-lead.png"))
            browser.close()
    for name in ("console.png", "console-lead.png"):
        print(f"wrote docs/{name} ({(OUT / name).stat().st_size // 1024} KB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
