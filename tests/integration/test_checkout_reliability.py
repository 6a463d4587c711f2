"""The issue's reliability list: no overselling under concurrency, idempotent
replays, and no lost events while SNS is down. (Cassandra down is in
test_checkout_outage.py: it stops the database for the whole stack.)"""

from __future__ import annotations

import contextlib
import json
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest

from store.outbox import bucket_of
from support import (
    LocalStack,
    add_to_cart,
    bearer,
    checkout,
    cql,
    create_product,
    eventually,
    new_user,
    stock_of,
    token_for,
    unique_username,
)

BUYERS = 30
STOCK = 10


@pytest.fixture
def patient_api(local_stack: LocalStack) -> Iterator[httpx.Client]:
    """A client that waits for the emulator to start a Lambda worker per concurrent
    request (a cold start each, all at once on this machine)."""
    with httpx.Client(base_url=local_stack.api_url, timeout=180) as client:
        yield client


def _setup(call: Callable[[], httpx.Response]) -> httpx.Response:
    """A setup request, not what is tested: a 503 (Cassandra still warming up
    after an earlier test restarted it) is retried."""
    for _ in range(10):
        response = call()
        if response.status_code != 503:
            return response
        time.sleep(1)
    raise AssertionError(f"kept answering 503: {response.text}")


def _buyer(api: httpx.Client) -> str:
    """A new user's token."""
    username = unique_username("buyer")
    credentials = {"username": username, "password": "a-good-password"}
    response = _setup(lambda: api.post("/user-api/register", json=credentials))
    assert response.status_code == 201, response.text
    return token_for(api, username, "a-good-password")


def test_thirty_buyers_ten_in_stock_exactly_ten_orders(patient_api: httpx.Client, admin_token: str) -> None:
    api = patient_api
    product = create_product(api, admin_token, name="Limited Edition", quantity=STOCK)
    with ThreadPoolExecutor(max_workers=4) as pool:
        tokens = list(pool.map(lambda _: _buyer(api), range(BUYERS)))
        added = list(
            pool.map(lambda token: _setup(lambda: add_to_cart(api, token, product["id"], 1)).status_code, tokens)
        )
    assert added == [201] * BUYERS
    # Warm as many cart workers as there will be concurrent requests, so the
    # checkouts below really overlap instead of queueing behind cold starts.
    with ThreadPoolExecutor(max_workers=BUYERS) as pool:
        assert set(pool.map(lambda _: _setup(lambda: api.get("/cart-api/health")).status_code, range(BUYERS))) == {200}

    # Everyone checks out at once (a barrier releases all threads together),
    # while another thread keeps reading the stock.
    start = threading.Barrier(BUYERS)
    stock_seen: list[int] = []
    stop = threading.Event()

    def buy(token: str) -> httpx.Response:
        start.wait()
        return checkout(api, token)

    def watch_stock() -> None:
        while not stop.is_set():
            # A read the busy emulator answers late or with 503 is skipped, not fatal.
            with contextlib.suppress(httpx.HTTPError):
                response = api.get(f"/api/products/{product['id']}", headers=bearer(admin_token))
                if response.status_code == 200:
                    stock_seen.append(response.json()["quantity"])

    watcher = threading.Thread(target=watch_stock)
    watcher.start()
    started = time.perf_counter()
    try:
        with ThreadPoolExecutor(max_workers=BUYERS) as pool:
            responses = list(pool.map(buy, tokens))
        duration = time.perf_counter() - started
    finally:
        stop.set()
        watcher.join()

    codes = Counter(response.status_code for response in responses)
    final_stock = stock_of(api, admin_token, product["id"])
    print(
        f"\noversell: {BUYERS} buyers, {STOCK} in stock: {codes[201]} orders, {codes[409]} answers 409, "
        f"other { {c: n for c, n in codes.items() if c not in (201, 409)} }, final stock {final_stock}, "
        f"lowest stock seen {min(stock_seen, default=final_stock)} over {len(stock_seen)} reads, {duration:.2f} s"
    )
    assert codes == {201: STOCK, 409: BUYERS - STOCK}, [r.text for r in responses if r.status_code not in (201, 409)]
    assert final_stock == 0
    assert min(stock_seen, default=0) >= 0
    for response in responses:
        if response.status_code == 409:
            assert "Limited Edition" in response.json()["error"]["message"]
    ordered = [r.json() for r in responses if r.status_code == 201]
    assert sum(order["items"][0]["quantity"] for order in ordered) == STOCK
    assert len({order["id"] for order in ordered}) == STOCK


