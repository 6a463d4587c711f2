"""Order events fan out SNS -> SQS -> the notifications consumer; poison goes to the DLQ."""

from __future__ import annotations

import json
import uuid
from typing import Any

from cassandra.cluster import Cluster

from store.events import DomainEvent
from support import LocalStack, eventually, wait_for_message


def _inbox_rows(local_stack: LocalStack, user_id: uuid.UUID) -> list[Any]:
    cluster = Cluster(["127.0.0.1"], port=local_stack.instance.cassandra_port, protocol_version=5)
    try:
        session = cluster.connect("store")
        statement = session.prepare("SELECT event_id, message FROM notifications_by_user WHERE user_id = ?")
        return list(session.execute(statement, (user_id,)))
    finally:
        cluster.shutdown()


def _publish(local_stack: LocalStack, event: DomainEvent) -> None:
    local_stack.client("sns").publish(
        TopicArn=local_stack.outputs["OrderEventsTopicArn"],
        Message=event.model_dump_json(),
        MessageAttributes=event.sns_attributes(),
    )


def test_event_reaches_the_consumer_once_even_when_delivered_twice(local_stack: LocalStack) -> None:
    event = DomainEvent(
        type="OrderStatusChanged", order_id=uuid.uuid4(), user_id=uuid.uuid4(), payload={"status": "SHIPPING"}
    )
    _publish(local_stack, event)
    _publish(local_stack, event)  # a redelivery: same event id

    rows = eventually(lambda: _inbox_rows(local_stack, event.user_id), timeout=60, what="the inbox entry")
    # Give the duplicate time to be consumed too before counting.
    eventually(
        lambda: (
            local_stack.client("sqs").get_queue_attributes(
                QueueUrl=local_stack.outputs["NotificationsQueueUrl"],
                AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
            )["Attributes"]
            == {"ApproximateNumberOfMessages": "0", "ApproximateNumberOfMessagesNotVisible": "0"}
        ),
        timeout=60,
        what="the queue to drain",
    )
    rows = _inbox_rows(local_stack, event.user_id)
    assert len(rows) == 1
    assert rows[0].event_id == event.id
    assert rows[0].message == f"Your order {event.order_id} changed status to: SHIPPING"


def test_poison_message_lands_in_the_dead_letter_queue(local_stack: LocalStack) -> None:
    dlq_url = local_stack.outputs["NotificationsDeadLetterQueueUrl"]
    poison = json.dumps({"type": "OrderStatusChanged", "order_id": "not-a-uuid", "marker": str(uuid.uuid4())})
    local_stack.client("sns").publish(
        TopicArn=local_stack.outputs["OrderEventsTopicArn"],
        Message=poison,
        # The notifications subscription's filter policy lets only order events through.
        MessageAttributes={"event_type": {"DataType": "String", "StringValue": "OrderStatusChanged"}},
    )

    # Three receives, each hidden for the 15 s visibility timeout the tests deploy with.
    message = wait_for_message(local_stack, dlq_url, poison)
    assert json.loads(message["Body"])["order_id"] == "not-a-uuid"
