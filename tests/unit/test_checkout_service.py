"""Checkout with in-memory collaborators: planning, reserving all or none,
the order written with its event, the fast path, and every collaborator
failing in turn."""

from __future__ import annotations

import uuid
from decimal import Decimal
from uuid import UUID

import pytest
from cassandra import WriteTimeout, WriteType

from fakes import World
from store.cart import MAX_CART_LINES
from store.checkout import CheckoutCreate, checkout_once
from store.db import CassandraUnavailable
from store.errors import BadRequest, Conflict, Unprocessable
from store.orders import OrderPublic
from store.reservations import INTENT_LIFETIME

USER = uuid.uuid4()

# No Lambda context in unit tests: Powertools warns it cannot see the remaining time.
pytestmark = pytest.mark.filterwarnings("ignore:Couldn.t determine the remaining time left")


@pytest.fixture
def world() -> World:
    return World()


def _cart(world: World, *lines: tuple[int, int]) -> list[UUID]:
    """Products with (stock, units in the cart) each; their ids."""
    ids = []
    for stock, units in lines:
        product = world.products.add(stock)
        world.carts.put(USER, product.id, units)
        ids.append(product.id)
    return ids


def test_checkout_reserves_writes_the_order_with_its_event_and_publishes_it(world: World) -> None:
    tea, cake = _cart(world, (5, 2), (3, 1))
    order = world.checkout.run(USER, CheckoutCreate())
    assert order.status == "CREATED"
    assert order.total == Decimal("7.50")
    assert (world.products.stock(tea), world.products.stock(cake)) == (3, 2)
    assert world.orders.items[order.id] == order
    assert world.carts.lines(USER) == []
    [event] = world.events_of(order.id)
    assert event.type == "OrderCreated"
    assert world.publisher.event_ids() == [event.id]
    assert world.outbox.rows == {}


def test_an_empty_cart_is_400(world: World) -> None:
    with pytest.raises(BadRequest):
        world.checkout.run(USER, CheckoutCreate())


def test_a_short_line_at_planning_is_409_and_nothing_is_reserved(world: World) -> None:
    tea, cake = _cart(world, (5, 2), (1, 3))
    with pytest.raises(Conflict) as raised:
        world.checkout.run(USER, CheckoutCreate())
    assert [item["product_id"] for item in raised.value.details["products"]] == [str(cake)]
    assert "products.reserve" not in world.faults.calls
    assert (world.products.stock(tea), world.products.stock(cake)) == (5, 1)


def test_a_line_lost_to_another_buyer_releases_the_lines_already_reserved(world: World) -> None:
    first, second = sorted(_cart(world, (5, 2), (5, 3)), key=str)  # lines are reserved in id order
    # Another buyer takes the second product between planning and reserving.
    world.checkout._products = _StealsBeforeReserving(world, second)  # type: ignore[assignment]
    with pytest.raises(Conflict):
        world.checkout.run(USER, CheckoutCreate())
    assert world.faults.calls.count("products.reserve") == 3  # first, the thief's, second
    assert world.products.stock(first) == 5
    assert world.orders.items == {}


class _StealsBeforeReserving:
    def __init__(self, world: World, product_id: UUID) -> None:
        self._world = world
        self._product_id = product_id

    def __getattr__(self, name: str) -> object:
        return getattr(self._world.products, name)

    def reserve(self, product_id: UUID, units: int, *, order_id: UUID) -> bool:
        if product_id == self._product_id:
            self._world.products.reserve(product_id, self._world.products.stock(product_id), order_id=uuid.uuid4())
        return self._world.products.reserve(product_id, units, order_id=order_id)


def test_a_changed_total_is_409_before_anything_is_reserved(world: World) -> None:
    tea = _cart(world, (5, 2))[0]
    with pytest.raises(Conflict):
        world.checkout.run(USER, CheckoutCreate(expected_total=Decimal("1.00")))
    assert world.products.stock(tea) == 5


# Every collaborator call of a two-line checkout, and what must hold when it fails.
FAILS_THE_REQUEST = [
    ("carts.lines", 1),
    ("products.get_many", 1),
    ("intents.open", 1),
    ("products.reserve", 1),
    ("products.reserve", 2),
    ("orders.create", 1),
]
ORDER_STANDS = [
    ("carts.forget_if_empty", 1),
    ("outbox.lease", 1),
    ("publisher.publish", 1),
    ("outbox.mark_sent", 1),
]


