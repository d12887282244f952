"""The handoff workflow on Step Functions (the Workflow port)."""

from __future__ import annotations

import json
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from handoff.aws.throttling import through_throttling
from handoff.errors import THROTTLING_CODES, StorageError, StorageThrottled, StorageUnanswered

# A task token that no longer waits: the wait timed out, or another touch already ended it.
TOKEN_GONE = frozenset({"TaskTimedOut", "TaskDoesNotExist", "InvalidToken"})


def execution_arn(state_machine_arn: str, name: str) -> str:
    """Execution ARNs are the state machine's, with 'execution' and the execution's name."""
    return state_machine_arn.replace(":stateMachine:", ":execution:", 1) + f":{name}"


def _code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))


class StepFunctionsWorkflow:
    def __init__(self, client: Any, state_machine_arn: str):
        self._client = client
        self.state_machine_arn = state_machine_arn

    def start(self, name: str, payload: dict[str, Any]) -> bool:
        """Start an execution; False when one of that name exists. A throttled start is tried
        again for about 4 s (the bucket refills many times a second) before StorageThrottled."""
        return through_throttling(lambda: self._start(name, payload))

    def _start(self, name: str, payload: dict[str, Any]) -> bool:
        try:
            self._client.start_execution(
                stateMachineArn=self.state_machine_arn, name=name, input=json.dumps(payload)
            )
        except ClientError as exc:
            if _code(exc) == "ExecutionAlreadyExists":
                return False
            if _code(exc) in THROTTLING_CODES:
                raise StorageThrottled(f"StartExecution: {_code(exc)}") from exc
            raise StorageError(f"StartExecution: {_code(exc)}") from exc
        except BotoCoreError as exc:  # the call never got an answer (connection, timeout)
            raise StorageUnanswered(f"StartExecution: {type(exc).__name__}") from exc
        return True

    def running(self, name: str) -> bool:
        try:
            described = self._client.describe_execution(
                executionArn=execution_arn(self.state_machine_arn, name)
            )
        except ClientError as exc:
            if _code(exc) == "ExecutionDoesNotExist":
                return False
            raise StorageError(f"DescribeExecution: {_code(exc)}") from exc
        return bool(described["status"] == "RUNNING")

    def succeed(self, token: str, output: dict[str, Any]) -> bool:
        return self._answer(self._client.send_task_success, taskToken=token, output=json.dumps(output))

    def fail(self, token: str, error: str, cause: str) -> bool:
        return self._answer(self._client.send_task_failure, taskToken=token, error=error, cause=cause)

    @staticmethod
    def _answer(call: Any, **params: Any) -> bool:
        try:
            call(**params)
        except ClientError as exc:
            if _code(exc) in TOKEN_GONE:
                return False
            raise StorageError(f"task response: {_code(exc)}") from exc
        return True
