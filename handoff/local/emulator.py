"""Changes to moto, the emulator under the local stack, the tests and the benchmarks.

- **Atomic DynamoDB requests.** DynamoDB applies each request to its item atomically; moto does
  not. It checks a condition, computes ``open_count + 1`` and stores it in separate steps, and
  turns an item into its answer while another thread may be updating that item. The workflow's
  execution threads and the threaded server run requests side by side, so without this a claim
  can come out one increment short, or a read can fail with "dictionary changed size during
  iteration": defects of the emulator, not of Handoff. moto now handles one DynamoDB request at a
  time, which restores what DynamoDB guarantees.
- **One parse per workflow definition.** moto parses the ASL and builds its evaluation components
  again for every execution (tens of milliseconds of CPU each; a fifth of a burst's intake). Both
  depend only on the definition, so both are kept and executions share the components: what an
  execution changes lives in its own environment (its heap, keyed by each component's heap key,
  and its stack), never on a component. Every heap key is made before the first execution, since
  moto makes one lazily and two executions starting at once could each make their own.
- **No server-wide lock while a request is read.** moto's server picks each request's service
  under one lock, and for an endpoint-URL request (the local stack's) that means parsing its
  headers and maybe its body, so every request in flight waits on the slowest one: a thousand
  leads at once stalled the server with its threads queued on that lock. The service is now
  picked outside it; the lock only guards building a service's app, once. When the stack runs
  DynamoDB in a process of its own (handoff.local.dynamodb_process), DynamoDB's requests are
  passed on to it there. Which service a host names is remembered, since moto lists its package
  directory on every request to find out.
- **One parse per JSONPath.** moto parses each path in a state's parameters and result path again
  every time the state runs, building a new jsonpath-ng parser (about a millisecond) each time;
  a burst's steps spent a fifth of the process's time there. Each path is parsed once and kept
  (a parsed path is only read by ``find``, so threads may share it).
- **One start per execution name.** AWS keeps an execution's name unique (a second start with
  the same name and input returns the first execution). moto checks the name, copies the state
  machine and only then records the execution, so two starts of one lead at once (the SDK trying
  again a start whose answer was slow, beside the first) could both pass the check and run the
  lead's workflow twice. Starts of the same name now take turns; other starts do not wait.
- **A listen backlog of 1,024.** werkzeug listens with a backlog of 128; when a burst's handlers
  open more connections than that at once, some are reset, which AWS's endpoints never do.
- **Items sorted by value, and only where the order counts.** moto lists a table's items in key
  order with a comparison that works out both keys' values again each time, under the lock
  above; the same order is now reached by working each value out once. A Query does not list
  them in order at all: it keeps the items under its key and sorts those by every key of the
  table and the index (a total order), so sorting the whole table first (a thousand leads, for
  each contact's open-handoff lookup) changed nothing it answered.
- **A failed invoke named as AWS names it.** moto's interpreter invokes each Lambda task over
  loopback with retries off, and turns a connection its threaded server drops under load into
  States.Runtime, which no retrier catches. On AWS a failed invoke is Lambda.SdkClientException,
  which every step retries with back-off; the emulator now names it so. (Retrying inside the
  invoke client instead turned an overloaded emulator's timeouts into a storm of invokes.) The
  workflow's tasks now invoke in-process (handoff.local.lambdas); any botocore failure an invoke
  still meets is named so.
- **DynamoDB's costs paid once** (handoff.local.emulator_dynamodb): item-level answers written
  as JSON rather than through moto's model-driven serializer, an item converted once per
  projection, stored values converted without copies of copies. The answers are the same.
- **A handler's operations listed once.** Before each request moto lists its handler class's
  methods (inspect.getmembers, every attribute of the class and its bases) to see whether the
  action is one of them: a twentieth of the DynamoDB process's time under a burst. A class's
  methods do not change while the stack runs, so each class's names are listed once.
- **A service's operation router built once.** moto builds the router that matches a REST
  request to its operation (a werkzeug rule for each of the service's operations) the first time
  the service is called, without a lock. A burst's first briefs reached SES at once and 23
  threads each built SES v2's, taking 0.5 to 2.4 s each while the first leads waited. It is now
  built under a lock, once.
- **SES's account details (GetAccount).** moto's SES v2 has no GetAccount, which Handoff reads
  for the account's sending rate (handoff/aws/pacing.py). The emulator answers it with
  LOCAL_SES_RATE: the local SES refuses nothing, so the rate it reports is one no local run
  reaches. The benchmark that throttles SES reports its own rate at the wire (bench/throttled.py).
"""

from __future__ import annotations

import functools
import json
import threading
from typing import Any

from handoff.local import dynamodb_process, emulator_dynamodb
from handoff.local.loopback import LISTEN_BACKLOG

# Emails a second the emulator's SES reports: it refuses none, at any rate.
LOCAL_SES_RATE = 1000.0

