"""Dispatch moto's Lambda invocations to the real handlers, in-process.

The ASL's ``lambda:invoke`` tasks, and any Invoke sent to moto's Lambda API, land in the same
``functions/<name>/app.py`` handler that AWS runs, within Lambda's concurrency limit (scaled to
one process). The workflow's tasks call it directly rather than over moto's server.
"""

from __future__ import annotations

import importlib
import json
import logging
import sys
import threading
import time
import traceback
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from handoff.deploy.functions import ALL_FUNCTIONS, REPO_ROOT, ROUTE, FunctionSpec
from handoff.deploy.settings import function_scope
from handoff.local import emulator, router_state

REGION = "us-east-1"
ACCOUNT = "123456789012"


def function_name(spec: FunctionSpec, prefix: str = "handoff") -> str:
    return f"{prefix}-{spec.key.replace('_', '-')}"


def function_arn(spec: FunctionSpec) -> str:
    return f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{function_name(spec)}"


@dataclass
class LocalContext:
    """The attributes Powertools reads from a Lambda context."""

    function_name: str
    memory_limit_in_mb: int = 256
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    invoked_function_arn: str = ""
    log_group_name: str = "local"
    log_stream_name: str = "local"
    function_version: str = "$LATEST"

    def get_remaining_time_in_millis(self) -> int:
        return 30_000


def load_handler(spec: FunctionSpec) -> Any:
    # functions/ is not an installed package: in AWS each folder is its own asset.
    root = str(REPO_ROOT)
    if root not in sys.path:
        sys.path.insert(0, root)
    return importlib.import_module(spec.module).handler


def invoke(spec: FunctionSpec, event: Any) -> Any:
    from handoff.local import aws_calls

    context = LocalContext(function_name=function_name(spec), invoked_function_arn=function_arn(spec))
    handler = load_handler(spec)
    # As in its own container: the function sees only the settings its spec declares, and
    # (when recording, for the IAM grant test) its AWS calls are counted as its own.
    aws_calls.watch()
    with function_scope(spec):
        return handler(event, context)


class StillRunning(Exception):
    """The function had not answered when its caller stopped waiting (it runs on regardless)."""


def invoke_within(spec: FunctionSpec, event: Any, seconds: float) -> Any:
    """invoke, for a caller that waits only so long, as API Gateway waits for its integration:
    past ``seconds`` StillRunning is raised and the invocation finishes on its own thread.

    The invocation first takes one of the front door's slots (Throttled if none comes free within
    FRONT_DOOR_WAIT_SECONDS), and holds it until the function ends. The time spent waiting for
    it is not counted against ``seconds``: on AWS the function would start at once."""
    slots = _front_door
    if not slots.acquire(timeout=FRONT_DOOR_WAIT_SECONDS):
        raise Throttled
    answer: dict[str, Any] = {}

    def run() -> None:
        try:
            # Kept while asleep: a delivery sleeps only to back off from a throttled write, and
            # lent, its slot let every waiting delivery in to meet the same throttle (over a
            # hundred running at once when they woke).
            with _holding_a_slot(slots, lent_while_asleep=False):
                answer["result"] = invoke(spec, event)
        except Exception as exc:
            answer["error"] = exc

    worker = threading.Thread(target=run, name=f"invoke-{spec.key}", daemon=True)
    worker.start()
    worker.join(seconds)
    if worker.is_alive():
        raise StillRunning(f"{spec.key} did not answer within {seconds:g} s")
    if "error" in answer:
        raise answer["error"]
    return answer["result"]


_BY_NAME = {function_name(f): f for f in ALL_FUNCTIONS}


def spec_for(name_or_arn: str) -> FunctionSpec | None:
    return _BY_NAME.get(name_or_arn.rsplit(":function:", maxsplit=1)[-1].split(":", maxsplit=1)[0])


