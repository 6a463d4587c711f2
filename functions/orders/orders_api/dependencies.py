"""FastAPI dependencies of the orders routes (overridable in tests)."""

from __future__ import annotations

from functools import lru_cache
from typing import Annotated

from fastapi import Depends

from store.config import get_settings
from store.db import Database, get_database
from store.orders import OrderActions, OrderRepository
from store.outbox import OutboxRelay, relay_for


@lru_cache(maxsize=1)
def _relay() -> OutboxRelay | None:
    # One SNS client per process: creating it costs more than a publish.
    return relay_for(get_database(), get_settings())


def _orders(database: Annotated[Database, Depends(get_database)]) -> OrderRepository:
    return OrderRepository(database)


def _actions(database: Annotated[Database, Depends(get_database)]) -> OrderActions:
    return OrderActions(database, _relay())


Orders = Annotated[OrderRepository, Depends(_orders)]
Actions = Annotated[OrderActions, Depends(_actions)]