_lock = threading.RLock()  # re-entrant: a transaction writes through the same handler
_INSTALLED = "handoff_emulator"


def install() -> None:
    """Apply the changes above (idempotent)."""
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
        from moto.stepfunctions.parser.asl.component.state.exec.state_task.service import (
            state_task_service_lambda as lambda_task,
        )

        task = lambda_task.StateTaskServiceLambda
        task._from_error = _failed_invoke_as_aws_names_it(task._from_error)  # type: ignore[method-assign]
        from moto.moto_server.werkzeug_app import DomainDispatcherApplication

        DomainDispatcherApplication.get_application = _application_without_a_global_wait  # type: ignore[method-assign]
        from moto.stepfunctions.parser.asl.component.common.path import result_path
        from moto.stepfunctions.parser.asl.utils import json_path

        for module in (json_path, result_path):
            setattr(module, "parse", functools.lru_cache(maxsize=4096)(getattr(module, "parse")))  # noqa: B009, B010
        from moto.dynamodb.models.table import Table
        from moto.stepfunctions.parser.models import StepFunctionsParserBackend

        StepFunctionsParserBackend.start_execution = _one_start_per_name(  # type: ignore[method-assign]
            StepFunctionsParserBackend.start_execution
        )
        from werkzeug.serving import BaseWSGIServer

        BaseWSGIServer.request_queue_size = LISTEN_BACKLOG
        Table.all_items = _all_items_in_key_order  # type: ignore[method-assign]
        Table.query = _query_listing_items_unsorted(Table.query)  # type: ignore[method-assign]
        DomainDispatcherApplication.get_backend_for_host = _backend_remembered(  # type: ignore[method-assign]
            DomainDispatcherApplication.get_backend_for_host
        )
        from moto.sesv2.responses import SESV2Response

        SESV2Response.get_account = _ses_account  # type: ignore[attr-defined]
        from moto.core import responses

        responses.method_names_from_class = _method_names_listed_once(responses.method_names_from_class)  # type: ignore[attr-defined]
        from moto.core.routing import ServiceOperationRouter

        ServiceOperationRouter._get_router = _router_built_once(ServiceOperationRouter._get_router)  # type: ignore[method-assign]
        from moto.core import utils as moto_utils

        for module, name in (
            (responses, "get_service_router"),
            (responses, "get_service_model"),
            (moto_utils, "get_service_model"),
        ):
            setattr(module, name, _built_once_per_service(getattr(module, name)))
        emulator_dynamodb.install()


def _method_names_listed_once(list_names: Any) -> Any:
    """moto's method_names_from_class, each class's names listed once (as a frozenset: moto only
    asks whether an action is among them)."""

    @functools.cache
    def listed(clazz: object) -> frozenset[str]:
        return frozenset(list_names(clazz))

    return listed


def _router_built_once(get_router: Any) -> Any:
    """moto's ServiceOperationRouter._get_router, with a protocol's router built under a lock
    (moto builds it when it finds none; the lock makes the others wait and then find it)."""
    building = threading.Lock()

    @functools.wraps(get_router)
    def built_once(self: Any, protocol: str) -> Any:
        if protocol in self._routers:
            return self._routers[protocol]
        with building:
            return get_router(self, protocol)

    return built_once


def _built_once_per_service(build: Any) -> Any:
    """A moto builder cached per service name (functools.cache), built once under a lock.
    functools.cache builds in every thread that asks before the first build ends: the first
    burst of briefs built SES v2's request router 32 times over 300 leads, 3 s of the stack's
    CPU while its first briefs waited."""
    built: dict[str, Any] = {}
    building = threading.Lock()

    @functools.wraps(build)
    def once(service_name: str) -> Any:
        if (found := built.get(service_name)) is not None:
            return found
        with building:
            if service_name not in built:
                built[service_name] = build(service_name)
            return built[service_name]

    return once


def _ses_account(self: Any) -> str:
    """SES v2 GetAccount, as AWS answers it for an account out of the sandbox."""
    return json.dumps(
        {
            "ProductionAccessEnabled": True,
            "SendingEnabled": True,
            "EnforcementStatus": "HEALTHY",
            "DedicatedIpAutoWarmupEnabled": False,
            "SendQuota": {
                "Max24HourSend": 1_000_000.0,
                "MaxSendRate": LOCAL_SES_RATE,
                "SentLast24Hours": 0.0,
            },
        }
    )


