"""The CRM write-back queue on SQS (the WriteBackQueue port)."""

from __future__ import annotations

from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from handoff.errors import StorageError


class SqsQueue:
    def __init__(self, client: Any, url: str):
        self._client = client
        self.url = url

    def send(self, body: str) -> None:
        try:
            self._client.send_message(QueueUrl=self.url, MessageBody=body)
        except ClientError as exc:
            raise StorageError(f"SendMessage: {exc.response.get('Error', {}).get('Code', '')}") from exc
        except BotoCoreError as exc:  # no answer at all (connection, timeout)
            raise StorageError(f"SendMessage: {type(exc).__name__}") from exc
