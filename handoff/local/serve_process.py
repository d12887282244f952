"""`handoff serve` in a process of its own, as a person runs it: for the end-to-end and browser
tests and the console screenshot. Its output goes to a file (a pipe nobody drains would stall the
server once it filled); the local sign-ins it prints are read back from there."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from handoff.deploy.functions import REPO_ROOT
from handoff.local.console_users import ConsoleUser
from handoff.local.stack import free_port

START_SECONDS = 60
# A clean stop takes about 3 s (the workflow threads and moto's server wind down); on a machine
# loaded by parallel test workers, several times that. Past its own budget (40 s) `handoff serve`
# prints every thread's stack and exits 1, which this reports with its output.
STOP_SECONDS = 60
# `handoff serve` prints one line per local sign-in: role, username, password.
SIGN_IN_LINE = re.compile(r"^\s+(revops|manager)\s+(\S+@\S+)\s+(\S+)\s*$")


@dataclass(frozen=True)
class Running:
    url: str  # the HTTP API; the console is under /console
    aws_url: str
    outbox: Path
    log: Path
    users: tuple[ConsoleUser, ...]


@contextmanager
def serving(
    workdir: Path,
    secrets: Mapping[str, str],
    *,
    config: Path = REPO_ROOT / "examples" / "demo.toml",
    reps: Path = REPO_ROOT / "examples" / "reps.csv",
    sla_check_every: float = 1,
) -> Iterator[Running]:
    """Start `handoff serve` under ``workdir`` (its outbox, log and working directory), wait
    until it answers, and stop it with SIGTERM afterwards; a non-zero exit is an error."""
    outbox, log_path, cwd = workdir / "outbox", workdir / "serve.log", workdir / "cwd"
    outbox.mkdir(parents=True, exist_ok=True)
    cwd.mkdir(parents=True, exist_ok=True)
    port, aws_port = free_port(), free_port()
    env = {**os.environ, **secrets, "PYTHONUNBUFFERED": "1"}
    env.pop("AWS_ENDPOINT_URL", None)
    with log_path.open("w") as log:
        process = subprocess.Popen(  # noqa: S603 - this interpreter, fixed arguments
            [
                sys.executable, "-m", "handoff.cli", "serve",
                "--port", str(port), "--aws-port", str(aws_port),
                "--config", str(config), "--reps", str(reps),
                "--outbox", str(outbox), "--sla-check-every", str(sla_check_every),
            ],
            cwd=cwd, env=env, stdout=log, stderr=subprocess.STDOUT, text=True,
        )  # fmt: skip
        url = f"http://127.0.0.1:{port}"
        try:
            text = _wait_until_up(process, url, log_path)
        except BaseException:
            process.kill()
            raise
        users = tuple(
            ConsoleUser(m[2], m[3], m[1]) for line in text.splitlines() if (m := SIGN_IN_LINE.match(line))
        )
        try:
            yield Running(url, f"http://127.0.0.1:{aws_port}", outbox, log_path, users)
        finally:
            process.send_signal(signal.SIGTERM)
            try:
                code = process.wait(timeout=STOP_SECONDS)
            except subprocess.TimeoutExpired:
                process.kill()
                tail = log_path.read_text()[-20_000:]
                raise AssertionError(f"handoff serve ignored SIGTERM; its output ended:\n{tail}") from None
    if code != 0:
        raise AssertionError(f"handoff serve exited {code}:\n{log_path.read_text()}")


def _wait_until_up(process: subprocess.Popen[str], url: str, log_path: Path) -> str:
    """The output so far, once the server printed its banner and answers /health."""
    deadline = time.monotonic() + START_SECONDS
    while True:
        text = log_path.read_text()
        if "Ctrl-C stops." in text:
            try:
                with urllib.request.urlopen(f"{url}/health", timeout=1):  # noqa: S310 - loopback
                    return text
            except OSError:
                pass
        if process.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError(f"handoff serve did not start:\n{text}")
        time.sleep(0.2)
