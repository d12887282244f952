"""The SQS adapter behind the WriteBackQueue port: a queue that cannot take a message is a
StorageError, which the service counts and logs without failing the handoff."""

from __future__ import annotations

import boto3
import pytest
from botocore.stub import Stubber

from handoff.aws.queue import SqsQueue
from handoff.errors import StorageError

URL = "https://sqs.us-east-1.amazonaws.com/123456789012/handoff-crm-sync"


def test_a_message_goes_to_the_queue_and_a_refusal_is_a_storage_error() -> None:
    client = boto3.client("sqs", region_name="us-east-1", aws_access_key_id="x", aws_secret_access_key="x")
    queue, stub = SqsQueue(client, URL), Stubber(client)
    stub.add_response(
        "send_message",
        {"MessageId": "m1", "MD5OfMessageBody": "x"},
        {"QueueUrl": URL, "MessageBody": '{"lead_id": "ld_1"}'},
    )
    stub.add_client_error("send_message", "AWS.SimpleQueueService.NonExistentQueue")
    with stub:
        queue.send('{"lead_id": "ld_1"}')
        with pytest.raises(StorageError, match="NonExistentQueue"):
            queue.send('{"lead_id": "ld_1"}')
