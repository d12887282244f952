"""The monthly job's files in S3 (the Reports port)."""

from __future__ import annotations

from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from handoff.errors import StorageError


class S3Reports:
    def __init__(self, client: Any, bucket: str):
        self._client = client
        self._bucket = bucket

    def publish(self, prefix: str, files: dict[str, tuple[str, str]]) -> None:
        for name, (body, content_type) in files.items():
            try:
                self._client.put_object(
                    Bucket=self._bucket, Key=f"{prefix}/{name}", Body=body.encode(), ContentType=content_type
                )
            except (BotoCoreError, ClientError) as exc:
                raise StorageError(f"PutObject: {type(exc).__name__}") from exc
