from __future__ import annotations

import uuid

import pytest
from pydantic import ValidationError

from store.events import DomainEvent
from store.notifications import render_message


def _event(**overrides: object) -> DomainEvent:
    fields: dict[str, object] = {
        "type": "OrderStatusChanged",
        "order_id": uuid.uuid4(),
        "user_id": uuid.uuid4(),
        "payload": {"status": "DELIVERED"},
    }
    return DomainEvent.model_validate(fields | overrides)


def test_event_round_trips_through_json() -> None:
    event = _event()
    assert DomainEvent.model_validate_json(event.model_dump_json()) == event


@pytest.mark.parametrize("change", [{"type": "Nope"}, {"order_id": "x"}, {"surprise": 1}, {"version": 0}])
def test_malformed_events_are_rejected(change: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        _event(**change)


def test_messages_in_english_and_russian() -> None:
    event = _event()
    assert render_message(event) == f"Your order {event.order_id} changed status to: DELIVERED"
    assert render_message(event, "ru") == f"Ваш заказ {event.order_id} изменил статус на: DELIVERED"
    assert render_message(event, "xx") == render_message(event, "en")


def test_sns_attributes_carry_the_type_for_filter_policies() -> None:
    assert _event().sns_attributes() == {"event_type": {"DataType": "String", "StringValue": "OrderStatusChanged"}}
