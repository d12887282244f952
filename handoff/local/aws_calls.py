"""Record the AWS calls each in-process Lambda handler makes, for the IAM grant test.

moto enforces no IAM, so a handler can call an API its deployed role does not allow and
every local test still passes. While recording is on, every botocore call made inside a
function's scope (``lambdas.invoke`` runs each handler in ``function_scope``) is kept with the
parameters that name its resources; ``tests/grants`` checks each against the
function's role in the synthesized template.

Local only: handlers never import this module, and nothing is hooked until ``enable()`` runs
(or ``HANDOFF_RECORD_AWS_CALLS`` is set when a handler is first invoked). The variable is
``1`` to keep calls in memory, or a file path to append them to as JSON lines instead, which
is how the recordings of a ``handoff serve`` subprocess reach the test that checks them.

What is kept: resource names and ARNs, never item contents, message bodies, recipients or
task tokens (a token completes a task; the state machine it belongs to is kept instead).
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from handoff.deploy.settings import scoped_function

ENV_VARIABLE = "HANDOFF_RECORD_AWS_CALLS"
# Attributes that name resources, kept from a call's parameters (see the module docstring).
RESOURCE_PARAMETERS = (
    "TableName",
    "IndexName",
    "QueueUrl",
    "QueueName",
    "stateMachineArn",
    "executionArn",
    "SecretId",
    "Bucket",
    "Key",
    "Namespace",
    # SES v1 and v2: the sending identity and the configuration set.
    "Source",
    "SourceArn",
    "FromArn",
    "ReturnPathArn",
    "FromEmailAddress",
    "FromEmailAddressIdentityArn",
    "ConfigurationSetName",
    # Cognito: the console's user pool (AdminListGroupsForUser).
    "UserPoolId",
)
TASK_TOKEN_OPERATIONS = ("SendTaskSuccess", "SendTaskFailure", "SendTaskHeartbeat")


@dataclass(frozen=True)
class AwsCall:
    """One API call a function made, with what is needed to rebuild the IAM request."""

    function: str  # FunctionSpec.key
    service: str  # botocore's service name: dynamodb, stepfunctions, sesv2...
    operation: str  # the API operation: Query, SendTaskSuccess...
    region: str
    params: dict[str, Any] = field(default_factory=dict)
    # From the response, where the request lacks it (GetSecretValue's ARN).
    arn: str | None = None
    error: str | None = None  # the error code, if it failed: AWS still authorized it first
    # HANDOFF_* settings the call ran with, by variable: how a local name maps to the stack's.
    settings: dict[str, str] = field(default_factory=dict)
    cached: bool = False  # a secret served from Powertools' cache (see _record_cached_secrets)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> AwsCall:
        return cls(**data)


def _settings_id(settings: Mapping[str, str]) -> str:
    return hashlib.sha256(json.dumps(settings, sort_keys=True).encode()).hexdigest()[:16]


_lock = threading.Lock()
_calls: list[AwsCall] = []
_state: dict[str, Any] = {"enabled": False, "path": None}
# Settings snapshots this process already wrote to the file: a call line names its snapshot by
# id, so each (about 1 kB) is written once, not with every call.
_written_settings: set[tuple[str, str]] = set()


def enabled() -> bool:
    return bool(_state["enabled"])


def enable(path: str | Path | None = None) -> None:
    """Start recording (idempotent): to ``path`` as JSON lines, else in memory (``calls()``)."""
    with _lock:
        if path is not None:
            _state["path"] = Path(path)
        if _state["enabled"]:
            return
        _hook_botocore()
        _record_cached_secrets()
        _state["enabled"] = True


def disable() -> None:
    with _lock:
        _state["enabled"] = False


def calls() -> list[AwsCall]:
    """What this process recorded in memory (recording to a file keeps nothing here)."""
    with _lock:
        return list(_calls)


def read(path: str | Path) -> list[AwsCall]:
    """Every call appended to ``path``, by any process."""
    file = Path(path)
    if not file.exists():
        return []
    settings: dict[str, dict[str, str]] = {}
    found: list[AwsCall] = []
    text = file.read_text()
    # A process still recording (a `handoff serve` that outlives its tests) may be mid-write:
    # only whole lines count.
    for line in text[: text.rfind("\n") + 1].splitlines():
        if not line.strip():
            continue
        data = json.loads(line)
        if "settings_id" in data:
            settings[data["settings_id"]] = data["settings"]
        else:
            found.append(AwsCall.from_json({**data, "settings": settings[data.pop("settings")]}))
    return found


def _enabled_by_environment() -> bool:
    value = os.environ.get(ENV_VARIABLE, "")
    if value and not _state["enabled"]:
        enable(None if value == "1" else value)
    return bool(_state["enabled"])


def watch() -> None:
    """Called as each handler starts: turns recording on if the environment asks for it."""
    if not _state["enabled"]:
        _enabled_by_environment()


def _function() -> str | None:
    """The function whose invocation is running on this thread: the same scope that limits its
    settings (``lambdas.invoke``), so there is one notion of "which function is this"."""
    spec = scoped_function()
    return spec.key if spec else None


# Settings fields name the stack's resources (tables, queue, state machine, bucket, sender...);
# none of them holds a secret value, which live under their own SecretSpec variables.
def _settings_snapshot() -> dict[str, str]:
    from handoff.deploy.settings import Settings, variable

    names = (variable(name) for name in Settings.model_fields)
    return {name: os.environ[name] for name in names if name in os.environ}


def _resource_params(operation: str, params: Mapping[str, Any]) -> dict[str, Any]:
    kept: dict[str, Any] = {k: params[k] for k in RESOURCE_PARAMETERS if isinstance(params.get(k), str)}
    if isinstance(params.get("RequestItems"), Mapping):  # BatchGetItem, BatchWriteItem: keyed by table
        kept["RequestItems"] = sorted(params["RequestItems"])
    if isinstance(params.get("TransactItems"), list):  # each item names its table and its kind
        kept["TransactItems"] = [
            {"kind": kind, "TableName": body.get("TableName")}
            for item in params["TransactItems"]
            for kind, body in item.items()
            if isinstance(body, Mapping)
        ]
    if operation in TASK_TOKEN_OPERATIONS:
        kept["stateMachineArn"] = _state_machine_of_token(str(params.get("taskToken", "")))
    return kept


def _state_machine_of_token(token: str) -> str | None:
    """The state machine whose running execution waits on ``token``, read from moto's backend
    in this process (the checker falls back to the stack's state machine when it is None)."""
    try:
        from moto.stepfunctions.parser.models import stepfunctions_parser_backends

        for regions in stepfunctions_parser_backends.values():
            for backend in regions.values():
                for machine in backend.state_machines:
                    for execution in machine.executions:
                        worker: Any = getattr(execution, "exec_worker", None)
                        if worker is not None and worker.env.callback_pool_manager.get(token) is not None:
                            return str(execution.state_machine_arn)
    except Exception:  # moto internals moved, or not in this process: the checker's fallback applies
        return None
    return None


def _append(call: AwsCall) -> None:
    settings_id = _settings_id(call.settings)
    lines = [json.dumps({**call.to_json(), "settings": settings_id}, sort_keys=True)]
    with _lock:
        path: Path | None = _state["path"]
        if path is None:
            _calls.append(call)
            return
        if (str(path), settings_id) not in _written_settings:
            _written_settings.add((str(path), settings_id))
            lines.insert(
                0, json.dumps({"settings_id": settings_id, "settings": call.settings}, sort_keys=True)
            )
        # One write on an O_APPEND file: lines from several processes do not interleave.
        with path.open("a") as file:
            file.write("".join(line + "\n" for line in lines))


def _record(client: Any, operation: str, params: dict[str, Any], response: Any, error: str | None) -> None:
    function = _function()
    if function is None:
        return
    arn = response.get("ARN") if isinstance(response, Mapping) else None
    _append(
        AwsCall(
            function=function,
            service=str(client.meta.service_model.service_name),
            operation=operation,
            region=str(client.meta.region_name),
            params=params,
            arn=arn if isinstance(arn, str) else None,
            error=error,
            settings=_settings_snapshot(),
        )
    )


def _hook_botocore() -> None:
    """Wrap ``BaseClient._make_api_call`` once: every client of every session goes through it."""
    from botocore.client import BaseClient
    from botocore.exceptions import ClientError

    client_class: Any = BaseClient  # a private method, absent from the stubs
    original = client_class._make_api_call
    if getattr(original, "_handoff_aws_calls", False):
        return

    def _make_api_call(self: Any, operation_name: str, api_params: dict[str, Any]) -> Any:
        if not _state["enabled"] or _function() is None:
            return original(self, operation_name, api_params)
        # Before the call: a task token is gone from moto once the task completes.
        params = _resource_params(operation_name, api_params)
        try:
            response = original(self, operation_name, api_params)
        except ClientError as exc:
            _record(self, operation_name, params, None, str(exc.response.get("Error", {}).get("Code", "")))
            raise
        except Exception as exc:
            _record(self, operation_name, params, None, type(exc).__name__)
            raise
        _record(self, operation_name, params, response, None)
        return response

    _make_api_call._handoff_aws_calls = True  # type: ignore[attr-defined]
    client_class._make_api_call = _make_api_call


def _record_cached_secrets() -> None:
    """A secret Powertools serves from its cache is still a read the function's role must allow:
    locally every handler shares one process and one cache, so without this a secret another
    function fetched first would never be seen as this one's (in AWS each has its own container).
    Recorded as a cached GetSecretValue; the cache itself is left alone (clearing it under
    concurrent handlers could hand one of them an empty value)."""
    from aws_lambda_powertools.utilities.parameters.secrets import SecretsProvider

    original = SecretsProvider.get
    if getattr(original, "_handoff_aws_calls", False):
        return

    def get(self: Any, name: str, max_age: int | None = None, transform: Any = None,
            force_fetch: bool = False, **sdk_options: Any) -> Any:  # fmt: skip
        function = _function()
        key = self._build_cache_key(name=name, transform=transform)
        if (
            function is not None
            and _state["enabled"]
            and not force_fetch
            and self.has_not_expired_in_cache(key)
        ):
            _append(
                AwsCall(
                    function=function,
                    service="secretsmanager",
                    operation="GetSecretValue",
                    region=str(self.client.meta.region_name),
                    params={"SecretId": name},
                    settings=_settings_snapshot(),
                    cached=True,
                )
            )
        return original(self, name, max_age, transform, force_fetch, **sdk_options)

    get._handoff_aws_calls = True  # type: ignore[attr-defined]
    SecretsProvider.get = get  # type: ignore[method-assign]
