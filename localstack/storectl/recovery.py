"""Dead-letter queues and failed lifecycle executions: look at them, send them back.

`storectl dlq` lists each DLQ's messages without taking them (a receive with a
zero visibility timeout) and `storectl dlq --redrive` moves them back to their
source queue (send, then delete: a crash in between leaves a copy in both, and
the consumers are idempotent). `storectl redrive ORDER_ID` starts a new
execution of an order whose lifecycle failed, resuming from the status the
order is in (the state machine's `Resume` choice).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from store.workflow import execution_input

# Each dead-letter queue (a stack output) and the queue its messages came from.
DEAD_LETTER_QUEUES = {
    "notifications": ("NotificationsDeadLetterQueueUrl", "NotificationsQueueUrl"),
    "order_starter": ("OrderStarterDeadLetterQueueUrl", "OrderStarterQueueUrl"),
}


@dataclass(frozen=True)
class DeadLetter:
    message_id: str
    event_type: str
    order_id: str
    receives: int
    body: str


def peek(sqs: Any, queue_url: str, limit: int = 100) -> list[DeadLetter]:
    """The queue's messages, left in place (visible again at once)."""
    found: dict[str, DeadLetter] = {}
    for _ in range(max(1, limit // 10)):
        batch = sqs.receive_message(
            QueueUrl=queue_url,
            MaxNumberOfMessages=10,
            VisibilityTimeout=0,
            AttributeNames=["ApproximateReceiveCount"],
            MessageAttributeNames=["All"],
        ).get("Messages", [])
        new = [message for message in batch if message["MessageId"] not in found]
        if not new:
            break
        for message in new:
            found[message["MessageId"]] = _dead_letter(message)
    return list(found.values())[:limit]


def _dead_letter(message: dict[str, Any]) -> DeadLetter:
    try:
        body = json.loads(message["Body"])
        order_id = str(body.get("order_id", "-")) if isinstance(body, dict) else "-"
    except ValueError:
        order_id = "-"  # not JSON: a poison message
    attribute = message.get("MessageAttributes", {}).get("event_type", {})
    return DeadLetter(
        message_id=message["MessageId"],
        event_type=attribute.get("StringValue", "-"),
        order_id=order_id,
        receives=int(message.get("Attributes", {}).get("ApproximateReceiveCount", 0)),
        body=message["Body"],
    )


def redrive(sqs: Any, dead_letter_url: str, source_url: str) -> int:
    """Move every message back to its source queue; how many moved."""
    moved = 0
    while True:
        batch = sqs.receive_message(
            QueueUrl=dead_letter_url, MaxNumberOfMessages=10, VisibilityTimeout=60, MessageAttributeNames=["All"]
        ).get("Messages", [])
        if not batch:
            return moved
        for message in batch:
            sqs.send_message(
                QueueUrl=source_url,
                MessageBody=message["Body"],
                MessageAttributes=message.get("MessageAttributes", {}),
            )
            sqs.delete_message(QueueUrl=dead_letter_url, ReceiptHandle=message["ReceiptHandle"])
            moved += 1


def redrive_input(order_id: UUID, status: str, scale: float) -> dict[str, Any]:
    """The input of a redrive execution: the order's timings, and where to resume."""
    return execution_input(order_id, scale) | {"resume": status}


def redrive_name(order_id: UUID, existing: list[str]) -> str:
    """`<order id>-redrive-<n>`: execution names are unique, the first is the order id."""
    taken = sum(1 for name in existing if name.startswith(f"{order_id}-redrive-"))
    return f"{order_id}-redrive-{taken + 1}"
