"""Two changes to moto, the emulator under the local stack, the tests and the benchmarks.

- **Atomic DynamoDB requests.** DynamoDB applies each request to its item atomically; moto does
  not. It checks a condition, computes ``open_count + 1`` and stores it in separate steps, and
  turns an item into its answer while another thread may be updating that item. The workflow's
  execution threads and the threaded server run requests side by side, so without this a claim
  can come out one increment short, or a read can fail with "dictionary changed size during
  iteration": defects of the emulator, not of Handoff. moto now handles one DynamoDB request at a
  time, which restores what DynamoDB guarantees.
- **One parse per workflow definition.** moto parses the ASL again for every execution (tens of
  milliseconds of CPU each). The parse tree depends only on the definition, so it is kept; each
  execution still builds its own evaluation components from it, exactly as before.
- **Lambda tasks invoked with retries.** moto's interpreter invokes each Lambda task over
  loopback with retries off, so a connection its threaded server drops under load becomes
  States.Runtime, which no retrier catches. On AWS a failed invoke is Lambda.ServiceException or
  Lambda.SdkClientException, which every step retries; the emulator's invoke client now retries
  (standard mode) instead. The handlers are idempotent, as they must be on AWS.
"""

from __future__ import annotations

import functools
import threading
from typing import Any

_lock = threading.RLock()  # re-entrant: a transaction writes through the same handler
_INSTALLED = "handoff_emulator"


def install() -> None:
    """Apply both changes (idempotent)."""
    from moto.dynamodb.responses import DynamoHandler
    from moto.stepfunctions.parser.asl.parse import asl_parser

    with _lock:
        if getattr(DynamoHandler.call_action, _INSTALLED, False):
            return
        call_action = DynamoHandler.call_action

        @functools.wraps(call_action)
        def one_at_a_time(self: Any) -> Any:
            with _lock:
                return call_action(self)

        setattr(one_at_a_time, _INSTALLED, True)
        DynamoHandler.call_action = one_at_a_time  # type: ignore[method-assign]
        asl_parser.AmazonStateLanguageParser.parse = staticmethod(_parse)  # type: ignore[method-assign]
        from moto.stepfunctions.parser.asl.component.state.exec.state_task import lambda_eval_utils

        lambda_eval_utils.boto_client_for = _retrying_client  # type: ignore[attr-defined]


def _retrying_client(region: str, service: str, state_credentials: Any = None) -> Any:
    """moto's boto_client_for, with the SDK's standard retries instead of none."""
    import boto3
    from botocore.config import Config
    from moto.core.models import botocore_stubber
    from moto.settings import moto_server_port
    from moto.stepfunctions.parser.asl.component.common.timeouts.timeout import TimeoutSeconds

    endpoint = {} if botocore_stubber.enabled else {"endpoint_url": f"http://localhost:{moto_server_port()}"}
    return boto3.client(  # type: ignore[call-overload]
        aws_access_key_id="ak",
        region_name=region,
        service_name=service,
        aws_secret_access_key="sk",  # moto's own placeholder credentials
        config=Config(
            parameter_validation=False,
            retries={"mode": "standard", "total_max_attempts": 3},
            connect_timeout=TimeoutSeconds.DEFAULT_TIMEOUT_SECONDS,
            read_timeout=TimeoutSeconds.DEFAULT_TIMEOUT_SECONDS,
        ),
        **endpoint,
    )


@functools.lru_cache(maxsize=16)
def _tree(definition: str) -> Any:
    # moto's own steps (asl_parser.AmazonStateLanguageParser.parse), minus the preprocessing.
    from antlr4 import CommonTokenStream, InputStream  # type: ignore[import-untyped]
    from moto.stepfunctions.parser.asl.antlr.runtime.ASLLexer import ASLLexer
    from moto.stepfunctions.parser.asl.antlr.runtime.ASLParser import ASLParser
    from moto.stepfunctions.parser.asl.parse.asl_parser import ASLParserException, SyntaxErrorListener

    listener: Any = SyntaxErrorListener()  # type: ignore[no-untyped-call]
    parser: Any = ASLParser(CommonTokenStream(ASLLexer(InputStream(definition))))
    parser.removeErrorListeners()
    parser.addErrorListener(listener)
    tree = parser.state_machine()
    if listener.errors:
        raise ASLParserException(errors=listener.errors)
    return tree


def _parse(definition: str) -> tuple[Any, Any]:
    """moto's AmazonStateLanguageParser.parse, with the parse tree kept per definition."""
    from moto.stepfunctions.parser.asl.parse.preprocessor import Preprocessor

    tree = _tree(definition)
    return Preprocessor().visit(tree), tree
