"""Pure parts of the order lifecycle: payment rules, timings, message templates."""

from __future__ import annotations

import json
import uuid
from decimal import Decimal
from pathlib import Path

import pytest

from store.aws import execution_arn
from store.events import DomainEvent
from store.notifications import render_message
from store.payments import SimulatedProvider, TransientPaymentError
from store.workflow import execution_input

ASL = Path(__file__).parents[2] / "statemachines" / "order_lifecycle.asl.json"


def test_the_simulated_provider_decides_by_deterministic_rules() -> None:
    provider = SimulatedProvider(decline_above=Decimal("1000.00"))
    order = uuid.uuid4()
    assert provider.authorize(order, Decimal("10.00"), 1).outcome == "approved"
    assert provider.authorize(order, Decimal("10.13"), 1).outcome == "declined"
    declined = provider.authorize(order, Decimal("1000.01"), 1)
    assert (declined.outcome, declined.reason) == ("declined", "amount 1000.01 exceeds the card limit")
    for attempt in (1, 2):
        with pytest.raises(TransientPaymentError):
            provider.authorize(order, Decimal("10.42"), attempt)
    assert provider.authorize(order, Decimal("10.42"), 3).outcome == "approved"


def test_execution_input_scales_the_seed_timings_and_draws_delivery_from_the_order_id() -> None:
    order = uuid.uuid4()
    full = execution_input(order, 1.0)["timings"]
    assert (full["processing_delay_seconds"], full["shipping_delay_seconds"], full["retention_seconds"]) == (5, 5, 300)
    assert 60 <= full["delivery_seconds"] <= 300
    assert execution_input(order, 1.0) == execution_input(order, 1.0)  # a redelivery draws the same
    small = execution_input(order, 0.02)["timings"]
    assert (small["processing_delay_seconds"], small["retention_seconds"]) == (1, 6)  # at least 1 s each
    assert 2 <= small["delivery_seconds"] <= 6


def test_execution_arn_is_named_by_the_order() -> None:
    order = uuid.uuid4()
    machine = "arn:aws:states:us-east-1:000000000000:stateMachine:OrderLifecycle-abc"
    assert (
        execution_arn(machine, order) == f"arn:aws:states:us-east-1:000000000000:execution:OrderLifecycle-abc:{order}"
    )


def test_messages_in_english_and_russian() -> None:
    event = DomainEvent(
        type="OrderStatusChanged", order_id=uuid.uuid4(), user_id=uuid.uuid4(), payload={"status": "SHIPPING"}
    )
    assert render_message(event) == f"Your order {event.order_id} changed status to: SHIPPING"
    assert render_message(event, "ru") == f"Ваш заказ {event.order_id} изменил статус на: SHIPPING"


def test_every_state_machine_transition_points_at_a_state() -> None:
    states = json.loads(ASL.read_text())["States"]
    targets: set[str] = set()
    for state in states.values():
        targets.update(filter(None, [state.get("Next"), state.get("Default")]))
        targets.update(choice["Next"] for choice in state.get("Choices", []))
        targets.update(catch["Next"] for catch in state.get("Catch", []))
    assert targets <= set(states)
    assert {"Purged", "Declined", "Superseded", "Failed"} <= set(states)


def test_the_executions_view_pairs_state_entries_with_exits() -> None:
    from datetime import UTC, datetime, timedelta  # noqa: PLC0415

    from storectl.executions import current_state, timeline  # noqa: PLC0415

    t0 = datetime(2026, 1, 1, tzinfo=UTC)

    def at(seconds: float) -> datetime:
        return t0 + timedelta(seconds=seconds)

    events = [
        {"id": 1, "type": "ExecutionStarted", "timestamp": at(0)},
        {"id": 2, "type": "WaitStateEntered", "timestamp": at(0), "stateEnteredEventDetails": {"name": "Wait"}},
        {"id": 3, "type": "WaitStateExited", "timestamp": at(1), "stateExitedEventDetails": {"name": "Wait"}},
        {"id": 4, "type": "TaskStateEntered", "timestamp": at(1), "stateEnteredEventDetails": {"name": "Pay"}},
    ]
    spans = timeline(events)
    assert [(span.name, span.seconds) for span in spans] == [("Wait", 1.0), ("Pay", None)]
    assert current_state(spans) == "Pay"


def test_every_task_retries_for_minutes_with_jitter_before_compensating() -> None:
    """A Cassandra outage of a few minutes must not cancel orders: each task's
    retries add up to minutes (capped at a minute each, with full jitter)."""
    definition = json.loads(ASL.read_text())
    tasks = {name: state for name, state in definition["States"].items() if state["Type"] == "Task"}
    for name, state in tasks.items():
        if name == "Compensate":
            continue
        [retry] = [r for r in state["Retry"] if r["ErrorEquals"] == ["States.TaskFailed"]]
        delays = [
            min(retry["IntervalSeconds"] * retry["BackoffRate"] ** attempt, retry["MaxDelaySeconds"])
            for attempt in range(retry["MaxAttempts"])
        ]
        assert sum(delays) >= 180, name
        assert retry["JitterStrategy"] == "FULL", name
