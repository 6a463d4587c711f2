"""The outbox relay's publish breaker against a real SNS outage: the relay's
topic does not exist (SNS answers NotFound) until the test creates it. The
breaker opens after BREAKER_FAIL_MAX failures, refuses without calling SNS
while open, lets a trial call through after BREAKER_RESET_SECONDS and closes
when SNS answers again; each transition is a log line and a metric.

(The profile's breakers are tested with failing sources in
tests/unit/test_profile.py: all its sources live in the one Cassandra that
authentication needs too, so no real outage takes a source away alone.)"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from support import LocalStack, add_to_cart, bearer, checkout, create_product, eventually, new_user

RESET_SECONDS = 4
RELAY = "OutboxRelayFunctionName"


def _environment(local_stack: LocalStack, output: str) -> dict[str, str]:
    name = local_stack.outputs[output]
    variables: dict[str, str] = local_stack.client("lambda").get_function_configuration(FunctionName=name)[
        "Environment"
    ]["Variables"]
    return variables


def _set_environment(local_stack: LocalStack, output: str, variables: dict[str, str]) -> None:
    local_stack.client("lambda").update_function_configuration(
        FunctionName=local_stack.outputs[output], Environment={"Variables": variables}
    )


class Outage:
    """The cart function and the relay publish to a topic that does not exist yet."""

    def __init__(self, local_stack: LocalStack) -> None:
        self.stack = local_stack
        real = local_stack.outputs["OrderEventsTopicArn"]
        self.topic_name = f"breaker-{uuid.uuid4().hex[:8]}"
        self.topic_arn = real.rsplit(":", 1)[0] + f":{self.topic_name}"
        self.saved = {output: _environment(local_stack, output) for output in ("CartFunctionName", RELAY)}
        self.queue_url: str | None = None

    def begin(self) -> None:
        for output, variables in self.saved.items():
            changed = variables | {"ORDER_EVENTS_TOPIC_ARN": self.topic_arn}
            if output == RELAY:
                changed |= {"BREAKER_FAIL_MAX": "2", "BREAKER_RESET_SECONDS": str(RESET_SECONDS)}
            _set_environment(self.stack, output, changed)

    def sns_back(self) -> str:
        """Create the topic, with a queue of the test's own on it; its URL."""
        sns, sqs = self.stack.client("sns"), self.stack.client("sqs")
        assert sns.create_topic(Name=self.topic_name)["TopicArn"] == self.topic_arn
        self.queue_url = sqs.create_queue(QueueName=self.topic_name)["QueueUrl"]
        queue_arn = sqs.get_queue_attributes(QueueUrl=self.queue_url, AttributeNames=["QueueArn"])["Attributes"][
            "QueueArn"
        ]
        sns.subscribe(
            TopicArn=self.topic_arn, Protocol="sqs", Endpoint=queue_arn, Attributes={"RawMessageDelivery": "true"}
        )
        return self.queue_url

    def end(self) -> None:
        for output, variables in self.saved.items():
            _set_environment(self.stack, output, variables)
        self.stack.client("sns").delete_topic(TopicArn=self.topic_arn)
        if self.queue_url:
            self.stack.client("sqs").delete_queue(QueueUrl=self.queue_url)


@pytest.fixture
def outage(local_stack: LocalStack) -> Iterator[Outage]:
    outage = Outage(local_stack)
    try:
        yield outage
    finally:
        outage.end()


def _sweep(local_stack: LocalStack) -> dict[str, Any]:
    response = local_stack.client("lambda").invoke(FunctionName=local_stack.outputs[RELAY], Payload=b"{}")
    result: dict[str, Any] = json.loads(response["Payload"].read())
    return result


def _relay_log(local_stack: LocalStack, since_ms: int) -> list[str]:
    group = f"/aws/lambda/{local_stack.outputs[RELAY]}"
    events = local_stack.client("logs").filter_log_events(logGroupName=group, startTime=since_ms)["events"]
    return [event["message"] for event in events]


def _bridge_value(local_stack: LocalStack, name: str, labels: dict[str, str]) -> float:
    text = httpx.get(f"{local_stack.instance.bridge_url}/metrics", timeout=10).text
    wanted = [f'{key}="{value}"' for key, value in labels.items()]
    return sum(
        float(line.rsplit(" ", 1)[1])
        for line in text.splitlines()
        if line.startswith(name + "{") and all(part in line for part in wanted)
    )


def test_the_relay_breaker_opens_on_an_sns_outage_and_closes_when_sns_is_back(
    local_stack: LocalStack, api: httpx.Client, admin_token: str, outage: Outage
) -> None:
    opened_before = _bridge_value(
        local_stack, "circuit_breaker_transitions_total", {"breaker": "outbox_publish", "state": "open"}
    )
    since_ms = int(time.time() * 1000)
    outage.begin()
    product = create_product(api, admin_token, quantity=5)
    orders = []
    for _ in range(3):
        _, token = new_user(api)
        assert add_to_cart(api, token, product["id"], 1).status_code == 201
        response = checkout(api, token)
        assert response.status_code == 201, response.text  # the checkout does not wait for SNS
        orders.append(response.json()["id"])
        assert api.get(f"/order-api/orders/{orders[-1]}", headers=bearer(token)).status_code == 200

    # Two failed publishes open the breaker; the sweep stops there. (The
    # scheduled sweep may run in between and open it first: then ours is refused.)
    first = _sweep(local_stack)
    assert (first["published"], first["breaker"]) == (0, "open"), first
    assert first["failed"] in {1, 2}, first
    # While open, SNS is not called: one event refused, nothing else tried.
    second = _sweep(local_stack)
    assert (second["published"], second["failed"], second["breaker"]) == (0, 1, "open"), second

    queue = outage.sns_back()
    time.sleep(RESET_SECONDS + 1)
    # A trial call goes through, succeeds and closes the breaker; the sweep publishes the rest.
    third = _sweep(local_stack)
    assert third["breaker"] == "closed", third
    assert third["published"] >= 3, third
    sqs = local_stack.client("sqs")
    received: set[str] = set()

    def all_delivered() -> bool:
        for message in sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10, WaitTimeSeconds=1).get(
            "Messages", []
        ):
            received.add(json.loads(message["Body"])["order_id"])
        return set(orders) <= received

    eventually(all_delivered, timeout=30, what="the held-back events on the topic")

    def transitions_logged() -> bool:
        lines = _relay_log(local_stack, since_ms)
        wanted = [f"circuit breaker outbox_publish: {step}" for step in ("closed -> open", "open -> half-open")]
        wanted.append("circuit breaker outbox_publish: half-open -> closed")
        return all(any(text in line for line in lines) for text in wanted)

    eventually(transitions_logged, timeout=30, what="a log line per transition")

    def measured() -> bool:
        opened = _bridge_value(
            local_stack, "circuit_breaker_transitions_total", {"breaker": "outbox_publish", "state": "open"}
        )
        state = _bridge_value(local_stack, "circuit_breaker_state", {"breaker": "outbox_publish"})
        return opened >= opened_before + 1 and state == 0  # opened, and closed again (0) at the last change

    eventually(measured, timeout=90, interval=2, what="the transitions on the metrics bridge")
