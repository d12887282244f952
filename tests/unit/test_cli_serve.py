"""`handoff serve` talks to the CRM endpoints the environment names, as a deployed function does."""

from __future__ import annotations

import subprocess
import sys

import pytest

from handoff.cli import _parser


def test_serve_uses_the_crm_endpoints_set_in_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HANDOFF_HUBSPOT_API_BASE", "https://api.hubapi.com")
    monkeypatch.setenv("HANDOFF_SALESFORCE_LOGIN_URL", "https://test.salesforce.com")
    args = _parser().parse_args(["serve"])
    assert (args.hubspot_api, args.salesforce_login) == (
        "https://api.hubapi.com",
        "https://test.salesforce.com",
    )


def test_serve_starts_local_fakes_when_nothing_is_set(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("HANDOFF_HUBSPOT_API_BASE", raising=False)
    monkeypatch.delenv("HANDOFF_SALESFORCE_LOGIN_URL", raising=False)
    args = _parser().parse_args(["serve"])
    assert (args.hubspot_api, args.salesforce_login) == ("", "")  # empty: LocalStack starts its fakes
    explicit = _parser().parse_args(["serve", "--hubspot-api", "http://127.0.0.1:9"])
    assert explicit.hubspot_api == "http://127.0.0.1:9"


# A child that waits for the stop signal while another of its threads receives SIGTERM, as the
# kernel may choose any thread of a busy `handoff serve` for a signal sent to the process.
SIGNAL_ON_ANOTHER_THREAD = """
import signal, threading
from handoff.cli import wait_for_stop_signal

def send():
    threading.Event().wait(0.3)  # after the main thread is waiting
    signal.pthread_kill(threading.get_ident(), signal.SIGTERM)

threading.Thread(target=send, daemon=True).start()
wait_for_stop_signal()
print("stopped")
"""


def test_serve_stops_when_a_signal_lands_on_another_thread() -> None:
    done = subprocess.run(
        [sys.executable, "-c", SIGNAL_ON_ANOTHER_THREAD],
        check=False,
        capture_output=True,
        text=True,
        timeout=20,
    )
    assert (done.returncode, done.stdout.strip()) == (0, "stopped"), done.stderr
