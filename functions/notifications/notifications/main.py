"""SQS consumer of order events: writes the user's inbox.

Each record is handled on its own (Powertools BatchProcessor): a record that
fails is reported back as a partial batch failure, retried, and after the
queue's maxReceiveCount lands in the dead-letter queue while the rest of its
batch is processed.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from store.db import get_database
from store.events import DomainEvent
from store.idempotency import ProcessedEvents
from store.notifications import NotificationInbox, render_message
from store.observability import logger, metrics

CONSUMER = "notifications"
processor = BatchProcessor(event_type=EventType.SQS)


def handle_record(record: SQSRecord) -> None:
    event = DomainEvent.model_validate_json(record.body)
    database = get_database()
    processed = ProcessedEvents(database, CONSUMER)
    if not processed.claim(event.id):
        logger.info("duplicate event skipped", extra={"event_id": str(event.id)})
        return
    try:
        NotificationInbox(database).add(event.user_id, event, render_message(event))
    except Exception:
        processed.release(event.id)
        raise
    metrics.add_metric(name="notifications_sent_total", unit=MetricUnit.Count, value=1)
    logger.info("notification stored", extra={"event_id": str(event.id), "order_id": str(event.order_id)})


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    return process_partial_response(event=event, record_handler=handle_record, processor=processor, context=context)
