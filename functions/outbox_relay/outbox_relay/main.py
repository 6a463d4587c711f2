"""The sweeper: completes what requests and crashes left undone.

Runs on a schedule (EventBridge, every minute); invoking it by hand runs one
sweep too. In order: checkout intents past their deadline (stock of orders
that were never written goes back), orders with work left after a status
change (events, stock back, refunds, stopping executions), then pending outbox
events to SNS `order-events` (what the fast path could not publish).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from store.clock import utc_now
from store.observability import MetricUnit, logger, metrics, observe
from store.profiling import profiled
from store.tracing import flushed
from store.wiring import wiring

# A cart left alone this long counts as abandoned (the seeds' cart_abandonment).
CART_ABANDONED_AFTER = timedelta(days=1)


@profiled
@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
@flushed
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    store = wiring()
    reservations = store.reservation_sweeper.sweep()
    logger.info("reservations sweep", extra=reservations)
    work = store.order_completer.sweep()
    logger.info("order work sweep", extra=work)
    abandoned = store.carts.abandoned(utc_now() - CART_ABANDONED_AFTER)
    observe("cart_abandonment", MetricUnit.Count, abandoned)
    relay = store.relay
    if relay is None:
        logger.warning("ORDER_EVENTS_TOPIC_ARN is not set; nothing to publish to")
        return {"published": 0, "failed": 0, "skipped": 0, "reservations": reservations, "order_work": work}
    result = relay.sweep()
    metrics.add_metric(name="outbox_published_total", unit=MetricUnit.Count, value=result.published)
    metrics.add_metric(name="outbox_publish_failures_total", unit=MetricUnit.Count, value=result.failed)
    # The publish breaker's state in this worker after the sweep (store.breakers).
    swept = result.as_dict() | {"breaker": relay.breaker_state}
    logger.info("outbox sweep", extra=swept)
    return swept | {"reservations": reservations, "order_work": work}
