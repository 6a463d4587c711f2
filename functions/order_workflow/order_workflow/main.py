"""Task handlers of the order lifecycle state machine.

The state machine passes `{"task": NAME, "order_id": ..., ...}`; each task
returns data that the machine branches on (business outcomes are data, not
exception names, which not every Step Functions implementation preserves).
The logic lives in `store.workflow`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from uuid import UUID

from aws_lambda_powertools.utilities.typing import LambdaContext

from store.observability import logger, metrics
from store.profiling import profiled
from store.tracing import context_of, flushed, span
from store.warmup import is_warmup, warm_up
from store.wiring import wiring
from store.workflow import OrderWorkflow

Task = Callable[[OrderWorkflow, dict[str, Any]], dict[str, Any]]


def _order_id(payload: dict[str, Any]) -> UUID:
    return UUID(str(payload["order_id"]))


TASKS: dict[str, Task] = {
    "authorize_payment": lambda flow, p: flow.authorize_payment(_order_id(p)),
    "transition": lambda flow, p: flow.transition(_order_id(p), p["expected"], p["target"], p.get("reason")).as_dict(),
    "compensate": lambda flow, p: flow.compensate(_order_id(p), _cause(p.get("error"))),
    "reconcile": lambda flow, p: flow.reconcile(_order_id(p)),
    "purge": lambda flow, p: flow.purge(_order_id(p)),
}


def _cause(error: Any) -> str:
    """A short reason from a caught error (`{"Error", "Cause"}`)."""
    if isinstance(error, dict):
        return str(error.get("Error") or "error")
    return "error"


@profiled
@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics  # flushes the per-invocation metrics (Cassandra query times)
@flushed
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    if is_warmup(event):
        warm_up()
        return {"warmed": True}
    task = TASKS.get(event.get("task", ""))
    if task is None:
        raise ValueError(f"unknown task {event.get('task')!r}; known: {sorted(TASKS)}")
    logger.append_keys(order_id=event.get("order_id"), task=event["task"])
    # `trace`: the context the starter put into the execution input (`$.trace`).
    with span(f"task {event['task']}", context=context_of(event.get("trace")), order_id=event.get("order_id")):
        return task(wiring().order_workflow, event)
