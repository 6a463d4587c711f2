"""Domain events carried on SNS `order-events`: one envelope for every type."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any, Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from store.tracing import carrier

EventType = Literal["OrderCreated", "OrderStatusChanged"]


class DomainEvent(BaseModel):
    # On the wire every field is present (defaults are filled in): the schema says so.
    model_config = ConfigDict(extra="forbid", frozen=True, json_schema_serialization_defaults_required=True)

    id: UUID = Field(default_factory=uuid.uuid4)
    type: EventType
    version: int = Field(default=1, ge=1)
    occurred_at: datetime = Field(default_factory=lambda: datetime.now(UTC))
    order_id: UUID
    user_id: UUID
    payload: dict[str, Any] = Field(default_factory=dict)
    # W3C trace context of the operation that caused the event (`traceparent`,
    # `tracestate`); empty when not traced. The outbox row carries it in the body.
    trace: dict[str, str] = Field(default_factory=carrier)

    def sns_attributes(self) -> dict[str, dict[str, str]]:
        """Message attributes that subscriptions filter on."""
        return {"event_type": {"DataType": "String", "StringValue": self.type}}
