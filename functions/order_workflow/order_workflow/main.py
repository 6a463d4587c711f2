"""Task handlers of the order lifecycle state machine.

The state machine passes `{"task": NAME, ...}`; each task returns data that the
machine branches on (business outcomes are data, not exception names, which
are not preserved by every Step Functions implementation).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from store.db import get_database
from store.observability import logger

Task = Callable[[dict[str, Any]], dict[str, Any]]


def check_dependencies(payload: dict[str, Any]) -> dict[str, Any]:
    get_database().ping()
    return {"order_id": payload.get("order_id"), "cassandra": "up", "checked_at": datetime.now(UTC).isoformat()}


TASKS: dict[str, Task] = {"check_dependencies": check_dependencies}


@logger.inject_lambda_context(clear_state=True)
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    task = TASKS.get(event.get("task", ""))
    if task is None:
        raise ValueError(f"unknown task {event.get('task')!r}; known: {sorted(TASKS)}")
    logger.append_keys(order_id=event.get("order_id"), task=event["task"])
    return task(event)
