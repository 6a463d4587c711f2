"""FastAPI dependencies of the orders routes (overridable in tests)."""

from __future__ import annotations

import os
from functools import lru_cache
from typing import Annotated

from fastapi import Depends

from store.config import get_settings
from store.db import Database, get_database
from store.orders import OrderActions, OrderRepository, WorkflowControl
from store.outbox import OutboxRelay, relay_for
from store.payments import PaymentLedger, SimulatedProvider
from store.workflow import StepFunctionsControl


@lru_cache(maxsize=1)
def _relay() -> OutboxRelay | None:
    # One SNS client per process: creating it costs more than a publish.
    return relay_for(get_database(), get_settings())


@lru_cache(maxsize=1)
def _workflow() -> WorkflowControl | None:
    arn = os.environ.get("ORDER_STATE_MACHINE_ARN")
    return StepFunctionsControl(arn) if arn else None


def _orders(database: Annotated[Database, Depends(get_database)]) -> OrderRepository:
    return OrderRepository(database)


def _actions(database: Annotated[Database, Depends(get_database)]) -> OrderActions:
    payments = PaymentLedger(database, SimulatedProvider.from_environment())
    return OrderActions(database, _relay(), payments=payments, workflow=_workflow())


Orders = Annotated[OrderRepository, Depends(_orders)]
Actions = Annotated[OrderActions, Depends(_actions)]