# Lambda runs at most so many of an account's invocations at once; past that a synchronous invoke
# is refused (TooManyRequestsException, 429), and every workflow step retries it with back-off
# (the ASL's throttle retrier). AWS's default is 1,000 a region; here every handler shares one
# process, so the local stack takes this many at once: a burst of a thousand leads then waits in
# the workflow's retries, as it would past the account's limit, rather than running a thousand
# handlers side by side until the emulator's own server stops answering.
LOCAL_CONCURRENCY = 24
# An invoke past the limit first waits this long for a slot, in line (a freed slot wakes the
# step of its rank that has waited longest), and only then is refused. AWS refuses at once, but
# AWS's limit is forty times this one: refused at once here, a thousand waiting steps retried
# every few seconds each, and those refusals took most of the process's CPU from the steps that
# had a slot. Refused after 5 s, a step waited out the workflow's back-off (up to 20 s, jittered)
# while slots came free, and a lead refused a few times was routed behind leads posted long
# after it: the last ones of a 1,000-lead burst at 14/s waited some 50 s in back-off with the
# CPU no longer busy (slowest brief 192 s; waiting in line, 158 s).
SLOT_WAIT_SECONDS = 120.0
# A step's turn for a freed slot: Route starts a lead's work, every later step finishes it.
FIRST_STEP, LATER_STEP = 0, 1
# The API's invocations (webhook deliveries, console pages) run in slots of their own, beside the
# workflow's. On AWS a burst's deliveries run each in its own sandbox, beside the steps of the
# leads already in; here they share one process's CPU. Unbounded, a thousand deliveries each on
# its own thread took it from the few leads already routed: at SES's 1/s the first brief of a
# 1,000-lead burst went out 37 s after the first POST, and some 50 s of the send schedule was
# lost while they ran. With 8 slots of their own, the first brief goes out about 7 s after it.
FRONT_DOOR_SLOTS = 8
# How long a delivery waits for one before the front answers as API Gateway answers when its
# function is throttled (INTEGRATION_FAILURE: 503, retry). Under the sender's own timeout.
FRONT_DOOR_WAIT_SECONDS = 60.0


class Slots:
    """Lambda's concurrency limit for the local stack: at most ``size`` invocations at once, and a
    freed slot goes to a waiting later step before a waiting Route.

    On AWS a burst's steps all run at once (the account's limit is forty times the local one), so
    a lead already routed is briefed while new leads are routed. Here a Route and a Notify wait for
    the same few slots; served in no order, the thousand waiting Routes took nearly every freed
    slot and the routed leads' briefs waited behind them (at SES's 1/s, 3 briefs in the first
    three minutes while 75 leads were ready). Work in progress first keeps the local order AWS's.
    """

    def __init__(self, size: int):
        self._free = size
        self._lock = threading.Lock()
        self._turns = {rank: threading.Condition(self._lock) for rank in (FIRST_STEP, LATER_STEP)}
        self._waiting = dict.fromkeys(self._turns, 0)

    def acquire(self, rank: int = LATER_STEP, timeout: float | None = None) -> bool:
        """A slot within ``timeout`` seconds (SLOT_WAIT_SECONDS if None), else False."""
        deadline = time.monotonic() + (SLOT_WAIT_SECONDS if timeout is None else timeout)
        with self._lock:
            self._waiting[rank] += 1
            try:
                while self._free <= 0 or any(self._waiting[r] for r in self._waiting if r > rank):
                    left = deadline - time.monotonic()
                    if left <= 0:
                        return False
                    self._turns[rank].wait(left)
                self._free -= 1
                return True
            finally:
                self._waiting[rank] -= 1
                self._wake()

    def release(self) -> None:
        with self._lock:
            self._free += 1
            self._wake()

    def reclaim(self) -> None:
        """Take back a slot lent while asleep, at once, past the limit if every slot is taken
        meanwhile: a step woken for its moment (an email's turn) must not wait behind others'
        work. Steps waiting for a slot then wait until the count is back under the limit."""
        with self._lock:
            self._free -= 1

    def _wake(self) -> None:
        """One waiter of the highest rank waiting, if a slot is free (the lock is held)."""
        if self._free > 0:
            for rank in sorted(self._waiting, reverse=True):
                if self._waiting[rank]:
                    self._turns[rank].notify()
                    return


_running = Slots(LOCAL_CONCURRENCY)
_front_door = Slots(FRONT_DOOR_SLOTS)
# The slots this thread holds one of, while it runs a handler (None: it runs none).
_holding = threading.local()
_sleep = time.sleep


def sleep_lending_the_slot(seconds: float) -> None:
    """time.sleep, for the handlers: a step asleep uses no CPU, so while it sleeps (a brief
    waiting for its moment, a back-off) its slot goes to another step. The limit is there for
    this process's CPU; on AWS, where it is the account's concurrency (1,000), a sleeping step
    is far inside it. At SES's 14 emails a second, some 120 briefs sleep in their step at once
    (each woken about 8 s before its moment): holding 24 slots, they would cap the sends near
    3 a second."""
    slots = getattr(_holding, "slots", None)
    if slots is None:
        _sleep(seconds)
        return
    slots.release()
    try:
        _sleep(seconds)
    finally:
        slots.reclaim()


