"""X-Ray traces carry no personal data and no secret.

The X-Ray SDK patches libraries process-wide, so each case runs in a fresh interpreter set up as
Lambda runs it (task root and trace header set, tracing on), with an emitter that keeps every
entity that would be sent to X-Ray.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

from tests.conftest import ROOT

SCRIPT = r"""
import json, sys, threading, urllib.request
from http.server import BaseHTTPRequestHandler, HTTPServer
from aws_xray_sdk.core import xray_recorder

sent = []
class Keep:
    def send_entity(self, entity):
        sent.append(entity.serialize())
    def set_daemon_address(self, address):
        pass
    @property
    def ip(self):
        return "127.0.0.1"
    @property
    def port(self):
        return 2000
xray_recorder.configure(emitter=Keep(), sampling=False, context_missing="LOG_ERROR")

class Ok(BaseHTTPRequestHandler):
    def do_POST(self):
        self.rfile.read(int(self.headers["Content-Length"]))
        self.send_response(200); self.end_headers(); self.wfile.write(b"ok")
    def log_message(self, *args):
        pass
server = HTTPServer(("127.0.0.1", 0), Ok)
threading.Thread(target=server.serve_forever, daemon=True).start()
SLACK_URL = f"http://127.0.0.1:{server.server_port}/services/T0/B0/SLACK-SECRET-TOKEN"

from handoff.observability import traced, tracer  # patches what Handoff traces, as in Lambda

def handler(event, context):
    urllib.request.urlopen(urllib.request.Request(SLACK_URL, data=b"{}", method="POST"), timeout=5)
    if event.get("fail"):
        raise ValueError("lead jane.doe@example.com was refused")
    return {"contact": {"email": "jane.doe@example.com", "phone": "+1 555 0100"}}

class Context:
    function_name = "t"; memory_limit_in_mb = 128; aws_request_id = "r"
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:t"

wrap = {"handoff": traced, "powertools-default": tracer.capture_lambda_handler}[sys.argv[1]]
for event in ({}, {"fail": True}):
    try:
        wrap(handler)(event, Context())
    except ValueError:
        pass
print(json.dumps(sent))
"""


def traces(wrapper: str) -> str:
    env = {
        **os.environ,
        "POWERTOOLS_TRACE_DISABLED": "false",
        "POWERTOOLS_SERVICE_NAME": "t",
        "LAMBDA_TASK_ROOT": str(ROOT),
        "_X_AMZN_TRACE_ID": "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1",
    }
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT, wrapper],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return done.stdout.strip().splitlines()[-1]


def test_traces_hold_no_response_no_error_text_and_no_url() -> None:
    emitted = traces("handoff")
    segments = json.loads(emitted)
    assert sum("## handler" in s for s in segments) == 2  # it did trace both invocations
    for secret in ("jane.doe@example.com", "555 0100", "SLACK-SECRET-TOKEN", "/services/T0"):
        assert secret not in emitted, secret


def test_the_harness_sees_what_a_default_tracer_would_leak() -> None:
    """Powertools' defaults record the response and the exception: the check above has teeth."""
    emitted = traces("powertools-default")
    assert "jane.doe@example.com" in emitted
