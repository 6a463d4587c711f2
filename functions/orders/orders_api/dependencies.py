"""FastAPI dependencies of the orders routes: the collaborators from the store's
wiring (overridable in tests with `app.dependency_overrides`)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from store.orders import OrderActions, OrderRepository
from store.wiring import wiring


def _orders() -> OrderRepository:
    return wiring().orders


def _order_actions() -> OrderActions:
    return wiring().order_actions


OrdersDep = Annotated[OrderRepository, Depends(_orders)]
OrderActionsDep = Annotated[OrderActions, Depends(_order_actions)]