def test_replay_with_the_same_key_is_one_order_one_decrement(api: httpx.Client, admin_token: str) -> None:
    product = create_product(api, admin_token, quantity=5)
    _, token = new_user(api)
    add_to_cart(api, token, product["id"], 2)
    key = str(uuid.uuid4())

    first = checkout(api, token, key=key)
    assert first.status_code == 201, first.text
    replay = checkout(api, token, key=key)
    assert replay.status_code == 201, replay.text
    assert replay.json() == first.json()
    assert stock_of(api, admin_token, product["id"]) == 3
    orders = api.get("/order-api/orders", headers=bearer(token)).json()["items"]
    assert [order["id"] for order in orders] == [first.json()["id"]]

    # The same key with another body is refused; the order stays the only one.
    other_body = checkout(api, token, key=key, body={"expected_total": "1.00"})
    assert other_body.status_code == 422, other_body.text
    assert other_body.json()["error"]["details"] == {"header": "Idempotency-Key"}
    assert stock_of(api, admin_token, product["id"]) == 3


def test_concurrent_requests_with_one_key_order_once(api: httpx.Client, admin_token: str) -> None:
    product = create_product(api, admin_token, quantity=5)
    _, token = new_user(api)
    add_to_cart(api, token, product["id"], 1)
    key = str(uuid.uuid4())
    with ThreadPoolExecutor(max_workers=5) as pool:
        responses = list(pool.map(lambda _: checkout(api, token, key=key), range(5)))
    created = {r.json()["id"] for r in responses if r.status_code == 201}
    assert len(created) == 1, [r.text for r in responses]
    # The others either replayed the order or were told the first is still running.
    assert {r.status_code for r in responses} <= {201, 409}
    assert stock_of(api, admin_token, product["id"]) == 4
    assert len(api.get("/order-api/orders", headers=bearer(token)).json()["items"]) == 1


def test_keys_belong_to_their_user(api: httpx.Client, admin_token: str) -> None:
    product = create_product(api, admin_token, quantity=5)
    key = str(uuid.uuid4())
    orders = []
    for _ in range(2):
        _, token = new_user(api)
        add_to_cart(api, token, product["id"], 1)
        response = checkout(api, token, key=key)
        assert response.status_code == 201, response.text
        orders.append(response.json()["id"])
    assert orders[0] != orders[1]
    assert stock_of(api, admin_token, product["id"]) == 3


# ---------------------------------------------------------------- SNS down


def _set_topic(local_stack: LocalStack, output: str, topic_arn: str) -> None:
    client = local_stack.client("lambda")
    name = local_stack.outputs[output]
    variables = client.get_function_configuration(FunctionName=name)["Environment"]["Variables"]
    client.update_function_configuration(
        FunctionName=name, Environment={"Variables": variables | {"ORDER_EVENTS_TOPIC_ARN": topic_arn}}
    )


class SnsOutage:
    """SNS is unreachable for the cart function and the relay: both publish to a
    topic that does not exist (SNS answers NotFound, as in an outage), until `end`."""

    def __init__(self, local_stack: LocalStack) -> None:
        self._stack = local_stack
        self._real = local_stack.outputs["OrderEventsTopicArn"]
        self.functions: tuple[str, ...] = ()

    @property
    def active(self) -> bool:
        return bool(self.functions)

    def begin(self, functions: tuple[str, ...] = ("CartFunctionName", "OutboxRelayFunctionName")) -> None:
        missing = self._real.rsplit(":", 1)[0] + f":missing-{uuid.uuid4().hex[:8]}"
        self.functions = functions
        for output in functions:
            _set_topic(self._stack, output, missing)

    def end(self) -> None:
        for output in self.functions:
            _set_topic(self._stack, output, self._real)
        self.functions = ()


@pytest.fixture
def sns_outage(local_stack: LocalStack) -> Iterator[SnsOutage]:
    outage = SnsOutage(local_stack)
    try:
        yield outage
    finally:
        if outage.active:
            outage.end()


@pytest.fixture
def tap(local_stack: LocalStack) -> Iterator[str]:
    """A queue of the test's own on the order events topic, to count every delivery
    of OrderCreated (the lifecycle's status changes are filtered out)."""
    sqs = local_stack.client("sqs")
    url: str = sqs.create_queue(QueueName=f"tap-{uuid.uuid4().hex[:8]}")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    sns = local_stack.client("sns")
    subscription = sns.subscribe(
        TopicArn=local_stack.outputs["OrderEventsTopicArn"],
        Protocol="sqs",
        Endpoint=arn,
        Attributes={"RawMessageDelivery": "true", "FilterPolicy": json.dumps({"event_type": ["OrderCreated"]})},
        ReturnSubscriptionArn=True,
    )["SubscriptionArn"]
    try:
        yield url
    finally:
        sns.unsubscribe(SubscriptionArn=subscription)
        sqs.delete_queue(QueueUrl=url)


def _drain(local_stack: LocalStack, url: str, seconds: float) -> list[dict[str, Any]]:
    sqs = local_stack.client("sqs")
    bodies = []
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        for message in sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=1).get("Messages", []):
            bodies.append(json.loads(message["Body"]))
            sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
    return bodies


def _sweep(local_stack: LocalStack) -> dict[str, Any]:
    response = local_stack.client("lambda").invoke(
        FunctionName=local_stack.outputs["OutboxRelayFunctionName"], Payload=b"{}"
    )
    result: dict[str, Any] = json.loads(response["Payload"].read())
    return result


