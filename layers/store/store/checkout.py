"""Checkout: a cart becomes an order without overselling.

1. Plan: every line's product must still exist and have the units (a read; a
   hint only, it may be stale).
2. Reserve: take each line's units by compare-and-set on the product's stock
   (`ProductRepository.reserve`). All lines or none: when a line cannot be
   reserved, what was reserved so far is released.
3. Write the order, its listing keys and its `OrderCreated` outbox event in one
   logged batch; then remove the ordered lines from the cart.
4. Fast path: publish the event now. If SNS fails, the event stays pending and
   the relay's next sweep publishes it.

With an `Idempotency-Key`, Powertools idempotency (records in Cassandra) makes
a repeated request answer the first response instead of ordering again.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Annotated, Any
from uuid import UUID

from aws_lambda_powertools.utilities.idempotency import BasePersistenceLayer, IdempotencyConfig, idempotent_function
from aws_lambda_powertools.utilities.idempotency.exceptions import (
    IdempotencyAlreadyInProgressError,
    IdempotencyPersistenceLayerError,
    IdempotencyValidationError,
)
from aws_lambda_powertools.utilities.typing import LambdaContext
from cassandra import WriteTimeout, WriteType
from pydantic import BaseModel, ConfigDict

from store.cart import CART_ITEMS_BUCKETS, CART_VALUE_BUCKETS, MAX_CART_LINES, MAX_ORDER_UNITS, CartLine
from store.catalog import ProductPublic
from store.clock import Clock, to_ms, utc_now
from store.db import CassandraUnavailable, outcome_unknown
from store.errors import BadRequest, Conflict, NotFound, Unprocessable
from store.events import DomainEvent
from store.money import Amount
from store.observability import MetricUnit, count, logger, observe
from store.orders import OrderItem, OrderPublic, StatusChange, order_total
from store.outbox import OutboxRelay
from store.popular import SalesCounter, record_sales
from store.ports import CartLines, IntentStore, OrderStore, ProductStock
from store.reservations import INTENT_LIFETIME, CheckoutIntent, new_intent
from store.tracing import tag, traced

IDEMPOTENCY_TTL_SECONDS = 24 * 3600


class CheckoutCreate(BaseModel):
    """Optional. `expected_total` guards against ordering a cart that changed
    since the client showed it (409 if it differs)."""

    model_config = ConfigDict(extra="forbid")

    expected_total: Annotated[Decimal, Amount("0", integer_digits=12)] | None = None


def _shortage(line: CartLine, product: ProductPublic | None) -> dict[str, Any]:
    return {
        "product_id": str(line.product_id),
        "name": product.name if product else None,
        "requested": line.quantity,
        "available": product.quantity if product else 0,
    }


def _insufficient(shortages: list[dict[str, Any]]) -> Conflict:
    names = ", ".join(str(item["name"] or item["product_id"]) for item in shortages)
    return Conflict(f"not enough stock for: {names}", details={"products": shortages})


def plan_checkout(lines: Sequence[CartLine], products: dict[UUID, ProductPublic]) -> list[OrderItem]:
    """The order's items at today's prices, or 400 (empty) / 409 naming every
    product that is gone or short."""
    if not lines:
        raise BadRequest("your cart is empty")
    shortages = [
        _shortage(line, products.get(line.product_id))
        for line in lines
        if line.product_id not in products or products[line.product_id].quantity < line.quantity
    ]
    if shortages:
        raise _insufficient(shortages)
    return [
        OrderItem(
            product_id=line.product_id,
            name=products[line.product_id].name,
            price=products[line.product_id].price,
            quantity=line.quantity,
        )
        for line in sorted(lines, key=lambda line: str(line.product_id))
    ]


def new_order(user_id: UUID, items: list[OrderItem], now: datetime) -> OrderPublic:
    created_at = to_ms(now)
    return OrderPublic(
        id=uuid.uuid4(),
        user_id=user_id,
        items=items,
        total=order_total(items),
        status="CREATED",
        created_at=created_at,
        updated_at=created_at,
        status_history=[StatusChange(status="CREATED", changed_at=created_at, changed_by="user")],
    )


def order_created_event(order: OrderPublic) -> DomainEvent:
    return DomainEvent(
        type="OrderCreated",
        occurred_at=order.created_at,
        order_id=order.id,
        user_id=order.user_id,
        payload={"order": order.model_dump(mode="json")},
    )


def check_cart_limits(lines: Sequence[CartLine]) -> None:
    """400 for an empty cart or one past the limits (which keep the order's batch
    far inside Cassandra's batch size limit and the reservations inside the
    function's timeout)."""
    if not lines:
        raise BadRequest("your cart is empty")
    if len(lines) > MAX_CART_LINES:
        raise BadRequest(
            f"a cart holds at most {MAX_CART_LINES} different products; this one has {len(lines)}",
            details={"limit": "MAX_CART_LINES", "max": MAX_CART_LINES, "lines": len(lines)},
        )
    units = sum(line.quantity for line in lines)
    if units > MAX_ORDER_UNITS:
        raise BadRequest(
            f"an order holds at most {MAX_ORDER_UNITS} units; this cart has {units}",
            details={"limit": "MAX_ORDER_UNITS", "max": MAX_ORDER_UNITS, "units": units},
        )


def _bucket(value: float, buckets: Sequence[float]) -> str:
    """The seeds' histogram bucket a value falls in (an EMF dimension: `le_50`, `gt_1000`)."""
    for bound in buckets:
        if value <= bound:
            return f"le_{bound}"
    return f"gt_{buckets[-1]}"


class Checkout:
    def __init__(
        self,
        *,
        carts: CartLines,
        products: ProductStock,
        orders: OrderStore,
        intents: IntentStore,
        relay: OutboxRelay | None,
        intent_lifetime: timedelta = INTENT_LIFETIME,
        clock: Clock = utc_now,
        sales: SalesCounter | None = None,
    ) -> None:
        self._sales = sales
        self._intent_lifetime = intent_lifetime
        self._carts = carts
        self._products = products
        self._orders = orders
        self._intents = intents
        self._relay = relay
        self._clock = clock

    @traced("checkout")
    def run(self, user_id: UUID, request: CheckoutCreate) -> OrderPublic:
        lines = self._carts.lines(user_id)
        check_cart_limits(lines)
        products = self._products.get_many([line.product_id for line in lines])
        try:
            items = plan_checkout(lines, products)
        except Conflict:
            count("stock_validation_failures", stage="plan")
            count("checkouts_total", outcome="insufficient_stock")
            raise
        total = order_total(items)
        if request.expected_total is not None and request.expected_total != total:
            raise Conflict(
                f"the cart total is {total}, not the expected {request.expected_total}: review the cart",
                details={"total": str(total), "expected_total": str(request.expected_total)},
            )
        order = new_order(user_id, items, self._clock())
        tag(order_id=order.id)  # `storectl trace ORDER_ID` finds the trace by it
        event = order_created_event(order)
        # Recorded before any stock is taken: a crash from here on is settled by the sweeper.
        lines_ordered = {item.product_id: item.quantity for item in items}
        intent = new_intent(order.id, user_id, lines_ordered, self._clock(), self._intent_lifetime)
        self._intents.open(intent)
        self._reserve_all(order, products, intent)
        try:
            self._orders.create(order, event, intent)
        except CassandraUnavailable as error:
            if not outcome_unknown(error):
                self._give_back(order, intent)
                raise
            if not self._written(order, error):
                # Perhaps written later: the sweeper reads it back once the intent
                # expires and gives the stock back only if the order is not there.
                logger.error("order write outcome unknown; left to the sweeper", extra={"order_id": str(order.id)})
                raise
        self._after_commit(user_id, order, event)
        record_sales(self._sales, order, products)
        return order

    def _written(self, order: OrderPublic, error: CassandraUnavailable) -> bool:
        """Reconcile a timed-out order write: a logged batch past its batch log
        will be applied (Cassandra replays it); otherwise read the order back."""
        cause = error.__cause__
        if isinstance(cause, WriteTimeout) and cause.write_type == WriteType.BATCH:
            return True
        try:
            return self._orders.get(order.id) is not None
        except CassandraUnavailable:
            return False

    @traced("reservation")
    def _reserve_all(self, order: OrderPublic, products: dict[UUID, ProductPublic], intent: CheckoutIntent) -> None:
        """Take every line's units for the order, or none: what was taken is given back."""
        try:
            for item in order.items:
                try:
                    taken = self._products.reserve(item.product_id, item.quantity, order_id=order.id)
                except NotFound:
                    taken = False
                if not taken:
                    count("stock_validation_failures", stage="reserve")
                    count("checkouts_total", outcome="insufficient_stock")
                    current = self._products.get(item.product_id)
                    line = CartLine(uuid.uuid4(), item.product_id, item.quantity)
                    raise _insufficient([_shortage(line, current or products.get(item.product_id))])
        except BaseException:
            self._give_back(order, intent)
            raise

    def _give_back(self, order: OrderPublic, intent: CheckoutIntent) -> None:
        """Release what the order's reservations took (only what they took: the
        movements are keyed by the order), then drop the intent. Any failure is
        left to the sweeper, which does the same from the intent."""
        try:
            for item in order.items:
                self._products.release(item.product_id, item.quantity, order_id=order.id)
            self._intents.close(intent)
        except Exception as error:
            logger.warning(
                "could not give reserved stock back now; the sweeper will",
                extra={"order_id": str(order.id), "error": repr(error)},
            )

    def _after_commit(self, user_id: UUID, order: OrderPublic, event: DomainEvent) -> None:
        """The order exists now: nothing below may fail the request (a retry would order twice)."""
        try:
            self._carts.forget_if_empty(user_id)  # the ordered lines went with the order's batch
        except CassandraUnavailable:
            logger.warning("order created; the open carts list keeps this user", extra={"order_id": str(order.id)})
        if self._relay is not None:
            self._relay.deliver_soon(event)
        items_count = sum(item.quantity for item in order.items)
        cents = int(order.total * 100)
        count("checkouts_total", outcome="success")
        count("orders_created_total")
        count("cart_value_cents", value=cents, bucket=_bucket(float(order.total), CART_VALUE_BUCKETS))
        count("cart_items_count", value=items_count, bucket=_bucket(items_count, CART_ITEMS_BUCKETS))
        observe("cart_value_distribution", MetricUnit.NoUnit, float(order.total))
        observe("cart_items_count_distribution", MetricUnit.NoUnit, items_count)
        logger.info("order created", extra={"order_id": str(order.id), "total": str(order.total)})


def checkout_once(
    checkout: Checkout,
    *,
    idempotency_store: BasePersistenceLayer,
    user_id: UUID,
    request: CheckoutCreate,
    idempotency_key: str | None,
    context: LambdaContext | None = None,
) -> OrderPublic:
    """Checkout; with a key, at most once per (user, key): a replay answers the
    first order, the same key with another body is 422, while the first is still
    running 409."""
    if idempotency_key is None:
        return checkout.run(user_id, request)
    config = IdempotencyConfig(
        event_key_jmespath="[user_id, key]",
        payload_validation_jmespath="body",
        expires_after_seconds=IDEMPOTENCY_TTL_SECONDS,
        use_local_cache=False,
    )
    if context is not None:
        # Lets a request that dies mid-way free its key when the function times out.
        config.register_lambda_context(context)

    @idempotent_function(  # type: ignore[untyped-decorator]
        data_keyword_argument="data", config=config, persistence_store=idempotency_store
    )
    def run(data: dict[str, Any]) -> dict[str, Any]:
        return checkout.run(user_id, request).model_dump(mode="json")

    data = {"user_id": str(user_id), "key": idempotency_key, "body": request.model_dump(mode="json")}
    try:
        return OrderPublic.model_validate(run(data=data))
    except IdempotencyValidationError as error:
        raise Unprocessable(
            "this Idempotency-Key was used with a different request body",
            details={"header": "Idempotency-Key"},
        ) from error
    except IdempotencyAlreadyInProgressError as error:
        raise Conflict(
            "a checkout with this Idempotency-Key is still in progress; retry shortly",
            details={"header": "Idempotency-Key"},
        ) from error
    except IdempotencyPersistenceLayerError as error:
        if isinstance(error.__cause__, CassandraUnavailable):
            raise error.__cause__ from error
        raise
