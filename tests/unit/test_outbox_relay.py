"""The outbox relay with an in-memory outbox and publisher: the sweep, leases,
and each collaborator failing (nothing lost; a duplicate at worst)."""

from __future__ import annotations

import time
import uuid
from datetime import timedelta

import pybreaker
import pytest

from fakes import FakePublisher, World
from store.db import CassandraUnavailable
from store.events import DomainEvent
from store.outbox import OutboxRelay


@pytest.fixture
def world() -> World:
    return World()


def _events(world: World, count: int) -> list[DomainEvent]:
    events = [
        DomainEvent(type="OrderCreated", order_id=uuid.uuid4(), user_id=uuid.uuid4(), occurred_at=world.clock())
        for _ in range(count)
    ]
    for event in events:
        world.outbox.write(event)
    world.faults.calls.clear()
    return events


def test_a_sweep_publishes_every_pending_event_in_order(world: World) -> None:
    events = _events(world, 3)
    assert world.relay.sweep().as_dict() == {"published": 3, "failed": 0, "skipped": 0}
    assert world.publisher.event_ids() == [event.id for event in events]
    assert world.publisher.published[0][0] == "OrderCreated"
    assert world.outbox.rows == {}


def test_an_event_leased_by_another_relay_is_skipped(world: World) -> None:
    [event] = _events(world, 1)
    row = world.outbox.pending()[0]
    assert world.outbox.lease(row, world.clock())  # another relay holds it
    assert world.relay.sweep().as_dict() == {"published": 0, "failed": 0, "skipped": 1}
    assert world.publisher.published == []
    world.clock.now += timedelta(seconds=31)  # its lease runs out
    assert world.relay.sweep().published == 1
    assert world.publisher.event_ids() == [event.id]


def test_sns_down_leaves_the_event_pending_and_free_for_the_next_sweep(world: World) -> None:
    [event] = _events(world, 1)
    world.faults.fail("publisher.publish", error=ConnectionError("sns is down"))
    assert world.relay.sweep().as_dict() == {"published": 0, "failed": 1, "skipped": 0}
    assert world.outbox.rows[event.id].lease_until is None
    world.faults.clear()
    assert world.relay.sweep().published == 1
    assert world.publisher.event_ids() == [event.id]


@pytest.mark.parametrize("call", ["outbox.pending", "outbox.lease"])
def test_a_database_failure_before_publishing_publishes_nothing(world: World, call: str) -> None:
    [event] = _events(world, 1)
    world.faults.fail(call)
    with pytest.raises(CassandraUnavailable):
        world.relay.sweep()
    assert world.publisher.published == []
    world.faults.clear()
    world.relay.sweep()
    assert world.publisher.event_ids() == [event.id]


def test_a_failure_after_publishing_publishes_again_later_never_loses_it(world: World) -> None:
    [event] = _events(world, 1)
    world.faults.fail("outbox.mark_sent")
    with pytest.raises(CassandraUnavailable):
        world.relay.sweep()
    world.faults.clear()
    world.clock.now += timedelta(seconds=31)
    world.relay.sweep()
    # At least once: consumers deduplicate on the event id.
    assert world.publisher.event_ids() == [event.id, event.id]
    assert world.outbox.rows == {}


def test_the_fast_path_never_fails_its_caller(world: World) -> None:
    [event] = _events(world, 1)
    world.faults.fail("outbox.lease")
    world.relay.deliver_soon(event)
    assert event.id in world.outbox.rows


class OutagePublisher:
    """SNS down (every publish fails) while `down`."""

    def __init__(self, publisher: FakePublisher) -> None:
        self.publisher = publisher
        self.down = False
        self.attempts = 0

    def publish(self, event_type: str, body: str) -> None:
        self.attempts += 1
        if self.down:
            raise ConnectionError("sns is down")
        self.publisher.publish(event_type, body)


def test_the_publish_breaker_opens_stops_the_sweep_and_closes_when_sns_is_back(world: World) -> None:
    publisher = OutagePublisher(world.publisher)
    breaker = pybreaker.CircuitBreaker(fail_max=2, reset_timeout=0.2, name="outbox_publish")
    relay = OutboxRelay(world.outbox, publisher, world.clock, breaker=breaker)
    events = _events(world, 5)
    publisher.down = True
    first = relay.sweep()
    # Two failures open it; the sweep then stops instead of trying the other three.
    assert (first.failed, first.published, relay.breaker_state) == (2, 0, "open")
    assert publisher.attempts == 2
    assert all(row.lease_until is None for row in world.outbox.rows.values())
    publisher.down = False
    # Still open: refused without calling SNS, though SNS is back.
    assert relay.sweep().as_dict() == {"published": 0, "failed": 1, "skipped": 0}
    assert publisher.attempts == 2
    time.sleep(0.25)
    # After the reset timeout one trial call goes through and closes it.
    assert relay.sweep().published == 5
    assert relay.breaker_state == "closed"
    assert world.publisher.event_ids() == [event.id for event in events]
