"""Lambda's SQS event source mapping, locally: take messages off a queue, invoke the
handler with an SQS event, delete what it handled and leave its batchItemFailures to be
received again (and, after the queue's maxReceiveCount, moved to the dead-letter queue)."""

from __future__ import annotations

from typing import Any

import boto3

from handoff.deploy.functions import FunctionSpec
from handoff.local import lambdas
from handoff.local.provision import LOCAL_VISIBILITY_SECONDS

BATCH = 10


def _record(message: dict[str, Any], arn: str) -> dict[str, Any]:
    return {
        "messageId": message["MessageId"],
        "receiptHandle": message["ReceiptHandle"],
        "body": message["Body"],
        "attributes": message.get("Attributes", {}),
        "messageAttributes": {},
        "md5OfBody": message["MD5OfBody"],
        "eventSource": "aws:sqs",
        "eventSourceARN": arn,
        "awsRegion": lambdas.REGION,
    }


def drain_once(queue_url: str, spec: FunctionSpec) -> int:
    """One batch: how many messages were received (0 when the queue is empty)."""
    sqs = boto3.client("sqs")
    messages = sqs.receive_message(
        QueueUrl=queue_url,
        MaxNumberOfMessages=BATCH,
        AttributeNames=["All"],
        VisibilityTimeout=LOCAL_VISIBILITY_SECONDS,
    ).get("Messages", [])
    if not messages:
        return 0
    arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    try:
        result = lambdas.invoke(spec, {"Records": [_record(m, arn) for m in messages]}) or {}
    except Exception:  # the invocation failed (Powertools raises when every record did): all return
        return len(messages)
    failed = {f["itemIdentifier"] for f in result.get("batchItemFailures", [])}
    for message in messages:
        if message["MessageId"] not in failed:
            sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])
    return len(messages)
