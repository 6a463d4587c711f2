"""JSON schemas of what the store publishes, generated from its pydantic models.

`order_event.schema.json` is the contract of the messages on SNS `order-events`:
the envelope (`store.events.DomainEvent`) and, per event type, its payload.
Regenerate it after a model change with

    .venv/bin/python -m store.schemas.generate

and the contract tests (tests/contract) fail until the file matches.
"""

from __future__ import annotations

import json
from importlib import resources
from typing import Any

from pydantic import BaseModel

from store.events import DomainEvent
from store.orders import OrderPublic, OrderStatus

ORDER_EVENT_SCHEMA = "order_event.schema.json"


class OrderCreatedPayload(BaseModel):
    order: OrderPublic


class OrderStatusChangedPayload(BaseModel):
    status: OrderStatus
    previous_status: OrderStatus | None = None
    reason: str | None = None


PAYLOADS: dict[str, type[BaseModel]] = {
    "OrderCreated": OrderCreatedPayload,
    "OrderStatusChanged": OrderStatusChangedPayload,
}


def order_event_schema() -> dict[str, Any]:
    schema = DomainEvent.model_json_schema(mode="serialization")
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["$id"] = "https://product-store.example/schemas/order_event.schema.json"
    defs: dict[str, Any] = schema.setdefault("$defs", {})
    rules = []
    for event_type, model in PAYLOADS.items():
        payload_schema = model.model_json_schema(mode="serialization", ref_template="#/$defs/{model}")
        defs.update(payload_schema.pop("$defs", {}))
        defs[model.__name__] = payload_schema
        rules.append(
            {
                "if": {"properties": {"type": {"const": event_type}}},
                "then": {"properties": {"payload": {"$ref": f"#/$defs/{model.__name__}"}}},
            }
        )
    schema["allOf"] = rules
    return schema


def render(schema: dict[str, Any]) -> str:
    return json.dumps(schema, indent=2, sort_keys=True) + "\n"


def stored_order_event_schema() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(resources.files(__package__).joinpath(ORDER_EVENT_SCHEMA).read_text())
    return loaded
