"""Read back the SNS alerts the pipelines sent, through the topic's local SQS subscription."""

from __future__ import annotations

import json


def drain_alerts(local_aws, topic_name: str = "etl-pipeline-alerts") -> list[dict]:
    """Every alert message queued so far (removed from the queue), as dicts."""
    sqs = local_aws.client("sqs")
    queue_url = sqs.get_queue_url(QueueName=f"{topic_name}-inbox")["QueueUrl"]
    messages = []
    while True:
        batch = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=0).get("Messages", [])
        if not batch:
            return messages
        for message in batch:
            envelope = json.loads(message["Body"])
            messages.append({"subject": envelope.get("Subject"), **json.loads(envelope["Message"])})
            sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])
