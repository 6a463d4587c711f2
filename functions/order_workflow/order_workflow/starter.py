"""SQS consumer of `OrderCreated`: starts the order's lifecycle execution.

The execution name is the order id, so a redelivered event starts nothing
twice (ExecutionAlreadyExists). Each record on its own (partial batch
responses); a record that keeps failing lands in the queue's DLQ.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from store.events import DomainEvent
from store.observability import consumer_lag, logger
from store.profiling import profiled
from store.tracing import SpanKind, flushed, from_sqs, span
from store.warmup import is_warmup, warm_up
from store.wiring import wiring

processor = BatchProcessor(event_type=EventType.SQS)


def handle_record(record: SQSRecord) -> None:
    consumer_lag("order_starter", record.attributes.sent_timestamp)
    event = DomainEvent.model_validate_json(record.body)
    if event.type != "OrderCreated":
        return
    context = from_sqs(record.raw_event, event.trace)
    with span("start lifecycle", context=context, kind=SpanKind.CONSUMER, order_id=event.order_id):
        started = wiring().lifecycle_starter.start(event.order_id)
    logger.info(
        "order execution " + ("started" if started else "already exists"), extra={"order_id": str(event.order_id)}
    )


@profiled
@logger.inject_lambda_context(clear_state=True)
@flushed
def handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    if is_warmup(event):
        warm_up(database=False)  # starts executions; no Cassandra here
        return {"batchItemFailures": []}
    return process_partial_response(event=event, record_handler=handle_record, processor=processor, context=context)