def _application_without_a_global_wait(self: Any, environ: dict[str, Any]) -> Any:
    """moto's DomainDispatcherApplication.get_application, with the service picked outside its lock."""
    from moto.moto_server.werkzeug_app import DEFAULT_SERVICE_REGION

    path_info = environ.get("PATH_INFO", "")
    if isinstance(path_info, bytes):
        path_info = path_info.decode("utf-8")
    host: str | None = None
    if path_info.startswith("/moto-api") or path_info == "/favicon.ico":
        host = "moto_api"
    elif path_info.startswith(("/latest/meta-data/", "/latest/api/")):
        host = "instance_metadata"
    backend = self.get_backend_for_host(host)
    if not backend:
        host = self.infer_service_region_host(environ, path_info)
        if host is None:
            service, region = DEFAULT_SERVICE_REGION
            host = f"{service}.{region}.amazonaws.com"
        backend = self.get_backend_for_host(host)
    if backend == dynamodb_process.SERVICE and (child := dynamodb_process.forwarding()) is not None:
        return dynamodb_process.wsgi_app(child)
    app = self.app_instances.get(backend)
    if app is None:
        with self.lock:
            app = self.app_instances.get(backend)
            if app is None:
                app = self.create_app(backend)
                self.app_instances[backend] = app
    return app


# Starts of one name share a lock; starts of different names rarely do (a lock per name would
# keep one for every execution ever started).
_START_LOCKS = tuple(threading.Lock() for _ in range(64))


def _one_start_per_name(start_execution: Any) -> Any:
    """moto's StartExecution, with the check of the name and the record of the execution made
    as one step for each name, as AWS makes them."""

    @functools.wraps(start_execution)
    def started(self: Any, state_machine_arn: str, *args: Any, **kwargs: Any) -> Any:
        name = kwargs.get("name", args[0] if args else None)
        with _START_LOCKS[hash((state_machine_arn, name)) % len(_START_LOCKS)]:
            return start_execution(self, state_machine_arn, *args, **kwargs)

    return started


_listing = threading.local()  # .unsorted: this thread's Query is listing the table's items


def _query_listing_items_unsorted(query: Any) -> Any:
    @functools.wraps(query)
    def unsorted_listing(self: Any, *args: Any, **kwargs: Any) -> Any:
        _listing.unsorted = True
        try:
            return query(self, *args, **kwargs)
        finally:
            _listing.unsorted = False

    return unsorted_listing


def _all_items_in_key_order(self: Any) -> list[Any]:
    """moto's Table.all_items, in the same order, sorted on each key's value worked out once.
    moto sorts with DynamoType's comparisons, each working out both values again; a Query on an
    index goes through every item of the table this way, and with a thousand leads each index
    Query spent tens of milliseconds sorting, under the lock every DynamoDB request waits on.
    A Query's listing is not sorted at all (the order it answers in does not depend on it).
    A table's key attributes each have one type, so the values order the items as before."""
    items = [
        item
        for hash_set in self.items.values()
        for item in (hash_set.values() if self.range_key_attr else [hash_set])
    ]
    if getattr(_listing, "unsorted", False):
        return items
    return sorted(
        items,
        key=lambda x: (
            (x.hash_key.cast_value, x.range_key.cast_value) if x.range_key else x.hash_key.cast_value
        ),
    )


def _backend_remembered(get_backend_for_host: Any) -> Any:
    """moto's get_backend_for_host, remembered per host: moto lists its package directory on
    every request to answer it, which under a burst costs more than the request itself."""
    known: dict[str | None, Any] = {}

    @functools.wraps(get_backend_for_host)
    def remembered(self: Any, host: str | None) -> Any:
        if host not in known:
            known[host] = get_backend_for_host(self, host)
        return known[host]

    return remembered


def _failed_invoke_as_aws_names_it(from_error: Any) -> Any:
    """moto's failure event for a Lambda task, naming a failed invoke as AWS does."""
    from botocore.exceptions import BotoCoreError, ClientError

    @functools.wraps(from_error)
    def named(self: Any, env: Any, ex: Exception) -> Any:
        if isinstance(ex, BotoCoreError):
            answer: Any = {
                "Error": {"Code": "SdkClientException", "Message": str(ex)},
                "ResponseMetadata": {"HTTPStatusCode": 500, "RequestId": "local"},
            }
            ex = ClientError(answer, "Invoke")
        return from_error(self, env, ex)

    return named


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


@functools.lru_cache(maxsize=16)
def _parse(definition: str) -> tuple[Any, Any]:
    """moto's AmazonStateLanguageParser.parse, kept per definition (see the module's notes)."""
    from moto.stepfunctions.parser.asl.parse.preprocessor import Preprocessor

    tree = _tree(definition)
    program = Preprocessor().visit(tree)
    _make_heap_keys(program, set())
    return program, tree


def _make_heap_keys(component: Any, seen: set[int]) -> None:
    """Give every evaluation component under ``component`` its heap key now."""
    from moto.stepfunctions.parser.asl.component.eval_component import EvalComponent

    if id(component) in seen:
        return
    seen.add(id(component))
    if isinstance(component, EvalComponent):
        _ = component.heap_key
    if isinstance(component, dict):
        children: Any = component.values()
    elif isinstance(component, (list, tuple, set)):
        children = component
    elif type(component).__module__.startswith("moto.stepfunctions") and hasattr(component, "__dict__"):
        children = vars(component).values()
    else:
        return
    for child in children:
        _make_heap_keys(child, seen)
