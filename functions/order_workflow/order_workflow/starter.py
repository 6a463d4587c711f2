"""SQS consumer of `OrderCreated`: starts the order's lifecycle execution.

The execution name is the order id, so a redelivered event starts nothing
twice (ExecutionAlreadyExists). Each record on its own (partial batch
responses); a record that keeps failing lands in the queue's DLQ.
"""

from __future__ import annotations

import os
from functools import lru_cache
from typing import Any

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from store.events import DomainEvent
from store.observability import logger
from store.warmup import is_warmup, warm_up
from store.workflow import StepFunctionsControl

processor = BatchProcessor(event_type=EventType.SQS)


@lru_cache(maxsize=1)
def _control() -> StepFunctionsControl:
    return StepFunctionsControl(os.environ["ORDER_STATE_MACHINE_ARN"])


def _scale() -> float:
    return float(os.environ.get("ORDER_TIME_SCALE", "1"))


def handle_record(record: SQSRecord) -> None:
    event = DomainEvent.model_validate_json(record.body)
    if event.type != "OrderCreated":
        return
    started = _control().start(event.order_id, _scale())
    logger.info(
        "order execution " + ("started" if started else "already exists"), extra={"order_id": str(event.order_id)}
    )


@logger.inject_lambda_context(clear_state=True)
def handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    if is_warmup(event):
        warm_up(database=False)  # starts executions; no Cassandra here
        return {"batchItemFailures": []}
    return process_partial_response(event=event, record_handler=handle_record, processor=processor, context=context)
