"""The outbox relay: publishes pending order events to SNS `order-events`.

Runs on a schedule (EventBridge, every minute) as the sweep that catches every
event the checkout's fast path could not publish (SNS down, a crash). Invoking
it by hand runs one sweep too.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.typing import LambdaContext

from store.observability import logger, metrics
from store.wiring import wiring


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    relay = wiring().relay
    if relay is None:
        logger.warning("ORDER_EVENTS_TOPIC_ARN is not set; nothing to publish to")
        return {"published": 0, "failed": 0, "skipped": 0}
    result = relay.sweep()
    metrics.add_metric(name="outbox_published_total", unit=MetricUnit.Count, value=result.published)
    metrics.add_metric(name="outbox_publish_failures_total", unit=MetricUnit.Count, value=result.failed)
    logger.info("outbox sweep", extra=result.as_dict())
    return result.as_dict()
