"""An SNS topic on moto's server with an SQS queue subscribed to it: how tests read back what
was published (as a real subscriber would), envelope or raw delivery, standard or FIFO."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from support.moto import MotoServer


@dataclass
class Subscribed:
    topic_arn: str
    queue_url: str
    moto: MotoServer

    def receive(self, expected: int, timeout: float = 0.0) -> list[dict[str, Any]]:
        """Take the queue's messages off it (with attributes): at least `expected` unless
        `timeout` seconds pass first (0: only what is there now), then whatever else is left."""
        sqs = self.moto.client("sqs")
        messages: list[dict[str, Any]] = []
        deadline = time.monotonic() + timeout
        # Without a timeout a bounded number of polls; with one, the deadline bounds it.
        for _ in range(20 if not timeout else 1 << 30):
            waiting = len(messages) < expected and time.monotonic() < deadline
            got = sqs.receive_message(
                QueueUrl=self.queue_url,
                MaxNumberOfMessages=10,
                MessageAttributeNames=["All"],
                AttributeNames=["All"],
                WaitTimeSeconds=1 if waiting else 0,
            ).get("Messages", [])
            for message in got:
                sqs.delete_message(QueueUrl=self.queue_url, ReceiptHandle=message["ReceiptHandle"])
            messages += got
            if not got and (len(messages) >= expected or time.monotonic() >= deadline):
                break
        return messages


def subscribe(moto: MotoServer, name: str, raw: bool = False, fifo: bool = False) -> Subscribed:
    """Create topic `name` and queue `name-q` (`.fifo` both when `fifo`), queue subscribed."""
    sns, sqs = moto.client("sns"), moto.client("sqs")
    suffix = ".fifo" if fifo else ""
    topic_attrs = {"FifoTopic": "true", "ContentBasedDeduplication": "false"} if fifo else {}
    topic = sns.create_topic(Name=name + suffix, Attributes=topic_attrs)["TopicArn"]
    queue_attrs = {"FifoQueue": "true"} if fifo else {}
    queue = sqs.create_queue(QueueName=f"{name}-q{suffix}", Attributes=queue_attrs)["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    sns.subscribe(
        TopicArn=topic,
        Protocol="sqs",
        Endpoint=queue_arn,
        Attributes={"RawMessageDelivery": "true" if raw else "false"},
    )
    return Subscribed(topic, queue, moto)
