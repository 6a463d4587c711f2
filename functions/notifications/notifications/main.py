"""SQS consumer of order events: writes the user's inbox.

Each record is handled on its own (Powertools BatchProcessor): a record that
fails is reported back as a partial batch failure, retried, and after the
queue's maxReceiveCount lands in the dead-letter queue while the rest of its
batch is processed.
"""

from __future__ import annotations

import os
from functools import lru_cache
from typing import Any

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from store.channels import Channel, SesEmail, SnsSms, send_all
from store.db import get_database
from store.events import DomainEvent
from store.idempotency import ProcessedEvents
from store.notifications import NotificationInbox, render_message
from store.observability import count, logger, metrics
from store.users import UserRepository
from store.warmup import is_warmup, warm_up

CONSUMER = "notifications"
processor = BatchProcessor(event_type=EventType.SQS)


def _language() -> str:
    """The language of the messages (template parameter NotificationsLanguage: en or ru)."""
    return os.environ.get("NOTIFICATIONS_LANGUAGE", "en")


@lru_cache(maxsize=1)
def _channels() -> list[Channel]:
    """Email when a sender is configured (NOTIFICATIONS_SENDER, verified in SES); SMS always."""
    sender = os.environ.get("NOTIFICATIONS_SENDER")
    return [*([SesEmail(sender)] if sender else []), SnsSms()]


def handle_record(record: SQSRecord) -> None:
    event = DomainEvent.model_validate_json(record.body)
    database = get_database()
    processed = ProcessedEvents(database, CONSUMER)
    if not processed.claim(event.id):
        logger.info("duplicate event skipped", extra={"event_id": str(event.id)})
        return
    try:
        message = render_message(event, _language())
        NotificationInbox(database).add(event.user_id, event, message)
    except Exception:
        processed.release(event.id)
        count("notifications_sent_total", channel="inbox", outcome="failed")
        raise
    count("notifications_sent_total", channel="inbox", outcome="sent")
    user = UserRepository(database).get(event.user_id)
    if user is not None:
        send_all(_channels(), user, message, _language())
    logger.info("notification stored", extra={"event_id": str(event.id), "order_id": str(event.order_id)})


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    if is_warmup(event):
        warm_up()
        return {"batchItemFailures": []}
    return process_partial_response(event=event, record_handler=handle_record, processor=processor, context=context)