def _outbox_rows(local_stack: LocalStack, order_id: uuid.UUID) -> list[Any]:
    """The order's OrderCreated event (its lifecycle adds OrderStatusChanged events later)."""
    # ALLOW FILTERING only here, in a test, on the small test outbox; the app never scans it.
    rows = cql(
        local_stack,
        "SELECT event_id, event_type, sent_at FROM outbox WHERE order_id = ? ALLOW FILTERING",
        (order_id,),
    )
    return [row for row in rows if row.event_type == "OrderCreated"]


def _is_pending(local_stack: LocalStack, event_id: uuid.UUID) -> bool:
    rows = cql(local_stack, "SELECT event_id FROM outbox_pending WHERE bucket = ?", (bucket_of(event_id),))
    return event_id in {row.event_id for row in rows}


def _inbox(local_stack: LocalStack, user_id: str) -> list[Any]:
    return cql(
        local_stack, "SELECT event_id, order_id FROM notifications_by_user WHERE user_id = ?", (uuid.UUID(user_id),)
    )


def test_sns_down_the_order_is_created_and_its_event_published_once_when_back(
    api: httpx.Client, admin_token: str, local_stack: LocalStack, tap: str, sns_outage: SnsOutage
) -> None:
    product = create_product(api, admin_token, quantity=3)
    user, token = new_user(api)
    add_to_cart(api, token, product["id"], 1)

    sns_outage.begin()
    response = checkout(api, token)
    assert response.status_code == 201, response.text
    order_id = uuid.UUID(response.json()["id"])
    [event] = _outbox_rows(local_stack, order_id)
    assert (event.event_type, event.sent_at) == ("OrderCreated", None)
    assert _is_pending(local_stack, event.event_id)
    assert _sweep(local_stack)["published"] == 0  # the sweep cannot publish either
    assert _is_pending(local_stack, event.event_id)
    assert _drain(local_stack, tap, 3) == []

    # SNS is back: the next sweep publishes it (run here at once; the schedule does within a minute).
    sns_outage.end()

    def published() -> bool:
        if _outbox_rows(local_stack, order_id)[0].sent_at is not None:
            return True
        _sweep(local_stack)
        return False

    eventually(published, timeout=90, interval=2, what="the event to be published")
    assert not _is_pending(local_stack, event.event_id)
    delivered = [body for body in _drain(local_stack, tap, 5) if body["order_id"] == str(order_id)]
    _sweep(local_stack)  # a later sweep does not publish it again
    delivered += [body for body in _drain(local_stack, tap, 5) if body["order_id"] == str(order_id)]
    assert [(body["type"], body["id"]) for body in delivered] == [("OrderCreated", str(event.event_id))]
    assert delivered[0]["payload"]["order"]["id"] == str(order_id)

    # ...and the notifications consumer handled it once.
    eventually(lambda: _inbox(local_stack, user["id"]), timeout=60, what="the notification")
    time.sleep(3)
    # (The order's lifecycle adds its own status notifications: count this event's.)
    rows = [(row.event_id, row.order_id) for row in _inbox(local_stack, user["id"]) if row.event_id == event.event_id]
    assert rows == [(event.event_id, order_id)]


def test_the_fast_path_publishes_at_once(
    api: httpx.Client, admin_token: str, local_stack: LocalStack, tap: str
) -> None:
    product = create_product(api, admin_token, quantity=3)
    _, token = new_user(api)
    add_to_cart(api, token, product["id"], 1)
    order_id = checkout(api, token).json()["id"]
    [event] = _outbox_rows(local_stack, uuid.UUID(order_id))
    assert event.sent_at is not None  # published before checkout answered
    delivered = [body for body in _drain(local_stack, tap, 4) if body["order_id"] == order_id]
    assert [body["type"] for body in delivered] == ["OrderCreated"]


def test_the_scheduled_sweep_publishes_what_the_fast_path_could_not(
    api: httpx.Client, admin_token: str, local_stack: LocalStack, tap: str, sns_outage: SnsOutage
) -> None:
    """Only the checkout's fast path fails; nobody invokes the relay: its
    EventBridge schedule (every minute) must publish the event."""
    product = create_product(api, admin_token, quantity=3)
    _, token = new_user(api)
    add_to_cart(api, token, product["id"], 1)
    sns_outage.begin(("CartFunctionName",))
    response = checkout(api, token)
    sns_outage.end()
    assert response.status_code == 201, response.text
    order_id = response.json()["id"]
    [event] = _outbox_rows(local_stack, uuid.UUID(order_id))
    assert event.sent_at is None

    eventually(
        lambda: _outbox_rows(local_stack, uuid.UUID(order_id))[0].sent_at is not None,
        timeout=150,
        interval=3,
        what="the scheduled sweep to publish the event",
    )
    delivered = [body for body in _drain(local_stack, tap, 5) if body["order_id"] == order_id]
    assert [body["id"] for body in delivered] == [str(event.event_id)]
