"""Lambda's SQS event source mapping, locally: take messages off a queue, invoke the
handler with an SQS event, delete what it handled and leave its batchItemFailures to be
received again (and, after the queue's maxReceiveCount, moved to the dead-letter queue).

The stack's poller long-polls, as the event source mapping does, through one client built once:
polling four times a second with a new client each time took a quarter of a burst's CPU."""

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


def drain_once(queue_url: str, spec: FunctionSpec, sqs: Any = None, wait_seconds: int = 0) -> int:
    """One batch: how many messages were received (0 when the queue stayed empty for
    ``wait_seconds``). ``sqs`` is a client to reuse; by default one is built."""
    sqs = sqs or boto3.client("sqs")
    messages = sqs.receive_message(
        QueueUrl=queue_url,
        MaxNumberOfMessages=BATCH,
        AttributeNames=["All"],
        VisibilityTimeout=LOCAL_VISIBILITY_SECONDS,
        WaitTimeSeconds=wait_seconds,
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