@pytest.mark.parametrize(("call", "nth"), FAILS_THE_REQUEST)
def test_a_failure_before_the_order_is_written_fails_the_request_and_gives_the_stock_back(
    world: World, call: str, nth: int
) -> None:
    tea, cake = _cart(world, (5, 2), (3, 1))
    world.faults.fail(call, nth)
    with pytest.raises(CassandraUnavailable):
        world.checkout.run(USER, CheckoutCreate())
    assert (world.products.stock(tea), world.products.stock(cake)) == (5, 3)
    assert world.orders.items == {}
    assert world.outbox.recorded == []
    assert world.intents.rows == {}
    assert len(world.carts.lines(USER)) == 2


@pytest.mark.parametrize(("call", "nth"), ORDER_STANDS)
def test_a_failure_after_the_order_is_written_still_answers_the_order(world: World, call: str, nth: int) -> None:
    tea, cake = _cart(world, (5, 2), (3, 1))
    world.faults.fail(call, nth)
    order = world.checkout.run(USER, CheckoutCreate())
    assert world.orders.items[order.id].status == "CREATED"
    assert (world.products.stock(tea), world.products.stock(cake)) == (3, 2)
    [event] = world.events_of(order.id)
    published = event.id in world.publisher.event_ids()
    # Either published now, or still pending for the sweep: never lost.
    assert published or event.id in world.outbox.rows
    assert world.carts.lines(USER) == []  # the ordered lines went with the order's batch
    if call == "outbox.mark_sent":
        # Published, and still pending: published again later, and consumers deduplicate.
        assert published
        assert event.id in world.outbox.rows


def _timeout(write_type: int) -> CassandraUnavailable:
    error = CassandraUnavailable("timed out")
    error.__cause__ = WriteTimeout("no answer in time", write_type=write_type)
    return error


def test_an_order_batch_that_timed_out_past_its_batch_log_is_an_order(world: World) -> None:
    """Cassandra replays a logged batch from its batch log: it will be written."""
    tea = _cart(world, (5, 2))[0]
    world.faults.fail("orders.create", when="after", error=_timeout(WriteType.BATCH))
    order = world.checkout.run(USER, CheckoutCreate())
    assert world.orders.items[order.id] == order
    assert world.products.stock(tea) == 3


def test_an_order_write_whose_outcome_is_unknown_and_not_found_is_settled_by_the_sweeper(world: World) -> None:
    """Not found when read back: perhaps it lands later. The stock stays taken
    until the intent expires; then the sweeper reads the order back."""
    tea = _cart(world, (5, 2))[0]
    world.faults.fail("orders.create", when="before", error=_timeout(WriteType.SIMPLE))
    with pytest.raises(CassandraUnavailable):
        world.checkout.run(USER, CheckoutCreate())
    assert world.products.stock(tea) == 3
    assert world.sweeper.sweep() == {"sold": 0, "released": 0}  # not yet expired
    world.clock.now += INTENT_LIFETIME
    assert world.sweeper.sweep() == {"sold": 0, "released": 1}
    assert world.products.stock(tea) == 5
    assert world.intents.rows == {}


def test_a_cart_past_the_limits_is_400_naming_the_limit(world: World) -> None:
    for _ in range(MAX_CART_LINES + 1):
        _cart(world, (5, 1))
    with pytest.raises(BadRequest) as raised:
        world.checkout.run(USER, CheckoutCreate())
    assert raised.value.details["limit"] == "MAX_CART_LINES"
    assert world.intents.rows == {}


def _checkout_with_key(world: World, key: str, request: CheckoutCreate) -> OrderPublic:
    return checkout_once(
        world.checkout, idempotency_store=world.idempotency, user_id=USER, request=request, idempotency_key=key
    )


def test_a_replay_with_the_same_key_answers_the_first_order(world: World) -> None:
    tea = _cart(world, (5, 2))[0]
    first = _checkout_with_key(world, "k1", CheckoutCreate())
    world.carts.put(USER, tea, 1)  # the cart changes; the replay must not order it
    again = _checkout_with_key(world, "k1", CheckoutCreate())
    assert again == first
    assert list(world.orders.items) == [first.id]
    assert world.products.stock(tea) == 3


def test_the_same_key_with_another_body_is_422(world: World) -> None:
    _cart(world, (5, 2))
    _checkout_with_key(world, "k", CheckoutCreate())
    with pytest.raises(Unprocessable):
        _checkout_with_key(world, "k", CheckoutCreate(expected_total=Decimal("5.00")))


def test_a_failed_checkout_frees_its_key_for_a_retry(world: World) -> None:
    tea = _cart(world, (5, 2))[0]
    world.faults.fail("orders.create")
    with pytest.raises(CassandraUnavailable):
        _checkout_with_key(world, "k", CheckoutCreate())
    world.faults.clear()
    order = _checkout_with_key(world, "k", CheckoutCreate())
    assert list(world.orders.items) == [order.id]
    assert world.products.stock(tea) == 3
