"""The order events' JSON schema is the contract with every consumer: it matches
the models, and what checkout and status changes publish fits it."""

from __future__ import annotations

import json
import typing
import uuid
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import jsonschema
import pytest

from store.checkout import new_order, order_created_event
from store.events import DomainEvent, EventType
from store.orders import OrderItem, StatusChange, status_changed_event
from store.schemas import PAYLOADS, order_event_schema, render, stored_order_event_schema


@pytest.fixture(scope="module")
def validator() -> jsonschema.Draft202012Validator:
    schema = stored_order_event_schema()
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema, format_checker=jsonschema.FormatChecker())


def _wire(event: DomainEvent) -> dict[str, Any]:
    """The message body exactly as SNS carries it."""
    body: dict[str, Any] = json.loads(event.model_dump_json())
    return body


def _order_created() -> DomainEvent:
    item = OrderItem(product_id=uuid.uuid4(), name="Tea", price=Decimal("2.50"), quantity=2)
    return order_created_event(new_order(uuid.uuid4(), [item], datetime.now(UTC)))


def test_the_stored_schema_matches_the_models() -> None:
    assert render(stored_order_event_schema()) == render(order_event_schema()), (
        "regenerate: .venv/bin/python -m store.schemas.generate"
    )


def test_every_event_type_has_a_payload_schema() -> None:
    assert set(typing.get_args(EventType)) == set(PAYLOADS)


def test_order_created_fits(validator: jsonschema.Draft202012Validator) -> None:
    validator.validate(_wire(_order_created()))


def test_order_status_changed_fits(validator: jsonschema.Draft202012Validator) -> None:
    order = new_order(uuid.uuid4(), [], datetime.now(UTC))
    change = StatusChange(status="CANCELLED", changed_at=datetime.now(UTC), changed_by="user", reason="changed mind")
    event = status_changed_event(order, change)
    assert event.payload == {"status": "CANCELLED", "previous_status": "CREATED", "reason": "changed mind"}
    validator.validate(_wire(event))


@pytest.mark.parametrize(
    "breakage",
    [
        lambda body: body.pop("order_id"),
        lambda body: body.pop("id"),
        lambda body: body.update(type="OrderVanished"),
        lambda body: body.update(version=0),
        lambda body: body.update(user_id="not-a-uuid"),
        lambda body: body.update(payload={}),
        lambda body: body["payload"]["order"].pop("items"),
        lambda body: body["payload"]["order"].update(status="LOST"),
    ],
)
def test_broken_events_do_not_fit(validator: jsonschema.Draft202012Validator, breakage: Any) -> None:
    body = _wire(_order_created())
    breakage(body)
    with pytest.raises(jsonschema.ValidationError):
        validator.validate(body)


def test_status_event_with_an_unknown_status_does_not_fit(validator: jsonschema.Draft202012Validator) -> None:
    body = _wire(DomainEvent(type="OrderStatusChanged", order_id=uuid.uuid4(), user_id=uuid.uuid4(), payload={}))
    with pytest.raises(jsonschema.ValidationError):
        validator.validate(body)
    body["payload"] = {"status": "TELEPORTED"}
    with pytest.raises(jsonschema.ValidationError):
        validator.validate(body)