@contextmanager
def _holding_a_slot(slots: Slots, *, lent_while_asleep: bool = True) -> Iterator[None]:
    """Run the body in a slot already taken, and free it after."""
    _holding.slots = slots if lent_while_asleep else None
    try:
        yield
    finally:
        _holding.slots = None
        slots.release()


class Throttled(Exception):
    """No invocation slot came free in time: Lambda's TooManyRequestsException (429)."""

    code, message = "TooManyRequestsException", "Rate Exceeded."


def run_invoke(function_name: str, body: bytes | None, response_headers: dict[str, str]) -> bytes:
    """A synchronous Invoke as Lambda answers it: the handler's result as JSON, or its unhandled
    error with ``x-amz-function-error`` set; Throttled past the concurrency limit."""
    spec = spec_for(function_name)
    if spec is None:
        response_headers["x-amz-function-error"] = "Unhandled"
        missing = {"errorType": "ResourceNotFound", "errorMessage": f"no handler for {function_name}"}
        return json.dumps(missing).encode()
    slots = _running
    if not slots.acquire(FIRST_STEP if spec.key == ROUTE.key else LATER_STEP):
        raise Throttled
    try:
        with _holding_a_slot(slots):
            result = invoke(spec, json.loads(body or "{}"))
    except Exception as exc:
        # What AWS does with an unhandled exception: errorType is the class name,
        # which the ASL's Retry and Catch match on.
        response_headers["x-amz-function-error"] = "Unhandled"
        error = {
            "errorType": type(exc).__name__,
            "errorMessage": str(exc)[:1000],
            "stackTrace": "".join(traceback.format_exception(exc)[-3:]),
        }
        return json.dumps(error).encode()
    return json.dumps(result, default=str).encode()


def _invoke_for_the_workflow(
    parameters: dict[str, Any], region: str, state_credentials: Any
) -> dict[str, Any]:
    """moto's Lambda task invoke (lambda_eval_utils._invoke_lambda_function), made in-process.
    moto sends each step through a boto3 client to its own server and back to run_invoke: request
    signing, HTTP and routing cost more CPU than most steps, and a burst's thousands of steps
    spent most of the process's time there. The answer and the errors are the same."""
    from botocore.exceptions import ClientError
    from moto.stepfunctions.parser.asl.component.state.exec.state_task.lambda_eval_utils import (
        to_payload_type,
    )

    headers: dict[str, str] = {}
    try:
        body = run_invoke(parameters["FunctionName"], to_payload_type(parameters.get("Payload")), headers)
    except Throttled:
        error = {"Code": Throttled.code, "Message": Throttled.message}
        metadata = {"HTTPStatusCode": 429, "RequestId": str(uuid.uuid4())}
        raise ClientError({"Error": error, "ResponseMetadata": metadata}, "Invoke") from None  # type: ignore[typeddict-item]
    answer: dict[str, Any] = {"StatusCode": 200, "ExecutedVersion": "$LATEST", "Payload": json.loads(body)}
    if "x-amz-function-error" in headers:
        answer["FunctionError"] = headers["x-amz-function-error"]
    return answer


def install() -> None:
    """Replace moto's echoing Lambda backend with in-process dispatch (and apply
    handoff.local.emulator's changes: the handlers run on several threads at once)."""
    from moto.awslambda_simple.models import LambdaSimpleBackend
    from moto.core.exceptions import JsonRESTError
    from moto.stepfunctions.parser.asl.component.state.exec.state_task import lambda_eval_utils

    emulator.install()
    # Handlers of one function run side by side here, not each in its own sandbox.
    router_state.install()

    # The ASL interpreter logs every caught error (an SLA timeout included) at ERROR
    # with its whole parse tree; the workflow's own Catch handles them.
    logging.getLogger("moto.stepfunctions.parser").setLevel(logging.CRITICAL)

    class TooManyRequests(JsonRESTError):
        code = 429

    def dispatch(  # noqa: PLR0917 - moto's signature
        self: Any,
        function_name: str,
        qualifier: str | None,
        body: Any,
        headers: Any,
        response_headers: Any,
    ) -> bytes:
        try:
            return run_invoke(function_name, body, response_headers)
        except Throttled:
            raise TooManyRequests(Throttled.code, Throttled.message) from None

    lambda_eval_utils._invoke_lambda_function = _invoke_for_the_workflow
    time.sleep = sleep_lending_the_slot  # type: ignore[assignment]
    LambdaSimpleBackend.invoke = dispatch  # type: ignore[method-assign]
