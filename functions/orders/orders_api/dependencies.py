"""FastAPI dependencies of the orders routes: the collaborators from the store's
wiring (overridable in tests with `app.dependency_overrides`)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from store.order_payments import OrderPayments
from store.orders import OrderActions, OrderRepository
from store.wiring import wiring


def _orders() -> OrderRepository:
    return wiring().orders


def _order_actions() -> OrderActions:
    return wiring().order_actions


def _order_payments() -> OrderPayments:
    return wiring().order_payments


OrdersDep = Annotated[OrderRepository, Depends(_orders)]
OrderActionsDep = Annotated[OrderActions, Depends(_order_actions)]
OrderPaymentsDep = Annotated[OrderPayments, Depends(_order_payments)]
