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
from datetime import datetime
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

from store.cart import CART_ITEMS_BUCKETS, CART_VALUE_BUCKETS, CartLine
from store.catalog import ProductPublic
from store.clock import Clock, to_ms, utc_now
from store.db import CassandraUnavailable
from store.errors import BadRequest, Conflict, NotFound, Unprocessable
from store.events import DomainEvent
from store.money import Amount
from store.observability import count, logger
from store.orders import OrderItem, OrderPublic, StatusChange, order_total
from store.outbox import OutboxRelay
from store.ports import CartLines, OrderStore, ProductStock

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


def batch_will_apply(error: BaseException) -> bool:
    """A logged batch that timed out after its batch log was written (write type
    BATCH) is replayed by Cassandra: it will be applied, so its stock stays taken."""
    cause = error.__cause__ if isinstance(error, CassandraUnavailable) else error
    return isinstance(cause, WriteTimeout) and cause.write_type == WriteType.BATCH


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
        relay: OutboxRelay | None,
        clock: Clock = utc_now,
    ) -> None:
        self._carts = carts
        self._products = products
        self._orders = orders
        self._relay = relay
        self._clock = clock

    def run(self, user_id: UUID, request: CheckoutCreate) -> OrderPublic:
        lines = self._carts.lines(user_id)
        if not lines:
            raise BadRequest("your cart is empty")
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
        self._reserve_all(items, products)
        order = new_order(user_id, items, self._clock())
        event = order_created_event(order)
        try:
            self._orders.create(order, event)
        except BaseException as error:
            if batch_will_apply(error):
                # The batch log holds the order and will write it: the stock is its.
                logger.error("order batch timed out after reaching the batch log", extra={"order_id": str(order.id)})
            else:
                self._release(items)
            raise
        self._after_commit(user_id, order, event)
        return order

    def _reserve_all(self, items: list[OrderItem], products: dict[UUID, ProductPublic]) -> None:
        reserved: list[OrderItem] = []
        try:
            for item in items:
                try:
                    taken = self._products.reserve(item.product_id, item.quantity)
                except NotFound:
                    taken = False
                if not taken:
                    count("stock_validation_failures", stage="reserve")
                    count("checkouts_total", outcome="insufficient_stock")
                    current = self._products.get(item.product_id)
                    line = CartLine(uuid.uuid4(), item.product_id, item.quantity)
                    raise _insufficient([_shortage(line, current or products.get(item.product_id))])
                reserved.append(item)
        except BaseException:
            self._release(reserved)
            raise

    def _release(self, items: list[OrderItem]) -> None:
        for item in items:
            try:
                self._products.release(item.product_id, item.quantity)
            except Exception:
                logger.exception(
                    "could not release reserved stock",
                    extra={"product_id": str(item.product_id), "units": item.quantity},
                )

    def _after_commit(self, user_id: UUID, order: OrderPublic, event: DomainEvent) -> None:
        """The order exists now: nothing below may fail the request (a retry would order twice)."""
        try:
            self._carts.remove_products(user_id, [item.product_id for item in order.items])
        except CassandraUnavailable:
            logger.warning("order created but the cart could not be cleared", extra={"order_id": str(order.id)})
        if self._relay is not None:
            self._relay.deliver_soon(event)
        items_count = sum(item.quantity for item in order.items)
        cents = int(order.total * 100)
        count("checkouts_total", outcome="success")
        count("orders_created_total")
        count("cart_value_cents", value=cents, bucket=_bucket(float(order.total), CART_VALUE_BUCKETS))
        count("cart_items_count", value=items_count, bucket=_bucket(items_count, CART_ITEMS_BUCKETS))
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
