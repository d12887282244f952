"""The local stack's AWS calls answered by moto inside the process, not over its HTTP server.

Every handler runs in the stack's process, beside moto's server; each call it made went out
over loopback and back in (botocore's HTTP client, a server thread per request, werkzeug's
parsing, Flask's dispatch) to reach state held in the same process. Under a burst that round
trip took more of the interpreter than the handlers did. Such a call is now handed to moto's
backends directly, as ``mock_aws`` hands a test's calls, and answered from the same state the
server answers from (one process, one set of backends): the same answers, the same errors,
without the trip.

Only calls addressed to a moto server of this process are taken (``serve(port)``); anything
else, a ``handoff serve`` in another process for one, still goes over HTTP. A call made after
the request is signed keeps its region and signing name, which name the AWS host moto matches
its routes against. A call moto has no route for goes over HTTP as before. A failure inside
moto comes back as AWS's 500 (InternalFailure), which the SDK retries, as the server answers
it, rather than as a Python exception inside the handler.

DynamoDB calls are the exception when the stack runs DynamoDB in a process of its own
(handoff.local.dynamodb_process): those are handed to that process, over a kept connection.

The benchmark's injected throttles (bench/throttled.py) are ``before-send`` hooks on a client's
own operations; those run before this one, which is registered last.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import boto3
from botocore.awsrequest import AWSPreparedRequest, AWSResponse
from botocore.handlers import BUILTIN_HANDLERS, REGISTER_LAST
from botocore.httpchecksum import AwsChunkedWrapper

LOOPBACK = "127.0.0.1"
# Signing names whose AWS host is named otherwise (SES v1 and v2 sign as "ses", live at email.).
HOST_OF_SIGNING_NAME = {"ses": "email"}
_SCOPE = re.compile(r"Credential=[^/]+/\d{8}/(?P<region>[a-z0-9-]+)/(?P<service>[a-z0-9-]+)/aws4_request")
_HANDLER_ID = "handoff-local-in-process"

_ports: set[int] = set()
_lock = threading.Lock()


def serve(port: int) -> None:
    """Answer in-process the calls addressed to this process's moto server on ``port``."""
    with _lock:
        _ports.add(port)
        if any(handler[1] is answer for handler in BUILTIN_HANDLERS):
            return  # installed by an earlier serve
        # Sessions made from now on (boto3's default session among them, if not made yet)...
        BUILTIN_HANDLERS.append(("before-send", answer, REGISTER_LAST))
        # ...and the default session if it exists already; its clients copy its handlers. (One
        # made now would have it from the list above, and this would register it twice.)
        if boto3.DEFAULT_SESSION is not None:
            emitter = boto3.DEFAULT_SESSION._session.get_component("event_emitter")
            emitter.register_last("before-send", answer, unique_id=_HANDLER_ID)


def stop_serving(port: int) -> None:
    """The server on ``port`` is going away: its calls go over HTTP (and fail) as they would."""
    with _lock:
        _ports.discard(port)


def _aws_url(request: AWSPreparedRequest) -> str | None:
    """The AWS address this loopback request stands for, or None if it is not ours to answer."""
    parts = urlsplit(request.url)
    if parts.hostname != LOOPBACK or parts.port not in _ports:
        return None
    return aws_url(request)


def aws_url(request: AWSPreparedRequest) -> str | None:
    """The AWS address a request to a local endpoint stands for, named by its signature's scope;
    None if it is unsigned (nothing then names its service but moto's server's own inference)."""
    scope = _SCOPE.search(str(request.headers.get("Authorization", "")))
    if scope is None:
        return None
    parts = urlsplit(request.url)
    host = HOST_OF_SIGNING_NAME.get(scope["service"], scope["service"])
    return urlunsplit(("https", f"{host}.{scope['region']}.amazonaws.com", parts.path, parts.query, ""))


def answer(request: AWSPreparedRequest, **_: Any) -> AWSResponse | None:
    """botocore's ``before-send``: moto's answer to the request, or None to send it over HTTP."""
    from handoff.local import dynamodb_process

    address = _aws_url(request)
    if address is None or isinstance(request.body, AwsChunkedWrapper):
        return None
    forwarded = dynamodb_process.answer_if_forwarded(request, address)
    if forwarded is not None:
        return forwarded
    loopback_url, request.url = request.url, address
    answered = moto_answer(request)
    if answered is None:
        request.url = loopback_url
        return None
    status, headers, body = answered
    return AWSResponse(request.url, status, headers, StreamedBody(body))  # type: ignore[arg-type]


def moto_answer(request: AWSPreparedRequest) -> tuple[int, dict[str, str], str | bytes] | None:
    """(status, headers, body) from moto's backends for a request addressed to AWS (its url), or
    None if moto has no route for it."""
    from moto.core.models import botocore_stubber

    try:
        answered: tuple[int, dict[str, str], str | bytes] | None = botocore_stubber.process_request(request)
    except Exception as exc:  # moto failed: AWS (and moto's server) answer 500, which the SDK retries
        failure = json.dumps(
            {"__type": "InternalFailure", "message": f"{type(exc).__name__} in the emulator"}
        )
        answered = (500, {"x-amzn-ErrorType": "InternalFailure", "Content-Type": "application/json"}, failure)
    return answered


class StreamedBody:
    """A raw response body botocore can stream: the answers here, and the throttles the tests and
    benchmarks inject at the wire."""

    def __init__(self, body: str | bytes) -> None:
        self._body = body.encode("utf-8") if isinstance(body, str) else body

    def stream(self, **_: Any) -> Iterator[bytes]:
        yield self._body
