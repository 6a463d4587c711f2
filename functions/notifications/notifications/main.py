"""SQS consumer of order events: the user's inbox, then email and SMS.

Each record is handled on its own (Powertools BatchProcessor): a record that
fails is reported back as a partial batch failure, retried, and after the
queue's maxReceiveCount lands in the dead-letter queue while the rest of its
batch is processed. The logic is `store.notifications.Notifier`.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from store.events import DomainEvent
from store.observability import consumer_lag, logger, metrics
from store.profiling import profiled
from store.tracing import SpanKind, flushed, from_sqs, span
from store.warmup import is_warmup, warm_up
from store.wiring import wiring

processor = BatchProcessor(event_type=EventType.SQS)


def handle_record(record: SQSRecord) -> None:
    consumer_lag("notifications", record.attributes.sent_timestamp)
    event = DomainEvent.model_validate_json(record.body)
    context = from_sqs(record.raw_event, event.trace)
    with span(f"consume {event.type}", context=context, kind=SpanKind.CONSUMER, order_id=event.order_id):
        wiring().notifier.handle(event)


@profiled
@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
@flushed
def handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    if is_warmup(event):
        warm_up()
        return {"batchItemFailures": []}
    return process_partial_response(event=event, record_handler=handle_record, processor=processor, context=context)
