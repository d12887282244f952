"""The system Chromium, for the screenshots (scripts/) and the browser tests: installed from
Debian's packages if missing. Playwright drives it; its own browser download is never needed."""

from __future__ import annotations

import shutil
import subprocess


def chromium() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found:
        return found
    print("installing chromium from Debian's packages ...", flush=True)
    subprocess.run(["apt-get", "install", "-y", "-q", "chromium"], check=True)  # noqa: S607
    return shutil.which("chromium") or "chromium"
