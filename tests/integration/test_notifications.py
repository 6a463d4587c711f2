"""Notifications: order events -> the notifications queue (filter policy) ->
the consumer (partial batch responses) -> the owner's inbox at
GET /user-api/me/notifications."""

from __future__ import annotations

import json
import uuid
from typing import Any

import httpx

from store.events import DomainEvent
from support import LocalStack, add_to_cart, bearer, checkout, create_product, eventually, new_user, wait_for_message


def inbox(api: httpx.Client, token: str, count: int) -> list[dict[str, Any]] | None:
    response = api.get("/user-api/me/notifications", headers=bearer(token))
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return items if len(items) >= count else None


def status_event(user_id: str, status: str) -> DomainEvent:
    return DomainEvent(
        type="OrderStatusChanged", order_id=uuid.uuid4(), user_id=uuid.UUID(user_id), payload={"status": status}
    )


def test_status_changes_of_an_order_reach_the_inbox_newest_first(
    api: httpx.Client, admin_token: str, local_stack: LocalStack
) -> None:
    _, token = new_user(api)
    product = create_product(api, admin_token, price="7.13")  # .13: the payment is declined
    assert add_to_cart(api, token, product["id"]).status_code == 201
    order = checkout(api, token).json()

    items = eventually(lambda: inbox(api, token, 2), timeout=60, what="two notifications")
    assert [item["message"] for item in items] == [
        f"Your order {order['id']} changed status to: CANCELLED",
        f"Your order {order['id']} has been created.",
    ]
    assert [item["event_type"] for item in items] == ["OrderStatusChanged", "OrderCreated"]
    assert api.get("/user-api/me/notifications").status_code == 401


def test_a_replayed_event_makes_one_inbox_entry(api: httpx.Client, local_stack: LocalStack) -> None:
    user, token = new_user(api)
    event = status_event(user["id"], "SHIPPING")
    for _ in range(3):
        local_stack.client("sns").publish(
            TopicArn=local_stack.outputs["OrderEventsTopicArn"],
            Message=event.model_dump_json(),
            MessageAttributes=event.sns_attributes(),
        )
    marker = status_event(user["id"], "DELIVERED")  # published after: once it is in, so were the replays
    local_stack.client("sns").publish(
        TopicArn=local_stack.outputs["OrderEventsTopicArn"],
        Message=marker.model_dump_json(),
        MessageAttributes=marker.sns_attributes(),
    )
    items = eventually(lambda: inbox(api, token, 2), timeout=60, what="the notifications")
    sqs = local_stack.client("sqs")
    eventually(
        lambda: (
            sqs.get_queue_attributes(
                QueueUrl=local_stack.outputs["NotificationsQueueUrl"],
                AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
            )["Attributes"]
            == {"ApproximateNumberOfMessages": "0", "ApproximateNumberOfMessagesNotVisible": "0"}
        ),
        timeout=60,
        what="the queue to drain",
    )
    items = inbox(api, token, 0) or []
    assert sorted(item["event_id"] for item in items) == sorted([str(event.id), str(marker.id)])


def test_a_poison_message_goes_to_the_dlq_while_the_rest_of_its_batch_is_processed(
    api: httpx.Client, local_stack: LocalStack
) -> None:
    user, token = new_user(api)
    good = [status_event(user["id"], "PROCESSING"), status_event(user["id"], "SHIPPING")]
    poison = json.dumps({"type": "OrderStatusChanged", "order_id": "not-a-uuid", "marker": str(uuid.uuid4())})
    sqs = local_stack.client("sqs")
    # One SendMessageBatch, so the consumer receives them together.
    sqs.send_message_batch(
        QueueUrl=local_stack.outputs["NotificationsQueueUrl"],
        Entries=[
            {"Id": "good0", "MessageBody": good[0].model_dump_json()},
            {"Id": "poison", "MessageBody": poison},
            {"Id": "good1", "MessageBody": good[1].model_dump_json()},
        ],
    )
    items = eventually(lambda: inbox(api, token, 2), timeout=30, what="the good messages in the inbox")
    assert sorted(item["event_id"] for item in items) == sorted(str(event.id) for event in good)

    dlq_url = local_stack.outputs["NotificationsDeadLetterQueueUrl"]
    wait_for_message(local_stack, dlq_url, poison)
    assert len(inbox(api, token, 0) or []) == 2
