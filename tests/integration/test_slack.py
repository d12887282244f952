"""Slack, against a local HTTP server that records what it receives."""

from __future__ import annotations

import json
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any

import boto3
import pytest

from handoff.aws import container
from handoff.email.brief import LINK_OUTCOMES
from handoff.local.loopback import LoopbackServer
from tests.integration.conftest import TEST_CONFIG, Aws, rep


class Recorder(LoopbackServer):
    def __init__(self) -> None:
        self.received: list[tuple[str, dict[str, Any]]] = []
        self.status = 200
        recorder = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                return

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                recorder.received.append((self.path, json.loads(body)))
                self.send_response(recorder.status)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

        super().__init__(Handler, name="slack-recorder")


@pytest.fixture
def slack(aws: Aws, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Recorder]:
    recorder = Recorder()
    recorder.start()
    config = tmp_path / "slack.toml"
    enabled = TEST_CONFIG.replace("enabled = false\nteam_secret", "enabled = true\nteam_secret")
    assert enabled != TEST_CONFIG
    config.write_text(enabled)
    monkeypatch.setenv("HANDOFF_CONFIG_PATH", str(config))
    secrets = boto3.client("secretsmanager")
    secrets.put_secret_value(SecretId="handoff/slack-webhook", SecretString=f"{recorder.url}/team")
    secrets.create_secret(Name="handoff/slack-rep-r2", SecretString=f"{recorder.url}/r2")
    container.reset()
    yield recorder
    recorder.stop()


def test_the_brief_goes_to_the_team_channel_with_link_buttons(
    aws: Aws, slack: Recorder, hot_lead: dict[str, Any]
) -> None:
    aws.put_reps(rep("r1"))
    _, body = aws.post_lead(hot_lead)
    lead = aws.wait_for_event(body["lead_id"], "slack_posted")
    [(path, message)] = slack.received
    assert path == "/team"
    assert message["text"].startswith("HOT lead: Jordan Lee")
    kinds = [b["type"] for b in message["blocks"]]
    assert kinds == ["header", "section", "section", "section", "context", "actions"]
    buttons = [e["text"]["text"] for e in message["blocks"][-1]["elements"]]
    assert buttons == ["Open in HubSpot", *(label for _, label in LINK_OUTCOMES)]
    assert "No answer" in buttons and "Sales accepted" in buttons
    assert all(
        e["url"].startswith(("https://app.hubspot.com", "https://handoff.test/d/"))
        for e in message["blocks"][-1]["elements"]
    )
    assert lead["status"] == "notified"


def test_a_rep_with_their_own_webhook_gets_it_there(
    aws: Aws, slack: Recorder, hot_lead: dict[str, Any]
) -> None:
    aws.put_reps(rep("r2", slack_secret="slack-rep-r2"))
    _, body = aws.post_lead(hot_lead)
    aws.wait_for_event(body["lead_id"], "slack_posted")
    assert [path for path, _ in slack.received] == ["/r2"]


def test_slack_failing_never_blocks_the_handoff(aws: Aws, slack: Recorder, hot_lead: dict[str, Any]) -> None:
    slack.status = 500
    aws.put_reps(rep("r1"))
    _, body = aws.post_lead(hot_lead)
    lead = aws.wait_for_event(body["lead_id"], "slack_failed")
    assert lead["status"] == "notified"
    assert "Slack answered 500" in next(e["detail"] for e in lead["timeline"] if e["event"] == "slack_failed")


def test_crm_text_is_escaped_for_slack(aws: Aws, slack: Recorder, hot_lead: dict[str, Any]) -> None:
    hot_lead["contact"]["title"] = "<!channel> <https://evil.example|click>"
    aws.put_reps(rep("r1"))
    _, body = aws.post_lead(hot_lead)
    aws.wait_for_event(body["lead_id"], "slack_posted")
    text = json.dumps(slack.received[0][1])
    assert "<!channel>" not in text and "&lt;!channel&gt;" in text
